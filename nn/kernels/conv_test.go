package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// convForEachPath runs f once for every available kernel path.
func convForEachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	old := Active()
	defer func() { _ = SetPath(old) }()
	for _, p := range AvailablePaths() {
		if err := SetPath(p); err != nil {
			t.Fatal(err)
		}
		t.Run(p.String(), f)
	}
}

func convRand(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// convRefForward returns the float64 direct convolution y and, per output
// element, Σ|w·x| (the scale of its rounding error).
func convRefForward(s ConvShape, n int, x, w, bias []float32) (y, mag []float64) {
	oh, ow := s.OH(), s.OW()
	y = make([]float64, n*s.K*oh*ow)
	mag = make([]float64, len(y))
	for sm := 0; sm < n; sm++ {
		for k := 0; k < s.K; k++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var acc, a float64
					if bias != nil {
						acc = float64(bias[k])
						a = math.Abs(acc)
					}
					for c := 0; c < s.C; c++ {
						for u := 0; u < s.KH; u++ {
							for v := 0; v < s.KW; v++ {
								ih, iw := i*s.Stride-s.Pad+u, j*s.Stride-s.Pad+v
								if ih < 0 || ih >= s.H || iw < 0 || iw >= s.W {
									continue
								}
								p := float64(w[((k*s.C+c)*s.KH+u)*s.KW+v]) * float64(x[((sm*s.C+c)*s.H+ih)*s.W+iw])
								acc += p
								a += math.Abs(p)
							}
						}
					}
					o := ((sm*s.K+k)*oh+i)*ow + j
					y[o], mag[o] = acc, a
				}
			}
		}
	}
	return y, mag
}

// convRefBackward returns the float64 gradients dx, dw and db of
// Σ y·dy, with their error scales.
func convRefBackward(s ConvShape, n int, x, w, dy []float32) (dx, dxMag, dw, dwMag, db, dbMag []float64) {
	oh, ow := s.OH(), s.OW()
	dx = make([]float64, n*s.InSize())
	dxMag = make([]float64, len(dx))
	dw = make([]float64, s.WeightSize())
	dwMag = make([]float64, len(dw))
	db = make([]float64, s.K)
	dbMag = make([]float64, s.K)
	for sm := 0; sm < n; sm++ {
		for k := 0; k < s.K; k++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					g := float64(dy[((sm*s.K+k)*oh+i)*ow+j])
					db[k] += g
					dbMag[k] += math.Abs(g)
					for c := 0; c < s.C; c++ {
						for u := 0; u < s.KH; u++ {
							for v := 0; v < s.KW; v++ {
								ih, iw := i*s.Stride-s.Pad+u, j*s.Stride-s.Pad+v
								if ih < 0 || ih >= s.H || iw < 0 || iw >= s.W {
									continue
								}
								wi := ((k*s.C+c)*s.KH+u)*s.KW + v
								xi := ((sm*s.C+c)*s.H+ih)*s.W + iw
								dx[xi] += g * float64(w[wi])
								dxMag[xi] += math.Abs(g * float64(w[wi]))
								dw[wi] += g * float64(x[xi])
								dwMag[wi] += math.Abs(g * float64(x[xi]))
							}
						}
					}
				}
			}
		}
	}
	return
}

func convCompare(t *testing.T, what string, got []float32, want, mag []float64) {
	t.Helper()
	bad := 0
	for i := range want {
		tol := 1e-5*mag[i] + 1e-6
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= tol) {
			if bad < 5 {
				t.Errorf("%s[%d] = %g, want %g (tol %g)", what, i, got[i], want[i], tol)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements wrong", what, bad, len(want))
	}
}

var convTestShapes = []ConvShape{
	{C: 3, H: 6, W: 5, K: 4, KH: 1, KW: 1, Stride: 1, Pad: 0},    // 1×1
	{C: 4, H: 8, W: 8, K: 5, KH: 3, KW: 3, Stride: 1, Pad: 1},    // 3×3 same
	{C: 3, H: 9, W: 7, K: 6, KH: 5, KW: 5, Stride: 1, Pad: 2},    // 5×5 pad 2, odd sizes
	{C: 2, H: 9, W: 8, K: 3, KH: 3, KW: 3, Stride: 2, Pad: 0},    // stride 2 pad 0
	{C: 3, H: 7, W: 5, K: 4, KH: 3, KW: 3, Stride: 2, Pad: 1},    // stride 2 pad 1, 7×5
	{C: 1, H: 7, W: 5, K: 2, KH: 3, KW: 3, Stride: 1, Pad: 1},    // one channel
	{C: 1, H: 7, W: 5, K: 1, KH: 3, KW: 3, Stride: 1, Pad: 0},    // one channel in and out
	{C: 2, H: 7, W: 5, K: 3, KH: 3, KW: 2, Stride: 1, Pad: 1},    // non-square kernel
	{C: 2, H: 5, W: 6, K: 3, KH: 2, KW: 2, Stride: 1, Pad: 2},    // padding ≥ kernel
	{C: 2, H: 11, W: 10, K: 3, KH: 5, KW: 5, Stride: 3, Pad: 2},  // stride 3
	{C: 16, H: 12, W: 12, K: 8, KH: 5, KW: 5, Stride: 1, Pad: 2}, // wider channels
	{C: 2, H: 6, W: 37, K: 3, KH: 3, KW: 3, Stride: 1, Pad: 1},   // long rows
	{C: 3, H: 4, W: 4, K: 2, KH: 4, KW: 4, Stride: 1, Pad: 0},    // kernel = input
	{C: 5, H: 16, W: 16, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2}, // like SmallConvNet
	{C: 2, H: 13, W: 9, K: 3, KH: 1, KW: 1, Stride: 2, Pad: 0},   // 1×1 stride 2
	{C: 3, H: 10, W: 12, K: 4, KH: 3, KW: 5, Stride: 2, Pad: 2},  // mixed
	{C: 2, H: 3, W: 3, K: 2, KH: 3, KW: 3, Stride: 1, Pad: 1},    // tiny
	{C: 4, H: 20, W: 9, K: 2, KH: 3, KW: 3, Stride: 1, Pad: 1},   // tall
	{C: 2, H: 8, W: 8, K: 3, KH: 5, KW: 5, Stride: 1, Pad: 4},    // pad = KH-1
	{C: 2, H: 9, W: 17, K: 9, KH: 3, KW: 3, Stride: 1, Pad: 0},   // valid conv, ow=15
	{C: 1, H: 1, W: 9, K: 2, KH: 1, KW: 3, Stride: 1, Pad: 0},    // one row
	{C: 3, H: 32, W: 32, K: 4, KH: 5, KW: 5, Stride: 1, Pad: 2},  // conv1-like rows of 32
	// Shapes for the direct path (stride 1, output rows of 8k floats):
	{C: 4, H: 5, W: 8, K: 7, KH: 3, KW: 3, Stride: 1, Pad: 1},   // 6+4 channel tiles overlap, odd vector count
	{C: 9, H: 3, W: 24, K: 13, KH: 3, KW: 3, Stride: 1, Pad: 1}, // 3 vectors per row
	{C: 3, H: 6, W: 16, K: 4, KH: 1, KW: 1, Stride: 1, Pad: 0},  // 1×1 unpadded, 3 lowered rows
	{C: 2, H: 7, W: 10, K: 5, KH: 2, KW: 3, Stride: 1, Pad: 0},  // unpadded valid conv, ow = 8
	{C: 4, H: 9, W: 8, K: 8, KH: 3, KW: 3, Stride: 1, Pad: 1},   // 8 channels = 4+4
	{C: 7, H: 8, W: 16, K: 11, KH: 5, KW: 5, Stride: 1, Pad: 2}, // 6+4+overlap, C odd
	{C: 2, H: 4, W: 8, K: 6, KH: 1, KW: 1, Stride: 1, Pad: 0},   // 2 lowered rows: lowered filter path
	{C: 2, H: 4, W: 7, K: 6, KH: 1, KW: 2, Stride: 1, Pad: 1},   // 4 lowered rows: overlapping row tile
	{C: 5, H: 6, W: 8, K: 3, KH: 3, KW: 3, Stride: 1, Pad: 1},   // three output channels (staged)
	{C: 2, H: 5, W: 16, K: 4, KH: 3, KW: 3, Stride: 1, Pad: 1},  // data gradient with two channels
	{C: 1, H: 4, W: 8, K: 1, KH: 1, KW: 1, Stride: 1, Pad: 0},   // one channel in and out, 1×1
	// Shapes for the direct path's 16-float vectors (AVX-512):
	{C: 4, H: 5, W: 16, K: 7, KH: 3, KW: 3, Stride: 1, Pad: 1},  // one vector per row, odd vector count
	{C: 9, H: 3, W: 48, K: 13, KH: 3, KW: 3, Stride: 1, Pad: 1}, // 3 vectors per row
	{C: 3, H: 6, W: 32, K: 2, KH: 3, KW: 3, Stride: 1, Pad: 1},  // two output channels: 2×6 filter tiles
	{C: 5, H: 6, W: 16, K: 3, KH: 3, KW: 3, Stride: 1, Pad: 1},  // three output channels (staged)
	{C: 2, H: 7, W: 18, K: 5, KH: 2, KW: 3, Stride: 1, Pad: 0},  // unpadded valid conv, ow = 16
	// Shapes for the direct path's 4-float vectors (NEON; tiles of six or
	// four vectors, filter tiles of six or three rows):
	{C: 3, H: 1, W: 8, K: 5, KH: 1, KW: 1, Stride: 1, Pad: 0},  // one output row of two vectors: one short tile
	{C: 2, H: 1, W: 8, K: 6, KH: 3, KW: 3, Stride: 1, Pad: 1},  // one padded output row; data gradient of two channels
	{C: 3, H: 5, W: 40, K: 5, KH: 3, KW: 3, Stride: 1, Pad: 1}, // 10 vectors per row: tiles straddle rows, 50 = 8·6+2
	{C: 1, H: 6, W: 12, K: 4, KH: 3, KW: 5, Stride: 1, Pad: 0}, // ow = 8, 15 lowered rows: last filter tile moved back
}

// convCheckAll checks the three kernels of shape s on n samples against the
// float64 reference.
func convCheckAll(t *testing.T, rng *rand.Rand, s ConvShape, n int) {
	t.Helper()
	x := convRand(rng, n*s.InSize())
	w := convRand(rng, s.WeightSize())
	bias := convRand(rng, s.K)
	dy := convRand(rng, n*s.OutSize())
	scratch := make([]float32, ConvScratchSize(s, n))
	for i := range scratch {
		scratch[i] = float32(math.NaN())
	}

	yWant, yMag := convRefForward(s, n, x, w, bias)
	y := make([]float32, n*s.OutSize())
	for i := range y {
		y[i] = float32(math.NaN())
	}
	Conv2DForward(s, n, x, w, bias, y, scratch)
	convCompare(t, "y", y, yWant, yMag)
	yWant, yMag = convRefForward(s, n, x, w, nil)
	Conv2DForward(s, n, x, w, nil, y, scratch)
	convCompare(t, "y(no bias)", y, yWant, yMag)

	dxWant, dxMag, dwWant, dwMag, dbWant, dbMag := convRefBackward(s, n, x, w, dy)
	dx := make([]float32, n*s.InSize())
	for i := range dx {
		dx[i] = float32(math.NaN())
	}
	Conv2DBackwardData(s, n, dy, w, dx, scratch)
	convCompare(t, "dx", dx, dxWant, dxMag)

	// The filter gradient accumulates onto what dw and db hold.
	dw0 := convRand(rng, s.WeightSize())
	db0 := convRand(rng, s.K)
	dw := append([]float32(nil), dw0...)
	db := append([]float32(nil), db0...)
	Conv2DBackwardFilter(s, n, x, dy, dw, db, scratch)
	for i := range dwWant {
		dwWant[i] += float64(dw0[i])
		dwMag[i] += math.Abs(float64(dw0[i]))
	}
	for i := range dbWant {
		dbWant[i] += float64(db0[i])
		dbMag[i] += math.Abs(float64(db0[i]))
	}
	convCompare(t, "dw", dw, dwWant, dwMag)
	convCompare(t, "db", db, dbWant, dbMag)
	// db may be nil.
	copy(dw, dw0)
	Conv2DBackwardFilter(s, n, x, dy, dw, nil, scratch)
	convCompare(t, "dw(no db)", dw, dwWant, dwMag)
}

func convWithGroup(cols int, flip bool, f func()) {
	oldCols, oldFlip := ConvGroupColumns, convFlipData
	ConvGroupColumns, convFlipData = cols, flip
	defer func() { ConvGroupColumns, convFlipData = oldCols, oldFlip }()
	f()
}

func convWithThreads(n int, f func()) {
	old := Threads()
	SetThreads(n)
	defer SetThreads(old)
	f()
}

func TestConvAgainstReference(t *testing.T) {
	defer func(d, f bool, g, r int) {
		convDirect, convFilter26, ConvDirectGroup, convFwdRows = d, f, g, r
	}(convDirect, convFilter26, ConvDirectGroup, convFwdRows)
	convForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(1))
		for _, s := range convTestShapes {
			if err := s.Validate(); err != nil {
				t.Fatalf("%+v: %v", s, err)
			}
			for _, n := range []int{1, 3} {
				for _, cols := range []int{1, 64, 1 << 20} { // one sample per GEMM, small groups, whole chunk
					for _, flip := range []bool{true, false} {
						direct := cols != 64 // the lowered path with several groups runs with cols 64
						convDirect = direct
						ConvDirectGroup = 2
						convFwdRows = 400
						convFilter26 = false
						if cols == 1<<20 {
							convFwdRows = 7     // several uneven row blocks per forward tile
							convFilter26 = true // the 2×6 filter tiles wherever they fit
						}
						for _, th := range []int{1, 2} {
							name := fmt.Sprintf("%dx%dx%d_k%d_%dx%d_s%d_p%d/n%d_cols%d_flip%v_direct%v_t%d",
								s.C, s.H, s.W, s.K, s.KH, s.KW, s.Stride, s.Pad, n, cols, flip, direct, th)
							t.Run(name, func(t *testing.T) {
								convWithThreads(th, func() {
									convWithGroup(cols, flip, func() { convCheckAll(t, rng, s, n) })
								})
							})
						}
					}
				}
			}
		}
	})
}

// TestConvFiniteDifference checks the gradients of L = Σ y·r, y =
// conv(x, w) + b, against central differences of the float64 reference
// forward and of the float32 kernel forward.
func TestConvFiniteDifference(t *testing.T) {
	shapes := []ConvShape{
		{C: 2, H: 7, W: 5, K: 3, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 3, H: 8, W: 9, K: 2, KH: 5, KW: 5, Stride: 1, Pad: 2},
		{C: 2, H: 9, W: 7, K: 3, KH: 3, KW: 3, Stride: 2, Pad: 1},
	}
	convForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(2))
		for _, s := range shapes {
			n := 2
			x := convRand(rng, n*s.InSize())
			w := convRand(rng, s.WeightSize())
			b := convRand(rng, s.K)
			r := convRand(rng, n*s.OutSize())
			scratch := make([]float32, ConvScratchSize(s, n))
			dx := make([]float32, len(x))
			dw := make([]float32, len(w))
			db := make([]float32, len(b))
			Conv2DBackwardData(s, n, r, w, dx, scratch)
			Conv2DBackwardFilter(s, n, x, r, dw, db, scratch)

			lossRef := func() float64 {
				y, _ := convRefForward(s, n, x, w, b)
				var l float64
				for i, v := range y {
					l += v * float64(r[i])
				}
				return l
			}
			y := make([]float32, n*s.OutSize())
			lossKernel := func() float64 {
				Conv2DForward(s, n, x, w, b, y, scratch)
				var l float64
				for i, v := range y {
					l += float64(v) * float64(r[i])
				}
				return l
			}
			check := func(name string, p []float32, grad []float32) {
				for trial := 0; trial < 12; trial++ {
					i := rng.Intn(len(p))
					old := p[i]
					const h = 0.5 // L is linear in each parameter.
					p[i] = old + h
					lp, kp := lossRef(), lossKernel()
					p[i] = old - h
					lm, km := lossRef(), lossKernel()
					p[i] = old
					fdRef := (lp - lm) / (2 * h)
					fdKer := (kp - km) / (2 * h)
					g := float64(grad[i])
					if math.Abs(fdRef-g) > 1e-4*(1+math.Abs(g)) {
						t.Errorf("%+v %s[%d]: gradient %g, reference finite difference %g", s, name, i, g, fdRef)
					}
					if math.Abs(fdKer-g) > 2e-3*(1+math.Abs(g)) {
						t.Errorf("%+v %s[%d]: gradient %g, kernel finite difference %g", s, name, i, g, fdKer)
					}
				}
			}
			check("x", x, dx)
			check("w", w, dw)
			check("b", b, db)
		}
	})
}

func TestConvShapeValidate(t *testing.T) {
	good := ConvShape{C: 3, H: 32, W: 32, K: 16, KH: 5, KW: 5, Stride: 1, Pad: 2}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if good.OH() != 32 || good.OW() != 32 {
		t.Fatalf("OH, OW = %d, %d; want 32, 32", good.OH(), good.OW())
	}
	if got, want := good.FLOPs(), int64(2*16*3*25*32*32); got != want {
		t.Fatalf("FLOPs = %d, want %d", got, want)
	}
	if got := good.ForwardFLOPs(150); got != 150*good.FLOPs() {
		t.Fatalf("ForwardFLOPs(150) = %d", got)
	}
	s2 := ConvShape{C: 1, H: 7, W: 5, K: 1, KH: 3, KW: 3, Stride: 2, Pad: 0}
	if s2.OH() != 3 || s2.OW() != 2 {
		t.Fatalf("OH, OW = %d, %d; want 3, 2", s2.OH(), s2.OW())
	}
	bad := []ConvShape{
		{C: 0, H: 4, W: 4, K: 1, KH: 3, KW: 3, Stride: 1},
		{C: 1, H: 4, W: 4, K: 1, KH: 3, KW: 3, Stride: 0},
		{C: 1, H: 4, W: 4, K: 1, KH: 3, KW: 3, Stride: 1, Pad: -1},
		{C: 1, H: 2, W: 4, K: 1, KH: 3, KW: 3, Stride: 1},
		{C: 1, H: 4, W: 4, K: 0, KH: 3, KW: 3, Stride: 1},
	}
	for _, s := range bad {
		if s.Validate() == nil {
			t.Errorf("%+v: Validate accepted a bad shape", s)
		}
	}
}

func TestConvScratchMonotone(t *testing.T) {
	for _, s := range convTestShapes {
		prev := 0
		for n := 1; n <= 200; n++ {
			sz := ConvScratchSize(s, n)
			if sz < prev {
				t.Fatalf("%+v: ConvScratchSize(%d) = %d < ConvScratchSize(%d) = %d", s, n, sz, n-1, prev)
			}
			prev = sz
		}
	}
}

// TestConvChunkSmallerThanScratch runs a chunk smaller than the one the
// scratch was sized for, as the last chunk of a batch does.
func TestConvChunkSmallerThanScratch(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	s := ConvShape{C: 3, H: 9, W: 7, K: 4, KH: 3, KW: 3, Stride: 1, Pad: 1}
	scratch := make([]float32, ConvScratchSize(s, 8))
	n := 5
	x := convRand(rng, n*s.InSize())
	w := convRand(rng, s.WeightSize())
	y := make([]float32, n*s.OutSize())
	convWithGroup(4*s.OH()*s.OW(), true, func() {
		scratch = make([]float32, ConvScratchSize(s, 8))
		Conv2DForward(s, n, x, w, nil, y, scratch)
	})
	want, mag := convRefForward(s, n, x, w, nil)
	convCompare(t, "y", y, want, mag)
}

func TestConvNoAllocs(t *testing.T) {
	s := ConvShape{C: 4, H: 16, W: 16, K: 8, KH: 5, KW: 5, Stride: 1, Pad: 2}
	n := 4
	rng := rand.New(rand.NewSource(4))
	x := convRand(rng, n*s.InSize())
	w := convRand(rng, s.WeightSize())
	b := convRand(rng, s.K)
	y := convRand(rng, n*s.OutSize())
	dx := make([]float32, len(x))
	dw := make([]float32, len(w))
	db := make([]float32, len(b))
	scratch := make([]float32, ConvScratchSize(s, n))
	convWithThreads(2, func() {
		allocs := testing.AllocsPerRun(10, func() {
			Conv2DForward(s, n, x, w, b, y, scratch)
			Conv2DBackwardData(s, n, y, w, dx, scratch)
			Conv2DBackwardFilter(s, n, x, y, dw, db, scratch)
		})
		if allocs != 0 {
			t.Fatalf("%v allocations per run, want 0", allocs)
		}
	})
}

func TestConvPanics(t *testing.T) {
	s := ConvShape{C: 2, H: 5, W: 5, K: 2, KH: 3, KW: 3, Stride: 1, Pad: 1}
	n := 2
	ok := func() (x, w, y, sc []float32) {
		return make([]float32, n*s.InSize()), make([]float32, s.WeightSize()),
			make([]float32, n*s.OutSize()), make([]float32, ConvScratchSize(s, n))
	}
	cases := map[string]func(){
		"short x": func() {
			x, w, y, sc := ok()
			Conv2DForward(s, n, x[1:], w, nil, y, sc)
		},
		"short scratch": func() {
			x, w, y, sc := ok()
			Conv2DForward(s, n, x, w, nil, y, sc[1:])
		},
		"short dx": func() {
			x, w, y, sc := ok()
			Conv2DBackwardData(s, n, y, w, x[1:], sc)
		},
		"short dw": func() {
			x, w, y, sc := ok()
			Conv2DBackwardFilter(s, n, x, y, w[1:], nil, sc)
		},
		"bad shape": func() {
			x, w, y, sc := ok()
			b := s
			b.Stride = 0
			Conv2DForward(b, n, x, w, nil, y, sc)
		},
	}
	for name, f := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestConvHelpers checks the row helpers on every path against plain loops,
// for every width around the vector sizes.
func TestConvHelpers(t *testing.T) {
	convForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(5))
		for cols := 1; cols <= 70; cols++ {
			rows := 3
			dstStride, srcStride := cols+5, cols+3
			src := convRand(rng, rows*srcStride)
			dst := convRand(rng, rows*dstStride+1)
			want := append([]float32(nil), dst...)
			convCopyRows(dst, src, rows, cols, dstStride, srcStride)
			for r := 0; r < rows; r++ {
				copy(want[r*dstStride:r*dstStride+cols], src[r*srcStride:])
			}
			for i := range want {
				if dst[i] != want[i] {
					t.Fatalf("copyRows cols=%d: dst[%d] = %g, want %g", cols, i, dst[i], want[i])
				}
			}
			convAddRows(dst, src, rows, cols, dstStride, srcStride)
			for r := 0; r < rows; r++ {
				for q := 0; q < cols; q++ {
					want[r*dstStride+q] += src[r*srcStride+q]
				}
			}
			for i := range want {
				if dst[i] != want[i] {
					t.Fatalf("addRows cols=%d: dst[%d] = %g, want %g", cols, i, dst[i], want[i])
				}
			}
			x := src[:cols]
			y := convRand(rng, cols+1)
			last := y[cols]
			convAddConst(y, x, 1.5)
			for i, v := range x {
				if y[i] != v+1.5 {
					t.Fatalf("addConst n=%d: y[%d] = %g, want %g", cols, i, y[i], v+1.5)
				}
			}
			if y[cols] != last {
				t.Fatalf("addConst n=%d wrote past the end", cols)
			}
			var ref, mag float64
			for _, v := range x {
				ref += float64(v)
				mag += math.Abs(float64(v))
			}
			if got := convSum32(x); math.Abs(float64(got)-ref) > 1e-6*mag+1e-6 {
				t.Fatalf("sum32 n=%d = %g, want %g", cols, got, ref)
			}
		}
		if convSum32(nil) != 0 {
			t.Fatal("sum32(nil) != 0")
		}
	})
}

// TestConvDirectPathUsed makes sure the shapes above exercise the direct
// path of every available path that has one, with that path's vectors.
func TestConvDirectPathUsed(t *testing.T) {
	defer func(p Path) { _ = SetPath(p) }(Active())
	for _, p := range AvailablePaths() {
		if convTable[p] == nil {
			continue
		}
		if err := SetPath(p); err != nil {
			t.Fatal(err)
		}
		lanes := convTable[p].lanes
		fwd, data, filter := 0, 0, 0
		for _, s := range convTestShapes {
			if ck := convKernelsFor(s.convGeom()); ck != nil && ck.lanes == lanes {
				fwd++
				if convDirectFilterOK(s.convGeom()) {
					filter++
				}
			}
			if s.flipOK() {
				if ck := convKernelsFor(s.flipped()); ck != nil && ck.lanes == lanes {
					data++
				}
			}
		}
		if fwd < 8 || data < 5 || filter < 8 {
			t.Fatalf("%s: direct path with %d-float vectors used by %d forward, %d data and %d filter shapes", p, lanes, fwd, data, filter)
		}
	}
}

// filterRowCounts lists the filter tile heights ck supports: 3, and its
// own if different.
func (ck *convKernels) filterRowCounts() []int {
	if ck.frows == 3 {
		return []int{3}
	}
	return []int{3, ck.frows}
}

// convTestTables returns the direct-path kernel tables of the available
// paths, each with its path's name.
func convTestTables() (names []string, cks []*convKernels) {
	for _, p := range AvailablePaths() {
		if ck := convTable[p]; ck != nil {
			names = append(names, p.String())
			cks = append(cks, ck)
		}
	}
	return names, cks
}

// TestConvTileKernels compares the tile kernels of every available path
// with their Go meaning.
func TestConvTileKernels(t *testing.T) {
	names, cks := convTestTables()
	for ci, ck := range cks {
		t.Run(names[ci], func(t *testing.T) { testConvTileKernels(t, ck) })
	}
}

func testConvTileKernels(t *testing.T, ck *convKernels) {
	rng := rand.New(rand.NewSource(7))
	L := ck.lanes
	for _, k := range []int{1, 2, 7, 75} {
		w := convRand(rng, 4*k)
		offs := make([]float32, k)
		o := 0
		for p := range offs {
			o += rng.Intn(5)
			offs[p] = math.Float32frombits(uint32(o))
		}
		x := convRand(rng, o+40+2*L)
		bias := convRand(rng, 4)
		ldy := 8 * L
		yv := [convMaxVecs]int{1, 3 * L, L + 2, 5*L + 2, 4*L + 1, 6*L + 3} // disjoint vectors
		for c, xv := range [][convMaxVecs]int{{0, 8, 16, 24, 32, 40}, {3, 3, 3, 3, 3, 3}, {20, 5, 11, 0, 7, 1}, {1, 2, 3, 4, 5, 6}} {
			acc := c == 3
			y := convRand(rng, 4*ldy+2*L)
			yg := append([]float32(nil), y...)
			nv := ck.vecs
			if c%2 == 1 && ck.small > 0 {
				nv = ck.small
			}
			convFwdTile(ck, nv, k, w, offs, x, &xv, bias, y, &yv, ldy, acc)
			convFwdTileRef(L, k, w, offs, x, xv[:nv], bias, yg, yv[:nv], ldy, acc)
			for i := range y {
				if math.Abs(float64(y[i]-yg[i])) > 1e-5*(1+math.Abs(float64(yg[i]))) {
					t.Fatalf("fwd tile k=%d: y[%d] = %g, want %g", k, i, y[i], yg[i])
				}
			}
		}
	}
	for _, c := range convTileCases(L) {
		offs := []int{0, 3, 1, 7, 9, 2}
		x := convRand(rng, (c.ns-1)*c.xs+9+(c.rows-1)*c.wp+L*c.nv)
		ldk := c.rows * L * c.nv
		dys := 3 * ldk
		dy := convRand(rng, (c.ns-1)*dys+2*ldk)
		out := make([]float32, 12)
		want := make([]float32, 12)
		convFilterTile26(ck, c.ns, x, c.xs, offs, dy, dys, ldk, c.rows, c.nv, c.wp, out)
		convFilterTile26Ref(L, c.ns, x, c.xs, offs, dy, dys, ldk, c.rows, c.nv, c.wp, want)
		for i := range out {
			if math.Abs(float64(out[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("filter tile 2×6 %+v: out[%d] = %g, want %g", c, i, out[i], want[i])
			}
		}
	}
	for _, c := range convTileCases(L) {
		o0, o1, o2 := 1, 2, 9
		x := convRand(rng, (c.ns-1)*c.xs+9+(c.rows-1)*c.wp+L*c.nv)
		ldk := c.rows * L * c.nv
		dys := 5 * ldk
		dy := convRand(rng, (c.ns-1)*dys+4*ldk)
		offs := []float32{math.Float32frombits(uint32(o0)), math.Float32frombits(uint32(o1)), math.Float32frombits(uint32(o2))}
		out := filterTileOut(ck, 3, c.ns, x, c.xs, offs, dy, dys, ldk, c.rows, c.nv, c.wp)
		want := make([]float32, 12)
		convFilterTileRef(L, c.ns, x, c.xs, []int{o0, o1, o2}, dy, dys, ldk, c.rows, c.nv, c.wp, want)
		for i := range out {
			if math.Abs(float64(out[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("filter tile %+v: out[%d] = %g, want %g", c, i, out[i], want[i])
			}
		}
	}
}

// convTileCase is one geometry of the filter tile tests: ns samples of xs
// floats, rows output rows of nv vectors in input rows of wp floats.
type convTileCase struct{ ns, rows, nv, wp, xs int }

// convTileCases returns the filter tile test geometries for vectors of
// lanes floats (input rows wider than the output rows by 0, 4 and 4).
func convTileCases(lanes int) []convTileCase {
	cs := []convTileCase{{1, 1, 1, 0, 40}, {2, 3, 2, 4, 70}, {3, 4, 4, 4, 200}}
	for i := range cs {
		cs[i].wp += lanes * cs[i].nv
		cs[i].xs += 4 * lanes * cs[i].nv
	}
	return cs
}

// filterTileOut returns the 4·np sums of one filter tile of np rows
// (offsets offs[0:np]) as the filter gradient's edge tiles get them:
// one-tile calls into a 4×np buffer of −0.
func filterTileOut(ck *convKernels, np, ns int, x []float32, xs int, offs, dy []float32, dys, ldk, rows, nv, wp int) []float32 {
	out := make([]float32, 4*np)
	for i := range out {
		out[i] = negZero
	}
	convFilterTiles(ck, np, ns, x, xs, offs, 0, 1, dy, dys, ldk, rows, nv, wp, out, 0, np)
	return out
}

// TestConvFilterTiles checks the multi-tile filter kernels of every
// available path (tiles of 3 rows, and of the path's own row count) against
// single tiles added one by one (bitwise: the same sums in the same order),
// and that they write nothing outside their four channels by np·nt rows.
func TestConvFilterTiles(t *testing.T) {
	names, cks := convTestTables()
	for ci, ck := range cks {
		for _, np := range ck.filterRowCounts() {
			t.Run(fmt.Sprintf("%s/rows%d", names[ci], np), func(t *testing.T) { testConvFilterTiles(t, ck, np) })
		}
	}
}

func testConvFilterTiles(t *testing.T, ck *convKernels, np int) {
	rng := rand.New(rand.NewSource(11))
	L := ck.lanes
	for _, c := range []struct{ ns, rows, nv, wp, xs, p0, nt, ldw int }{
		{1, 1, 1, 0, 40, 0, 1, 5},
		{2, 3, 2, 4, 70, 3, 2, 14},
		{3, 4, 4, 4, 200, 6, 5, 30},
		{4, 16, 2, 4, 400, 0, 8, 27},
	} {
		c.wp += L * c.nv
		c.xs += c.rows * c.wp
		c.ldw += (np - 3) * (c.p0/3 + c.nt) // room for the wider tiles
		c.p0 = c.p0 / 3 * np
		nrows := c.p0 + np*c.nt
		offs := make([]float32, nrows)
		o := 0
		for p := range offs {
			o += rng.Intn(4)
			offs[p] = math.Float32frombits(uint32(o))
		}
		x := convRand(rng, (c.ns-1)*c.xs+o+(c.rows-1)*c.wp+L*c.nv)
		ldk := c.rows * L * c.nv
		dys := 6 * ldk
		dy := convRand(rng, (c.ns-1)*dys+4*ldk)
		k0 := 1
		dw := convRand(rng, (k0+5)*c.ldw)
		want := append([]float32(nil), dw...)
		convFilterTiles(ck, np, c.ns, x, c.xs, offs, c.p0, c.nt, dy, dys, ldk, c.rows, c.nv, c.wp, dw, k0, c.ldw)
		for tl := 0; tl < c.nt; tl++ {
			p := c.p0 + np*tl
			out := filterTileOut(ck, np, c.ns, x, c.xs, offs[p:p+np], dy, dys, ldk, c.rows, c.nv, c.wp)
			for i := 0; i < 4; i++ {
				for j := 0; j < np; j++ {
					want[(k0+i)*c.ldw+p+j] += out[np*i+j]
				}
			}
		}
		for i := range dw {
			if !sameBits(dw[i], want[i]) {
				t.Fatalf("%+v: dw[%d] = %g, want %g", c, i, dw[i], want[i])
			}
		}
		// The pure-Go meaning agrees within rounding.
		dg := convRand(rng, len(dw))
		dg2 := append([]float32(nil), dg...)
		convFilterTiles(ck, np, c.ns, x, c.xs, offs, c.p0, c.nt, dy, dys, ldk, c.rows, c.nv, c.wp, dg, k0, c.ldw)
		convFilterTilesRef(L, np, c.ns, x, c.xs, offs[c.p0:], c.nt, dy, dys, ldk, c.rows, c.nv, c.wp, dg2[k0*c.ldw+c.p0:], c.ldw)
		for i := range dg {
			if math.Abs(float64(dg[i]-dg2[i])) > 1e-4*(1+math.Abs(float64(dg2[i]))) {
				t.Fatalf("%+v: Go meaning dw[%d] = %g, asm %g", c, i, dg2[i], dg[i])
			}
		}
	}
}

// TestConvConcurrent runs convolutions from several goroutines at once
// (each with its own scratch); calls that find the team busy run alone.
func TestConvConcurrent(t *testing.T) {
	s := ConvShape{C: 4, H: 8, W: 16, K: 8, KH: 3, KW: 3, Stride: 1, Pad: 1}
	n := 3
	rng := rand.New(rand.NewSource(8))
	x := convRand(rng, n*s.InSize())
	w := convRand(rng, s.WeightSize())
	want, mag := convRefForward(s, n, x, w, nil)
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		go func() {
			y := make([]float32, n*s.OutSize())
			scratch := make([]float32, ConvScratchSize(s, n))
			msg := ""
			for it := 0; it < 20 && msg == ""; it++ {
				Conv2DForward(s, n, x, w, nil, y, scratch)
				for i := range want {
					if math.Abs(float64(y[i])-want[i]) > 1e-5*mag[i]+1e-6 {
						msg = fmt.Sprintf("y[%d] = %g, want %g", i, y[i], want[i])
						break
					}
				}
			}
			errs <- msg
		}()
	}
	for g := 0; g < 4; g++ {
		if m := <-errs; m != "" {
			t.Error(m)
		}
	}
}

// TestConvScratchPathIndependent checks that the scratch size does not
// depend on the kernel path, so a network sized on one path runs on any.
func TestConvScratchPathIndependent(t *testing.T) {
	old := Active()
	defer func() { _ = SetPath(old) }()
	for _, s := range append(convTestShapes, smallConvNetShapes()...) {
		want := -1
		for _, p := range AvailablePaths() {
			if err := SetPath(p); err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 7, 16, 150} {
				sz := ConvScratchSize(s, n)
				if p == AvailablePaths()[0] && n == 16 {
					want = sz
				} else if n == 16 && sz != want {
					t.Fatalf("%+v: ConvScratchSize = %d on %s, %d on generic", s, sz, p, want)
				}
			}
		}
	}
}

func smallConvNetShapes() []ConvShape {
	return []ConvShape{
		{C: 3, H: 32, W: 32, K: 16, KH: 5, KW: 5, Stride: 1, Pad: 2},
		{C: 16, H: 32, W: 32, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2},
		{C: 32, H: 16, W: 16, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2},
	}
}

// TestConvLoweredRowBlocks runs the lowered path with scratch for only one
// or two output rows of one sample, as when a scratch sized for the direct
// path serves the generic path.
func TestConvLoweredRowBlocks(t *testing.T) {
	defer func(d bool) { convDirect = d }(convDirect)
	convDirect = false
	rng := rand.New(rand.NewSource(9))
	for _, s := range []ConvShape{
		{C: 3, H: 7, W: 8, K: 4, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 2, H: 9, W: 8, K: 3, KH: 3, KW: 3, Stride: 2, Pad: 1},
		{C: 2, H: 6, W: 16, K: 5, KH: 5, KW: 5, Stride: 1, Pad: 0},
	} {
		for _, rowsPer := range []int{1, 2} {
			n := 2
			g := s.convGeom()
			need := g.padSize() + rowsPer*g.rows()*g.ow
			scratch := make([]float32, need)
			x := convRand(rng, n*s.InSize())
			w := convRand(rng, s.WeightSize())
			b := convRand(rng, s.K)
			dy := convRand(rng, n*s.OutSize())
			y := make([]float32, n*s.OutSize())
			convFwdCore(g, n, x, w, b, y, scratch)
			yWant, yMag := convRefForward(s, n, x, w, b)
			convCompare(t, "y", y, yWant, yMag)
			dx := make([]float32, n*s.InSize())
			convBwdDataCol2im(s, n, dy, w, dx, scratch)
			dxWant, dxMag, dwWant, dwMag, _, _ := convRefBackward(s, n, x, w, dy)
			convCompare(t, "dx", dx, dxWant, dxMag)
			dw := make([]float32, s.WeightSize())
			convLoweredFilter(s, n, x, dy, dw, scratch)
			convCompare(t, "dw", dw, dwWant, dwMag)
		}
	}
}

// TestConvThreadsBitwise checks, on every path, that the three convolution
// kernels give the same bits with one and two threads (shapes of
// SmallConvNet's layers and a few edge cases of the direct path).
func TestConvThreadsBitwise(t *testing.T) {
	shapes := []ConvShape{
		{C: 3, H: 32, W: 32, K: 16, KH: 5, KW: 5, Stride: 1, Pad: 2},
		{C: 16, H: 16, W: 16, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2},
		{C: 9, H: 3, W: 48, K: 13, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 2, H: 7, W: 8, K: 3, KH: 3, KW: 3, Stride: 1, Pad: 1},
		{C: 3, H: 7, W: 5, K: 4, KH: 3, KW: 3, Stride: 2, Pad: 1},
	}
	convForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(3))
		for _, s := range shapes {
			n := 5
			x := convRand(rng, n*s.InSize())
			w := convRand(rng, s.WeightSize())
			b := convRand(rng, s.K)
			dy := convRand(rng, n*s.OutSize())
			scratch := make([]float32, ConvScratchSize(s, n))
			var outs [2][4][]float32
			for i, th := range []int{1, 2} {
				y := make([]float32, n*s.OutSize())
				dx := make([]float32, n*s.InSize())
				dw := make([]float32, s.WeightSize())
				db := make([]float32, s.K)
				convWithThreads(th, func() {
					Conv2DForward(s, n, x, w, b, y, scratch)
					Conv2DBackwardData(s, n, dy, w, dx, scratch)
					Conv2DBackwardFilter(s, n, x, dy, dw, db, scratch)
				})
				outs[i] = [4][]float32{y, dx, dw, db}
			}
			for k, name := range []string{"y", "dx", "dw", "db"} {
				for i := range outs[0][k] {
					if !sameBits(outs[0][k][i], outs[1][k][i]) {
						t.Fatalf("%+v: %s[%d] = %g with 1 thread, %g with 2", s, name, i, outs[0][k][i], outs[1][k][i])
					}
				}
			}
		}
	})
}
