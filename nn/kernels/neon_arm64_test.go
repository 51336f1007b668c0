//go:build arm64 && !noasm

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNEONAvailable checks that an arm64 assembly build detects ASIMD (every
// arm64 Linux CPU has it) and selects the NEON path by default, so the tests
// below and the package's per-path tests run the assembly.
func TestNEONAvailable(t *testing.T) {
	if !Available(NEON) {
		t.Fatal("NEON path not available on this arm64 build")
	}
	if Best() != NEON {
		t.Fatalf("Best() = %s, want neon", Best())
	}
	if p, err := ParsePath("neon"); err != nil || p != NEON {
		t.Fatalf("ParsePath(neon) = %v, %v", p, err)
	}
	if pp := paramsFor(NEON); pp.mr != 8 || pp.nr != 12 {
		t.Fatalf("neon path uses the %d×%d GEMM kernel, want 8×12", pp.mr, pp.nr)
	}
}

// TestSgemmNEONTiles runs every form of Sgemm on shapes around the 8×12
// tiles of the NEON micro-kernel (edge tiles in both directions, several
// whole tiles, depths across the 256 block) on the NEON and generic paths,
// against the float64 reference of checkGemm.
func TestSgemmNEONTiles(t *testing.T) {
	ms := []int{1, 7, 8, 9, 16, 17, 33}
	ns := []int{1, 11, 12, 13, 24, 25, 37}
	ks := []int{1, 2, 7, 64, 257}
	if testing.Short() {
		ms, ns, ks = []int{1, 7, 8, 9, 17}, []int{1, 11, 12, 13, 25}, []int{1, 7, 257}
	}
	withPath(t, func(t *testing.T, p Path) {
		rng := rand.New(rand.NewPCG(18, uint64(p)))
		for _, m := range ms {
			for _, n := range ns {
				for _, k := range ks {
					for form := 0; form < 4; form++ {
						beta := []float32{0, 1, -0.75}[(m+n+k+form)%3]
						runCase(t, rng, gemmCase{
							transA: form&1 != 0, transB: form&2 != 0,
							m: m, n: n, k: k, alpha: 1.25, beta: beta,
							padA: form, padB: 3 - form, padC: 1,
						})
					}
				}
			}
		}
	})
}

// TestSgemmNEONLarge multiplies matrices that need several cache blocks in
// every dimension (m > mc, n > nc, k > kc) with the NEON blocking.
func TestSgemmNEONLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large product: slow under emulation")
	}
	saved := Active()
	defer func() { _ = SetPath(saved) }()
	if err := SetPath(NEON); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(18, 1))
	runCase(t, rng, gemmCase{m: 150, n: 800, k: 300, alpha: 1, beta: 0.5})
	runCase(t, rng, gemmCase{transA: true, transB: true, m: 131, n: 781, k: 520, alpha: -2, beta: 0})
}

// TestMicroKernelNEONSpecial checks the kernel's handling of beta == -0 (C
// not read, like +0), of alpha == 0 with beta != 0, and that it touches
// nothing outside its tiles.
func TestMicroKernelNEONSpecial(t *testing.T) {
	const k, n, ldc = 5, 2, 15
	rng := rand.New(rand.NewPCG(18, 2))
	a := randSlice(rng, 8*k*n)
	b := randSlice(rng, 12*k)
	for _, tc := range []struct{ alpha, beta float32 }{
		{1, float32(math.Copysign(0, -1))}, {0, 2}, {-1, 1},
	} {
		c := randSlice(rng, 8*n*ldc+ldc)
		c0 := append([]float32(nil), c...)
		want := append([]float32(nil), c...)
		if tc.beta == 0 {
			for i := 0; i < 8*n*ldc; i++ {
				if i%ldc < 12 {
					c[i] = float32(math.NaN())
				}
			}
		}
		kernelNEON(k, n, a, b, c, ldc, tc.alpha, tc.beta)
		for tl := 0; tl < n; tl++ {
			sgemmKernelRef(8, 12, k, a[8*k*tl:], b, want[8*ldc*tl:], ldc, tc.alpha, tc.beta)
		}
		for i := range c {
			if i >= 8*n*ldc || i%ldc >= 12 {
				if math.Float32bits(c[i]) != math.Float32bits(c0[i]) {
					t.Fatalf("%+v: c[%d] outside the tiles changed", tc, i)
				}
				continue
			}
			if d := math.Abs(float64(c[i] - want[i])); !(d <= 1e-5*(k+2)) {
				t.Fatalf("%+v: c[%d] = %v, want %v", tc, i, c[i], want[i])
			}
		}
	}
}

// TestPackNEON checks the NEON packing of every operand layout (A m×k or
// k×m, B k×n or n×k) against its Go meaning, for depths with and without a
// remainder of whole groups of four and with offsets in every direction.
func TestPackNEON(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 3))
	for _, kc := range []int{1, 3, 4, 5, 8, 13, 256} {
		const i, pc = 3, 2
		ld := pc + kc + 5
		s := randSlice(rng, (i+12)*ld)
		da := make([]float32, 8*kc+1)
		da[8*kc] = 7
		packA8N(da, s, ld, i, pc, kc)
		for q := 0; q < kc; q++ {
			for r := 0; r < 8; r++ {
				if da[q*8+r] != s[(i+r)*ld+pc+q] {
					t.Fatalf("packA8N kc=%d: d[%d] = %v, want %v", kc, q*8+r, da[q*8+r], s[(i+r)*ld+pc+q])
				}
			}
		}
		db := make([]float32, 12*kc+1)
		db[12*kc] = 7
		packB12T(db, s, ld, i, pc, kc)
		for q := 0; q < kc; q++ {
			for c := 0; c < 12; c++ {
				if db[q*12+c] != s[(i+c)*ld+pc+q] {
					t.Fatalf("packB12T kc=%d: d[%d] = %v, want %v", kc, q*12+c, db[q*12+c], s[(i+c)*ld+pc+q])
				}
			}
		}
		if da[8*kc] != 7 || db[12*kc] != 7 {
			t.Fatalf("kc=%d: packing wrote past the panel", kc)
		}
		// A transposed A (k×m) and a B (k×n): depth q is row pc+q, the
		// panel's columns start at i.
		ldt := i + 12 + 5
		st := randSlice(rng, (pc+kc)*ldt)
		packA8T(da, st, ldt, i, pc, kc)
		packB12N(db, st, ldt, i, pc, kc)
		for q := 0; q < kc; q++ {
			for c := 0; c < 12; c++ {
				want := st[(pc+q)*ldt+i+c]
				if c < 8 && da[q*8+c] != want {
					t.Fatalf("packA8T kc=%d: d[%d] = %v, want %v", kc, q*8+c, da[q*8+c], want)
				}
				if db[q*12+c] != want {
					t.Fatalf("packB12N kc=%d: d[%d] = %v, want %v", kc, q*12+c, db[q*12+c], want)
				}
			}
		}
		if da[8*kc] != 7 || db[12*kc] != 7 {
			t.Fatalf("kc=%d: row copies wrote past the panel", kc)
		}
	}
}

// TestConvNEONDirect checks which convolutions run on the NEON direct
// path: all three passes of SmallConvNet's layers (the data gradient as a
// forward convolution with flipped filters), with the 4-float NEON tiles;
// output rows that are not a multiple of 8 floats, and strides above 1,
// stay on im2col and SGEMM. It also checks that the NEON forward tiles give
// exactly the bits of convFwdTileRef (one fused multiply-add per tap, in
// tap order, as Go fuses x*y+z on arm64) on a SmallConvNet-sized tile.
func TestConvNEONDirect(t *testing.T) {
	defer func(p Path) { _ = SetPath(p) }(Active())
	if err := SetPath(NEON); err != nil {
		t.Fatal(err)
	}
	ck := convTable[NEON]
	if ck == nil || ck.lanes != 4 || ck.vecs != 6 || ck.small != 4 || ck.frows != 6 {
		t.Fatalf("NEON direct tiles %+v, want 4 lanes, 6 and 4 vectors, 6 filter rows", ck)
	}
	for _, s := range smallConvNetShapes() {
		g := s.convGeom()
		if convKernelsFor(g) != ck || !convDirectFilterOK(g) || convKernelsFor(s.flipped()) != ck {
			t.Errorf("%+v: not on the NEON direct path in every pass", s)
		}
	}
	for _, s := range []ConvShape{
		{C: 16, H: 12, W: 12, K: 8, KH: 5, KW: 5, Stride: 1, Pad: 2}, // ow = 12
		{C: 3, H: 32, W: 32, K: 16, KH: 5, KW: 5, Stride: 2, Pad: 2}, // stride 2
	} {
		if convKernelsFor(s.convGeom()) != nil || convDirectFilterOK(s.convGeom()) {
			t.Errorf("%+v: on the direct path, want im2col", s)
		}
	}

	rng := rand.New(rand.NewPCG(18, 4))
	const k = 400 // conv2's 16 channels × 5×5 taps
	w := randSlice(rng, 4*k)
	offs := make([]float32, k)
	for p := range offs {
		offs[p] = math.Float32frombits(uint32(int32((p/25)*36*36 + (p%25/5)*36 + p%5)))
	}
	x := randSlice(rng, 16*36*36)
	bias := randSlice(rng, 4)
	ldy := 1024
	for _, nv := range []int{6, 4} {
		xv := [convMaxVecs]int{0, 4, 8, 12, 16, 20}
		yv := [convMaxVecs]int{0, 4, 8, 12, 16, 20}
		for _, acc := range []bool{false, true} {
			y := randSlice(rng, 4*ldy)
			want := append([]float32(nil), y...)
			convFwdTile(ck, nv, k, w, offs, x, &xv, bias, y, &yv, ldy, acc)
			convFwdTileRef(4, k, w, offs, x, xv[:nv], bias, want, yv[:nv], ldy, acc)
			for i := range y {
				if !sameBits(y[i], want[i]) {
					t.Fatalf("nv=%d acc=%v: y[%d] = %g, want %g bit for bit", nv, acc, i, y[i], want[i])
				}
			}
		}
	}
}
