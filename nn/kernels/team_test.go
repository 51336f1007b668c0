package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// firstDiff reports the first index where a and b differ bitwise, or -1.
func firstDiff(a, b []float32) int {
	for i := range a {
		if !sameBits(a[i], b[i]) {
			return i
		}
	}
	return -1
}

// TestElementwiseTeam checks that the element-wise kernels split over two
// threads give bitwise the results of one thread, on sizes above the
// parallel threshold, including sizes that end in a partial mask word.
func TestElementwiseTeam(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	for _, n := range []int{parallelMinFloats, parallelMinFloats + 37, 3*parallelMinFloats + 64*5 + 1} {
		x := randSlice(rng, n)
		for i := 0; i < n; i += 7 {
			x[i] = -x[i]
		}
		words := (n + 63) / 64
		var cp []float32
		run := func(th int) (y, y2, dx []float32, m []uint64) {
			cp = make([]float32, n+3)
			y = make([]float32, n)
			y2 = make([]float32, n)
			dx = make([]float32, n)
			m = make([]uint64, words)
			withThreads(t, th)
			ReluForward(y, x, m)
			ReluForward(y2, x, nil)
			MaskMul(dx, x, m, 1.25)
			if Copy(cp, x) != n {
				t.Fatal("Copy count")
			}
			return
		}
		y1, r1, d1, m1 := run(1)
		y2, r2, d2, m2 := run(2)
		if i := firstDiff(y1, y2); i >= 0 {
			t.Fatalf("n=%d: ReluForward with mask differs at %d", n, i)
		}
		if i := firstDiff(r1, r2); i >= 0 {
			t.Fatalf("n=%d: ReluForward differs at %d", n, i)
		}
		if i := firstDiff(d1, d2); i >= 0 {
			t.Fatalf("n=%d: MaskMul differs at %d", n, i)
		}
		for i := range m1 {
			if m1[i] != m2[i] {
				t.Fatalf("n=%d: mask word %d differs", n, i)
			}
		}
		if i := firstDiff(cp[:n], x); i >= 0 || cp[n] != 0 {
			t.Fatalf("n=%d: Copy wrong at %d", n, i)
		}
		// The results themselves, against the definitions.
		for i, v := range x {
			bit := m2[i/64]>>(i%64)&1 == 1
			if bit != (v > 0) || y2[i] != max(v, 0) || d2[i] != map[bool]float32{true: v * 1.25, false: 0}[bit] {
				t.Fatalf("n=%d: element %d wrong", n, i)
			}
		}
	}
}

// TestPoolAndChannelSumTeam checks pooling and channel sums on two threads
// against one thread, bitwise, for the pooling shapes of SmallConvNet and a
// general window.
func TestPoolAndChannelSumTeam(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 2))
	for _, c := range []struct{ n, ch, h, w, k, st int }{
		{40, 32, 32, 32, 2, 2},
		{40, 32, 16, 16, 2, 2},
		{20, 7, 15, 13, 3, 2},
	} {
		t.Run(fmt.Sprintf("%dx%dx%dx%d_k%d_s%d", c.n, c.ch, c.h, c.w, c.k, c.st), func(t *testing.T) {
			oh, ow := AvgPoolOutSize(c.h, c.w, c.k, c.st)
			x := randSlice(rng, c.n*c.ch*c.h*c.w)
			dy := randSlice(rng, c.n*c.ch*oh*ow)
			run := func(th int) (y, dx, sums []float32) {
				y = make([]float32, len(dy))
				dx = make([]float32, len(x))
				sums = make([]float32, c.ch)
				for i := range sums {
					sums[i] = float32(i) // accumulates onto existing values
				}
				withThreads(t, th)
				AvgPool2DForward(c.ch, c.h, c.w, c.k, c.st, c.n, x, y)
				AvgPool2DBackward(c.ch, c.h, c.w, c.k, c.st, c.n, dy, dx)
				SumChannels(sums, x, c.n, c.ch, c.h*c.w)
				return
			}
			y1, dx1, s1 := run(1)
			y2, dx2, s2 := run(2)
			if i := firstDiff(y1, y2); i >= 0 {
				t.Fatalf("forward differs at %d", i)
			}
			if i := firstDiff(dx1, dx2); i >= 0 {
				t.Fatalf("backward differs at %d", i)
			}
			if i := firstDiff(s1, s2); i >= 0 {
				t.Fatalf("channel sums differ at %d", i)
			}
			// Spot-check the channel sums against float64.
			for ch := 0; ch < c.ch; ch++ {
				want := float64(ch)
				for s := 0; s < c.n; s++ {
					for _, v := range x[(s*c.ch+ch)*c.h*c.w : (s*c.ch+ch+1)*c.h*c.w] {
						want += float64(v)
					}
				}
				if math.Abs(float64(s2[ch])-want) > 1e-3*(1+math.Abs(want)) {
					t.Fatalf("channel %d sum %g, want %g", ch, s2[ch], want)
				}
			}
		})
	}
}

// TestElementwiseTeamAllocs checks that the parallel element-wise kernels
// allocate nothing in steady state.
func TestElementwiseTeamAllocs(t *testing.T) {
	n := max(4*parallelMinFloats, 8*16*32*32)
	x := randSlice(rand.New(rand.NewPCG(1, 1)), n)
	y := make([]float32, n)
	m := make([]uint64, n/64)
	withThreads(t, 2)
	ReluForward(y, x, m)
	if a := testing.AllocsPerRun(20, func() {
		ReluForward(y, x, m)
		MaskMul(y, x, m, 1)
		AvgPool2DForward(16, 32, 32, 2, 2, 8, x[:8*16*32*32], y[:8*16*16*16])
		AddBias(y, x[:256], n/256, 256)
	}); a != 0 {
		t.Fatalf("%v allocations per call, want 0", a)
	}
}

// countParts records the items each part covers.
type countParts struct {
	items int
	hits  []int32
	parts int
}

func (c *countParts) RunPart(part, parts int) {
	if part == 0 {
		c.parts = parts
	}
	i0, i1 := partRange(part, parts, c.items)
	for i := i0; i < i1; i++ {
		c.hits[i]++ // each item belongs to exactly one part
	}
}

// TestSplit checks that Split covers every item exactly once, uses two
// parts on two threads for large work and one part for small work, and
// allocates nothing.
func TestSplit(t *testing.T) {
	for _, tc := range []struct{ threads, items, size, wantParts int }{
		{2, 7, parallelMinFloats, 2},
		{2, 7, parallelMinFloats - 1, 1},
		{1, 7, 1 << 20, 1},
		{2, 1, 1 << 20, 1},
	} {
		c := &countParts{items: tc.items, hits: make([]int32, tc.items)}
		withThreads(t, tc.threads)
		Split(c, tc.items, tc.size)
		if c.parts != tc.wantParts {
			t.Errorf("%+v: %d parts, want %d", tc, c.parts, tc.wantParts)
		}
		for i, h := range c.hits {
			if h != 1 {
				t.Fatalf("%+v: item %d covered %d times", tc, i, h)
			}
		}
	}
	c := &countParts{items: 9, hits: make([]int32, 9)}
	withThreads(t, 2)
	if a := testing.AllocsPerRun(20, func() { Split(c, 9, 1<<20) }); a != 0 {
		t.Fatalf("Split allocates %v times per call", a)
	}
}

// TestTeamConcurrentCallers runs products, element-wise kernels, Splits and
// Parallel2 from several goroutines at once on two threads: every caller
// must finish (nobody waits for the team) and get bitwise the results of a
// lone caller on one thread.
func TestTeamConcurrentCallers(t *testing.T) {
	const m, n, k = 150, 300, 120
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	x := randSlice(rng, 3*parallelMinFloats)
	type out struct {
		c, d, y []float32
		mask    []uint64
		hits    []int32
	}
	work := func(o *out) {
		Parallel2(func() {
			Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, o.c, n)
		}, func() {
			Sgemm(false, true, m, n, k, 0.5, a, k, b, k, 0, o.d, n)
		})
		Sgemm(true, false, k, n, m, 1, a, k, o.c, n, 1, o.d[:k*n], n)
		ReluForward(o.y, x, o.mask)
		c := &countParts{items: 11, hits: o.hits}
		Split(c, 11, 1<<20)
	}
	newOut := func() *out {
		return &out{c: make([]float32, m*n), d: make([]float32, m*n), y: make([]float32, len(x)),
			mask: make([]uint64, (len(x)+63)/64), hits: make([]int32, 11)}
	}
	withThreads(t, 1)
	ref := newOut()
	work(ref)
	withThreads(t, 2)
	const callers, rounds = 4, 5
	outs := make([]*out, callers)
	var wg sync.WaitGroup
	for g := range outs {
		outs[g] = newOut()
		wg.Add(1)
		go func(o *out) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				clear(o.hits)
				work(o)
			}
		}(outs[g])
	}
	wg.Wait()
	for g, o := range outs {
		if i := firstDiff(ref.c, o.c); i >= 0 {
			t.Fatalf("caller %d: product differs at %d", g, i)
		}
		if i := firstDiff(ref.d, o.d); i >= 0 {
			t.Fatalf("caller %d: accumulated product differs at %d", g, i)
		}
		if i := firstDiff(ref.y, o.y); i >= 0 {
			t.Fatalf("caller %d: ReLU differs at %d", g, i)
		}
		for i := range o.mask {
			if o.mask[i] != ref.mask[i] {
				t.Fatalf("caller %d: mask word %d differs", g, i)
			}
		}
		for i, h := range o.hits {
			if h != 1 {
				t.Fatalf("caller %d: Split item %d covered %d times", g, i, h)
			}
		}
	}
}

// TestAddBiasTeam checks AddBias split over two threads against its
// definition, bitwise, on batches of SmallFCNet's hidden layers and odd
// shapes.
func TestAddBiasTeam(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, sh := range [][2]int{{150, 300}, {7, 3001}, {2049, 17}, {1, 1 << 16}} {
		rows, cols := sh[0], sh[1]
		x, bias := randSlice(rng, rows*cols), randSlice(rng, cols)
		for _, th := range []int{1, 2} {
			withThreads(t, th)
			y := append([]float32(nil), x...)
			AddBias(y, bias, rows, cols)
			for i := range y {
				if want := x[i] + bias[i%cols]; !sameBits(y[i], want) {
					t.Fatalf("%dx%d on %d threads: element %d = %v, want %v", rows, cols, th, i, y[i], want)
				}
			}
		}
	}
}
