package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// withPath runs f once per available path, restoring the active path.
func withPath(t *testing.T, f func(t *testing.T, p Path)) {
	t.Helper()
	saved := Active()
	defer func() { _ = SetPath(saved) }()
	for _, p := range AvailablePaths() {
		if err := SetPath(p); err != nil {
			t.Fatal(err)
		}
		t.Run(p.String(), func(t *testing.T) { f(t, p) })
	}
}

// withThreads sets the thread count for the duration of a test.
func withThreads(t *testing.T, n int) {
	t.Helper()
	saved := threads.Load()
	SetThreads(n)
	t.Cleanup(func() { threads.Store(saved) })
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	padA, padB     int // extra stride
	padC           int
}

func formName(transA, transB bool) string {
	s := [2]string{"N", "T"}
	return s[boolIdx(transA)] + s[boolIdx(transB)]
}

func boolIdx(b bool) int {
	if b {
		return 1
	}
	return 0
}

// operands builds random A, B and C (C filled with cNaN NaNs when beta == 0)
// for case tc, with sentinel values in the stride padding.
func operands(rng *rand.Rand, tc gemmCase) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc = ac+tc.padA, bc+tc.padB, tc.n+tc.padC
	a = randSlice(rng, max(ar*lda, 1))
	b = randSlice(rng, max(br*ldb, 1))
	c = randSlice(rng, max(tc.m*ldc, 1))
	if tc.beta == 0 {
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				c[i*ldc+j] = float32(math.NaN())
			}
		}
	}
	return
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// checkGemm compares c (after Sgemm) with a float64 reference computed from
// a, b and c0 (C before the call). The tolerance is the worst-case float32
// summation bound scaled by k. Elements of C outside the m×n block must be
// unchanged.
func checkGemm(t *testing.T, tc gemmCase, a []float32, lda int, b []float32, ldb int, c0, c []float32, ldc int) {
	t.Helper()
	const eps = 1.0 / (1 << 23)
	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var dot, abs float64
			for p := 0; p < tc.k; p++ {
				var av, bv float64
				if tc.transA {
					av = float64(a[p*lda+i])
				} else {
					av = float64(a[i*lda+p])
				}
				if tc.transB {
					bv = float64(b[j*ldb+p])
				} else {
					bv = float64(b[p*ldb+j])
				}
				dot += av * bv
				abs += math.Abs(av * bv)
			}
			al := float64(tc.alpha)
			want := al * dot
			bound := math.Abs(al) * abs
			if tc.beta != 0 {
				cv := float64(tc.beta) * float64(c0[i*ldc+j])
				want += cv
				bound += math.Abs(cv)
			}
			tol := bound*float64(tc.k+4)*eps + 1e-30
			got := float64(c[i*ldc+j])
			if !(math.Abs(got-want) <= tol) {
				if bad < 5 {
					t.Errorf("%+v: C[%d,%d] = %v, want %v (tol %.3g)", tc, i, j, got, want, tol)
				}
				bad++
			}
		}
		for j := tc.n; j < ldc && i*ldc+j < len(c); j++ {
			if math.Float32bits(c[i*ldc+j]) != math.Float32bits(c0[i*ldc+j]) {
				t.Fatalf("%+v: padding C[%d,%d] changed", tc, i, j)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%+v: %d wrong elements", tc, bad)
	}
}

func runCase(t *testing.T, rng *rand.Rand, tc gemmCase) {
	t.Helper()
	a, lda, b, ldb, c, ldc := operands(rng, tc)
	c0 := append([]float32(nil), c...)
	a0 := append([]float32(nil), a...)
	b0 := append([]float32(nil), b...)
	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(a0[i]) {
			t.Fatalf("%+v: A modified", tc)
		}
	}
	for i := range b {
		if math.Float32bits(b[i]) != math.Float32bits(b0[i]) {
			t.Fatalf("%+v: B modified", tc)
		}
	}
	checkGemm(t, tc, a, lda, b, ldb, c0, c, ldc)
}

var testShapes = [][3]int{ // m, k, n
	{1, 1, 1}, {1, 1, 7}, {7, 1, 1}, {1, 5, 1}, {2, 3, 4}, {6, 16, 16}, {6, 3, 16},
	{7, 5, 13}, {5, 7, 17}, {12, 33, 32}, {13, 65, 17}, {33, 65, 17}, {17, 300, 33},
	{64, 64, 64}, {100, 257, 31}, {10, 784, 300}, {300, 10, 10}, {150, 300, 10},
	{145, 513, 49}, {150, 784, 32}, {31, 300, 150},
	// crossing the 12×32 tiles of the AVX-512 kernel
	{11, 9, 31}, {12, 8, 32}, {13, 7, 33}, {24, 16, 64}, {25, 23, 65}, {37, 129, 97},
}

func TestSgemmShapes(t *testing.T) {
	withPath(t, func(t *testing.T, p Path) {
		rng := rand.New(rand.NewPCG(1, uint64(p)))
		for _, th := range []int{1, 2} {
			withThreads(t, th)
			for _, sh := range testShapes {
				for form := 0; form < 4; form++ {
					tc := gemmCase{transA: form&1 != 0, transB: form&2 != 0, m: sh[0], k: sh[1], n: sh[2], alpha: 1, beta: 0}
					t.Run(fmt.Sprintf("t%d/%s/%dx%dx%d", th, formName(tc.transA, tc.transB), tc.m, tc.k, tc.n), func(t *testing.T) {
						runCase(t, rng, tc)
					})
				}
			}
		}
	})
}

func TestSgemmAlphaBetaStrides(t *testing.T) {
	withPath(t, func(t *testing.T, p Path) {
		rng := rand.New(rand.NewPCG(2, uint64(p)))
		ab := [][2]float32{{1, 0}, {1, 1}, {1, 0.5}, {-2, 0}, {0.75, -1.5}, {0, 0.5}, {0, 0}, {2, 1}}
		for i := 0; i < 300; i++ {
			v := ab[i%len(ab)]
			tc := gemmCase{
				transA: rng.IntN(2) == 1, transB: rng.IntN(2) == 1,
				m: 1 + rng.IntN(70), n: 1 + rng.IntN(70), k: rng.IntN(90),
				alpha: v[0], beta: v[1],
				padA: rng.IntN(3) * rng.IntN(9), padB: rng.IntN(3) * rng.IntN(9), padC: rng.IntN(3) * rng.IntN(9),
			}
			if i%5 == 0 {
				withThreads(t, 2)
				tc.m, tc.n, tc.k = 40+rng.IntN(120), 40+rng.IntN(120), 100+rng.IntN(200)
			} else {
				withThreads(t, 1)
			}
			runCase(t, rng, tc)
		}
	})
}

func TestSgemmLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	withPath(t, func(t *testing.T, p Path) {
		rng := rand.New(rand.NewPCG(3, uint64(p)))
		withThreads(t, 2)
		for form := 0; form < 4; form++ {
			tc := gemmCase{transA: form&1 != 0, transB: form&2 != 0, m: 7, k: 530, n: 3100 + 16*rng.IntN(3), alpha: 0.5, beta: 0.5, padA: 3, padB: 1, padC: 5}
			runCase(t, rng, tc)
		}
	})
}

func TestSgemmZeroSizes(t *testing.T) {
	withPath(t, func(t *testing.T, p Path) {
		nan := float32(math.NaN())
		// m or n zero: nothing touched, even with nil slices.
		Sgemm(false, false, 0, 5, 5, 1, nil, 5, make([]float32, 25), 5, 0, nil, 5)
		Sgemm(false, false, 5, 0, 5, 1, make([]float32, 25), 5, nil, 1, 0, nil, 1)
		// k == 0: C = beta*C, A and B unread.
		c := []float32{1, 2, nan, 4}
		Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
		for _, v := range c {
			if v != 0 {
				t.Fatalf("k=0 beta=0: C = %v", c)
			}
		}
		c = []float32{1, 2, 3, 4}
		Sgemm(true, true, 2, 2, 0, 1, nil, 2, nil, 1, 2, c, 2)
		if c[0] != 2 || c[3] != 8 {
			t.Fatalf("k=0 beta=2: C = %v", c)
		}
		// alpha == 0: A and B (NaN here) unread.
		a := []float32{nan, nan, nan, nan}
		c = []float32{1, 2, 3, 4}
		Sgemm(false, false, 2, 2, 2, 0, a, 2, a, 2, 0.5, c, 2)
		if c[0] != 0.5 || c[3] != 2 {
			t.Fatalf("alpha=0: C = %v", c)
		}
	})
}

func TestSgemmPanics(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	s := make([]float32, 12)
	mustPanic("negative", func() { Sgemm(false, false, -1, 2, 2, 1, s, 2, s, 2, 0, s, 2) })
	mustPanic("lda", func() { Sgemm(false, false, 2, 2, 3, 1, s, 2, s, 2, 0, s, 2) })
	mustPanic("ldc", func() { Sgemm(false, false, 2, 3, 2, 1, s, 2, s, 3, 0, s, 2) })
	mustPanic("short A", func() { Sgemm(true, false, 2, 2, 7, 1, s, 2, make([]float32, 14), 2, 0, s, 2) })
	mustPanic("short B", func() { Sgemm(false, true, 2, 2, 3, 1, s, 3, s[:4], 3, 0, s, 2) })
	mustPanic("short C", func() { Sgemm(false, false, 3, 3, 2, 1, s, 2, s, 3, 0, s[:8], 3) })
}

// TestSgemmThreadsBitwise checks that the result does not depend on the
// number of threads, bit for bit, including the two-dimensional splits.
func TestSgemmThreadsBitwise(t *testing.T) {
	withPath(t, func(t *testing.T, p Path) {
		rng := rand.New(rand.NewPCG(4, uint64(p)))
		shapes := [][3]int{{150, 300, 100}, {10, 300, 1000}, {1000, 300, 10}, {37, 1500, 29}, {257, 133, 129}}
		for _, sh := range shapes {
			for form := 0; form < 4; form++ {
				tc := gemmCase{transA: form&1 != 0, transB: form&2 != 0, m: sh[0], k: sh[1], n: sh[2], alpha: 1.25, beta: 0.5, padC: 3}
				a, lda, b, ldb, c, ldc := operands(rng, tc)
				var ref []float32
				for _, th := range []int{1, 2, 3, 4, 6} {
					withThreads(t, th)
					cc := append([]float32(nil), c...)
					Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, cc, ldc)
					if ref == nil {
						ref = cc
						checkGemm(t, tc, a, lda, b, ldb, c, cc, ldc)
						continue
					}
					for i := range cc {
						if math.Float32bits(cc[i]) != math.Float32bits(ref[i]) {
							t.Fatalf("%+v: %d threads differ from 1 thread at %d: %v vs %v", tc, th, i, cc[i], ref[i])
						}
					}
				}
			}
		}
	})
}

// TestSplitC checks that the thread blocks tile C exactly, on micro-tile
// boundaries.
func TestSplitC(t *testing.T) {
	for _, pp := range []*gemmParams{genericParams, paramsFor(AVX2)} {
		for m := 1; m < 60; m += 7 {
			for n := 1; n < 80; n += 9 {
				g := gemmArgs{m: m, n: n, k: 100}
				for nt := 1; nt <= 8; nt++ {
					tasks := make([]gemmTask, nt)
					splitC(pp, &g, tasks)
					cover := make([]int, m*n)
					for _, tk := range tasks {
						if tk.i0%pp.mr != 0 && tk.i0 != m || tk.j0%pp.nr != 0 && tk.j0 != n {
							t.Fatalf("m=%d n=%d nt=%d: unaligned task %+v", m, n, nt, tk)
						}
						for i := tk.i0; i < tk.i1; i++ {
							for j := tk.j0; j < tk.j1; j++ {
								cover[i*n+j]++
							}
						}
					}
					for i, v := range cover {
						if v != 1 {
							t.Fatalf("m=%d n=%d nt=%d: element %d covered %d times (%+v)", m, n, nt, i, v, tasks)
						}
					}
				}
			}
		}
	}
}

// TestMicroKernels compares each micro-kernel, on stacks of tiles, with
// sgemmKernelRef.
func TestMicroKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, p := range AvailablePaths() {
		pp := paramsFor(p)
		for _, k := range []int{1, 2, 3, 4, 5, 8, 17, 256} {
			for _, n := range []int{1, 3} {
				for _, beta := range []float32{0, 1, -0.5} {
					a := randSlice(rng, n*pp.mr*k)
					b := randSlice(rng, pp.nr*k)
					ldc := pp.nr + 3
					c := randSlice(rng, n*pp.mr*ldc)
					want := append([]float32(nil), c...)
					if beta == 0 {
						for i := range c {
							c[i] = float32(math.NaN())
						}
					}
					pp.kern(k, n, a, b, c, ldc, 1.5, beta)
					for tl := 0; tl < n; tl++ {
						sgemmKernelRef(pp.mr, pp.nr, k, a[tl*pp.mr*k:], b, want[tl*pp.mr*ldc:], ldc, 1.5, beta)
					}
					for i := range c {
						if i%ldc >= pp.nr {
							if beta == 0 || c[i] != want[i] {
								if !(beta == 0 && math.IsNaN(float64(c[i]))) {
									t.Fatalf("%s k=%d n=%d: padding c[%d] changed", p, k, n, i)
								}
							}
							continue
						}
						if math.Abs(float64(c[i]-want[i])) > 1e-5*float64(k+2) {
							t.Fatalf("%s k=%d n=%d beta=%v: c[%d] = %v, want %v", p, k, n, beta, i, c[i], want[i])
						}
					}
				}
			}
		}
	}
}

func TestSgemmNoAllocs(t *testing.T) {
	withPath(t, func(t *testing.T, p Path) {
		for _, th := range []int{1, 2} {
			withThreads(t, th)
			for _, sh := range [][3]int{{96, 300, 64}, {10, 300, 1000}, {150, 300, 10}, {7, 13, 5}, {20, 100, 600}} {
				m, k, n := sh[0], sh[1], sh[2]
				a := make([]float32, m*k)
				b := make([]float32, k*n)
				c := make([]float32, m*n)
				for form := 0; form < 4; form++ {
					ta, tb := form&1 != 0, form&2 != 0
					lda, ldb := k, n
					if ta {
						lda = m
					}
					if tb {
						ldb = k
					}
					f := func() { Sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0.5, c, n) }
					f()
					if allocs := testing.AllocsPerRun(10, f); allocs != 0 {
						t.Errorf("threads=%d %s %v: %v allocations per call", th, formName(ta, tb), sh, allocs)
					}
				}
			}
		}
	})
}

// TestSgemmConcurrent runs products from several goroutines at once, some
// large enough to use the worker team.
func TestSgemmConcurrent(t *testing.T) {
	withPath(t, func(t *testing.T, p Path) {
		withThreads(t, 2)
		var wg sync.WaitGroup
		for gi := 0; gi < 4; gi++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(6, uint64(gi)))
				for it := 0; it < 6; it++ {
					tc := gemmCase{transA: it&1 != 0, transB: gi&1 != 0, m: 20 + rng.IntN(150), k: 50 + rng.IntN(200), n: 20 + rng.IntN(200), alpha: 1, beta: 0.5}
					a, lda, b, ldb, c, ldc := operands(rng, tc)
					c0 := append([]float32(nil), c...)
					Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
					checkGemm(t, tc, a, lda, b, ldb, c0, c, ldc)
				}
			}()
		}
		wg.Wait()
	})
}

// TestEdgeKernels checks each path's edge kernel on every corner of a tile:
// the corner must have the bits the micro-kernel gives on a full tile, and
// no element of C outside it may be read (NaNs there do not spread) or
// written.
func TestEdgeKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, p := range AvailablePaths() {
		pp := paramsFor(p)
		if pp.edge == nil {
			continue
		}
		for _, k := range []int{1, 3, 4, 17} {
			for _, beta := range []float32{0, 1, -0.5} {
				a := randSlice(rng, pp.mr*k)
				b := randSlice(rng, pp.nr*k)
				ldc := pp.nr + 5
				c0 := randSlice(rng, pp.mr*ldc)
				full := append([]float32(nil), c0...)
				pp.kern(k, 1, a, b, full, ldc, 1.5, beta)
				for rows := 1; rows <= pp.mr; rows++ {
					for cols := 1; cols <= pp.nr; cols++ {
						c := make([]float32, (rows-1)*ldc+cols)
						for i := range c {
							if i%ldc < cols {
								c[i] = c0[i]
							} else {
								c[i] = float32(math.NaN())
							}
						}
						pp.edge(k, rows, cols, a, b, c, ldc, 1.5, beta)
						for i := range c {
							if i%ldc >= cols {
								if !math.IsNaN(float64(c[i])) {
									t.Fatalf("%s %dx%d k=%d: c[%d] outside the corner written", p, rows, cols, k, i)
								}
								continue
							}
							if !sameBits(c[i], full[i]) {
								t.Fatalf("%s %dx%d k=%d beta=%v: c[%d] = %v, full tile gives %v", p, rows, cols, k, beta, i, c[i], full[i])
							}
						}
					}
				}
			}
		}
	}
}

// TestPackPartial checks each path's packing of partial micro-panels
// against the Go loops of packA and packB (on parameters without them), on
// every partial width and destinations that held other values.
func TestPackPartial(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, p := range AvailablePaths() {
		pp := paramsFor(p)
		plain := *pp
		plain.packATPart, plain.packBNPart, plain.packAN, plain.packAT, plain.packBN, plain.packBT = nil, nil, nil, nil, nil, nil
		for _, kc := range []int{1, 5, 17} {
			for cnt := 1; cnt < max(pp.mr, pp.nr); cnt++ {
				ld := cnt + 3
				src := randSlice(rng, (kc+2)*ld)
				if cnt < pp.mr {
					// op(A) is cnt×kc, stored k×m (transposed).
					g := gemmArgs{transA: true, m: cnt, k: kc, a: src[ld:], lda: ld}
					got, want := randSlice(rng, pp.mr*kc+packSlack), make([]float32, pp.mr*kc+packSlack)
					packA(got, &g, pp, 0, cnt, 0, kc)
					packA(want, &g, &plain, 0, cnt, 0, kc)
					if i := firstDiff(got[:pp.mr*kc], want[:pp.mr*kc]); i >= 0 {
						t.Fatalf("%s: A panel of %d rows, depth %d: element %d = %v, want %v", p, cnt, kc, i, got[i], want[i])
					}
				}
				if cnt < pp.nr {
					// op(B) is kc×cnt, stored k×n.
					g := gemmArgs{k: kc, n: cnt, b: src[ld:], ldb: ld}
					got, want := randSlice(rng, pp.nr*kc), make([]float32, pp.nr*kc)
					packB(got, &g, pp, 0, kc, 0, cnt)
					packB(want, &g, &plain, 0, kc, 0, cnt)
					if i := firstDiff(got, want); i >= 0 {
						t.Fatalf("%s: B panel of %d columns, depth %d: element %d = %v, want %v", p, cnt, kc, i, got[i], want[i])
					}
				}
			}
		}
	}
}
