package kernels

import (
	"fmt"
	"os"
	"strings"

	"github.com/klauspost/cpuid/v2"
)

// Path names an implementation family of the kernels.
type Path int

const (
	// Generic is the pure-Go implementation, available everywhere.
	Generic Path = iota
	// AVX2 is the AVX2+FMA assembly implementation.
	AVX2
	// AVX512 is the AVX-512F assembly implementation.
	AVX512
	// NEON is the arm64 Advanced SIMD (ASIMD) assembly implementation.
	NEON

	// numPaths is the number of paths, for tables indexed by Path.
	numPaths
)

// String returns the name used by SPAD_KERNELS for the path.
func (p Path) String() string {
	switch p {
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	case NEON:
		return "neon"
	default:
		return "generic"
	}
}

// ParsePath converts a name (generic, avx2, avx512, neon) into a Path.
func ParsePath(s string) (Path, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "generic", "go", "noasm":
		return Generic, nil
	case "avx2":
		return AVX2, nil
	case "avx512":
		return AVX512, nil
	case "neon", "asimd":
		return NEON, nil
	}
	return Generic, fmt.Errorf("kernels: unknown path %q (valid: generic, avx2, avx512, neon)", s)
}

// active is the path in use; it is set once by init and changed only by
// SetPath (tests and benchmarks).
var active Path

// Available reports whether path p can run on this CPU with this build.
func Available(p Path) bool {
	switch p {
	case Generic:
		return true
	case AVX2:
		return haveAsmAVX2 && cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3)
	case AVX512:
		return haveAsmAVX512 && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512DQ)
	case NEON:
		return haveAsmNEON && cpuid.CPU.Supports(cpuid.ASIMD)
	}
	return false
}

// AvailablePaths lists every path that can run here, generic first.
func AvailablePaths() []Path {
	var ps []Path
	for _, p := range []Path{Generic, AVX2, AVX512, NEON} {
		if Available(p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// Best returns the fastest path that can run here.
func Best() Path {
	switch {
	case Available(AVX512):
		return AVX512
	case Available(AVX2):
		return AVX2
	case Available(NEON):
		return NEON
	}
	return Generic
}

// Active returns the path the kernels currently use.
func Active() Path { return active }

// SetPath forces path p. It returns an error, and changes nothing, if p
// cannot run on this machine. It must not be called while kernels run.
func SetPath(p Path) error {
	if !Available(p) {
		return fmt.Errorf("kernels: path %s is not available on this CPU/build", p)
	}
	active = p
	return nil
}

// CPUName describes the processor, for benchmark reports.
func CPUName() string { return cpuid.CPU.BrandName }

func init() {
	active = Best()
	if s := os.Getenv("SPAD_KERNELS"); s != "" {
		p, err := ParsePath(s)
		if err == nil && Available(p) {
			active = p
		} else {
			fmt.Fprintf(os.Stderr, "kernels: ignoring SPAD_KERNELS=%q (not available); using %s\n", s, active)
		}
	}
}
