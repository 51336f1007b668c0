package kernels

import (
	"strings"
	"testing"
)

// TestPathsReport logs the paths this machine and build can run (CI prints
// the line to show which paths the tests above exercised) and checks that
// selecting a path selects that path's own kernels rather than another's.
func TestPathsReport(t *testing.T) {
	var names []string
	for _, p := range AvailablePaths() {
		names = append(names, p.String())
	}
	t.Logf("kernel paths tested: %s (default %s; CPU %s)", strings.Join(names, ", "), Best(), CPUName())
	for _, p := range AvailablePaths() {
		pp := paramsFor(p)
		switch p {
		case Generic:
			if pp != genericParams {
				t.Errorf("generic path uses the %d×%d GEMM kernel", pp.mr, pp.nr)
			}
			if convTable[p] != nil {
				t.Errorf("generic path has direct convolution kernels")
			}
		case AVX2:
			if pp.mr != 6 || pp.nr != 16 || convTable[p].lanes != 8 {
				t.Errorf("avx2 path: %d×%d GEMM, %d-float conv vectors", pp.mr, pp.nr, convTable[p].lanes)
			}
		case AVX512:
			if pp.mr != 12 || pp.nr != 32 || convTable[p].lanes != 16 {
				t.Errorf("avx512 path: %d×%d GEMM, %d-float conv vectors", pp.mr, pp.nr, convTable[p].lanes)
			}
		}
	}
}
