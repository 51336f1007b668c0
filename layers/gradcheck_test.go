package layers

import (
	"math"
	"testing"

	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
	"github.com/spadlab/spad/nn/rng"
)

// runForward runs layer l forward over batch samples of x in chunks and
// returns the concatenated outputs.
func runForward(l nn.Layer, x []float32, batch, chunk, inSize, outSize int, iter int64) []float32 {
	y := make([]float32, batch*outSize)
	for off := 0; off < batch; off += chunk {
		c := min(chunk, batch-off)
		st := &nn.Step{Iter: iter, Train: true, Batch: batch, Off: off, N: c}
		l.Forward(st, x[off*inSize:(off+c)*inSize], y[off*outSize:(off+c)*outSize])
	}
	return y
}

// trainStep runs one training step of l alone: StartStep, forward in
// chunks, backward in reverse chunks with output gradient dy (parameter
// gradients zeroed first), FinishStep. It returns the input gradient.
func trainStep(l nn.Layer, x, dy []float32, batch, chunk, inSize, outSize int, iter int64) []float32 {
	if s, ok := l.(nn.Starter); ok {
		s.StartStep(&nn.Step{Iter: iter, Train: true, Batch: batch})
	}
	runForward(l, x, batch, chunk, inSize, outSize, iter)
	for _, p := range l.Params() {
		clear(p.Grad)
	}
	dx := make([]float32, batch*inSize)
	last := ((batch - 1) / chunk) * chunk
	for off := last; off >= 0; off -= chunk {
		c := min(chunk, batch-off)
		st := &nn.Step{Iter: iter, Train: true, Batch: batch, Off: off, N: c}
		l.Backward(st, dy[off*outSize:(off+c)*outSize], dx[off*inSize:(off+c)*inSize])
	}
	if f, ok := l.(nn.Finisher); ok {
		f.FinishStep(&nn.Step{Iter: iter, Train: true, Batch: batch})
	}
	return dx
}

// giveScratch hands a layer the scratch a Network would.
func giveScratch(l nn.Layer) {
	if s, ok := l.(nn.Scratcher); ok {
		s.UseScratch(make([]float32, s.ScratchFloats()))
	}
}

// objective is Σ y·r in float64.
func objective(y, r []float32) float64 {
	var s float64
	for i := range y {
		s += float64(y[i]) * float64(r[i])
	}
	return s
}

// gradCheck verifies a layer's input and parameter gradients against central
// finite differences of Σ y·r. It fails if any checked entry differs by more
// than tol relative to the largest gradient magnitude.
func gradCheck(t *testing.T, l nn.Layer, in nn.Shape, batch, chunk int, tol float64) {
	t.Helper()
	if s, ok := l.(nn.Seeded); ok {
		s.SetSeed(7, 3)
	}
	out, err := l.Build(in, batch, chunk)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	giveScratch(l)
	inSize, outSize := in.Size(), out.Size()
	src := rng.New(rng.Key{Seed: 99})
	x := make([]float32, batch*inSize)
	for i := range x {
		x[i] = float32(src.NormFloat64())
	}
	r := make([]float32, batch*outSize)
	for i := range r {
		r[i] = float32(src.NormFloat64())
	}
	const iter = 5
	dx := trainStep(l, x, r, batch, chunk, inSize, outSize, iter)
	f := func() float64 { return objective(runForward(l, x, batch, chunk, inSize, outSize, iter), r) }
	check := func(name string, vals []float32, grad []float32) {
		t.Helper()
		var scale float64
		for _, g := range grad {
			scale = math.Max(scale, math.Abs(float64(g)))
		}
		scale = math.Max(scale, 1e-3)
		stride := max(1, len(vals)/40) // check ≤ ~40 entries per tensor
		for i := 0; i < len(vals); i += stride {
			old := vals[i]
			h := float32(1e-2) * float32(math.Max(1, math.Abs(float64(old))))
			vals[i] = old + h
			fp := f()
			vals[i] = old - h
			fm := f()
			vals[i] = old
			num := (fp - fm) / float64(2*h)
			if d := math.Abs(num - float64(grad[i])); d > tol*scale {
				t.Errorf("%s[%d]: analytic %.6g, numeric %.6g (diff %.3g > %.3g)", name, i, grad[i], num, d, tol*scale)
				return
			}
		}
	}
	check("dx", x, dx)
	for _, p := range l.Params() {
		check(p.Name, p.Value, p.Grad)
	}
}

func TestDenseGrad(t *testing.T) {
	for _, tc := range []struct{ in, out, batch, chunk int }{
		{1, 1, 1, 1}, {7, 5, 3, 2}, {13, 9, 10, 10}, {30, 11, 9, 4},
	} {
		gradCheck(t, NewDense(tc.in, tc.out), nn.Shape{tc.in}, tc.batch, tc.chunk, 2e-3)
	}
}

func TestReLUGrad(t *testing.T) {
	for _, tc := range []struct{ size, batch, chunk int }{{1, 3, 2}, {70, 5, 2}, {128, 4, 3}} {
		gradCheck(t, NewReLU(), nn.Shape{tc.size}, tc.batch, tc.chunk, 2e-3)
	}
}

func TestFlattenGrad(t *testing.T) {
	gradCheck(t, NewFlatten(), nn.Shape{2, 3, 5}, 4, 3, 1e-3)
}

func TestDropoutGrad(t *testing.T) {
	gradCheck(t, NewDropout(0.3), nn.Shape{77}, 6, 4, 2e-3)
}

// Dropout keeps each element with probability 1-P (binomial test, 5 sigma)
// and its mask does not depend on the chunking.
func TestDropoutRateAndChunking(t *testing.T) {
	const size, batch = 1000, 20
	a, b := NewDropout(0.25), NewDropout(0.25)
	a.SetSeed(1, 2)
	b.SetSeed(1, 2)
	if _, err := a.Build(nn.Shape{size}, batch, batch); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(nn.Shape{size}, batch, 3); err != nil {
		t.Fatal(err)
	}
	x := make([]float32, size*batch)
	for i := range x {
		x[i] = 1
	}
	ya := runForward(a, x, batch, batch, size, size, 4)
	yb := runForward(b, x, batch, 3, size, size, 4)
	kept := 0
	for i := range ya {
		if ya[i] != yb[i] {
			t.Fatalf("element %d differs between chunkings: %g vs %g", i, ya[i], yb[i])
		}
		if ya[i] != 0 {
			kept++
			if math.Abs(float64(ya[i])-1/0.75) > 1e-6 {
				t.Fatalf("kept element scaled to %g, want %g", ya[i], 1/0.75)
			}
		}
	}
	n := float64(size * batch)
	mean, sd := 0.75*n, math.Sqrt(n*0.75*0.25)
	if math.Abs(float64(kept)-mean) > 5*sd {
		t.Fatalf("kept %d of %g, expected %g ± %g", kept, n, mean, 5*sd)
	}
}

// Dropout split over two threads (large enough to be split) gives bitwise
// the masks, outputs and input gradients of one thread.
func TestDropoutThreads(t *testing.T) {
	const size, batch = 20000, 7
	run := func(threads int) (y, dx []float32) {
		saved := kernels.Threads()
		kernels.SetThreads(threads)
		defer kernels.SetThreads(saved)
		d := NewDropout(0.3)
		d.SetSeed(5, 1)
		if _, err := d.Build(nn.Shape{size}, batch, batch); err != nil {
			t.Fatal(err)
		}
		x := make([]float32, size*batch)
		dy := make([]float32, size*batch)
		for i := range x {
			x[i] = float32(i%97) - 40
			dy[i] = float32(i%89) * 0.5
		}
		return runForward(d, x, batch, batch, size, size, 7), trainStep(d, x, dy, batch, batch, size, size, 7)
	}
	y1, dx1 := run(1)
	y2, dx2 := run(2)
	for i := range y1 {
		if math.Float32bits(y1[i]) != math.Float32bits(y2[i]) || math.Float32bits(dx1[i]) != math.Float32bits(dx2[i]) {
			t.Fatalf("element %d differs between 1 and 2 threads: y %g/%g dx %g/%g", i, y1[i], y2[i], dx1[i], dx2[i])
		}
	}
}

func TestConv2DGrad(t *testing.T) {
	for _, tc := range []struct {
		inC, outC, k, stride, pad, h, w, batch, chunk int
	}{
		{1, 1, 1, 1, 0, 3, 3, 2, 1},
		{1, 2, 3, 1, 1, 5, 5, 3, 2},
		{2, 3, 3, 2, 0, 7, 5, 2, 2},
		{3, 4, 5, 1, 2, 6, 6, 2, 1},
		{2, 2, 2, 2, 1, 5, 4, 3, 3},
	} {
		c := NewConv2D(tc.inC, tc.outC, tc.k, tc.stride, tc.pad)
		gradCheck(t, c, nn.Shape{tc.inC, tc.h, tc.w}, tc.batch, tc.chunk, 3e-3)
	}
}

func TestAvgPool2DGrad(t *testing.T) {
	gradCheck(t, NewAvgPool2D(2, 2), nn.Shape{3, 6, 4}, 3, 2, 2e-3)
	gradCheck(t, NewAvgPool2D(3, 2), nn.Shape{2, 7, 7}, 2, 1, 2e-3)
	gradCheck(t, NewAvgPool2D(2, 1), nn.Shape{1, 5, 3}, 2, 2, 2e-3)
}
