package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// forEachPath runs f as a subtest once per available path and restores the
// active path afterwards.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := Active()
	defer func() {
		if err := SetPath(saved); err != nil {
			t.Fatal(err)
		}
	}()
	for _, p := range AvailablePaths() {
		if err := SetPath(p); err != nil {
			t.Fatal(err)
		}
		t.Run(p.String(), f)
	}
}

// ewLengths are the vector lengths the tests try: every length up to 300
// and a few large ones with awkward remainders.
func ewLengths() []int {
	var ns []int
	for n := 0; n <= 300; n++ {
		ns = append(ns, n)
	}
	return append(ns, 511, 512, 513, 1000, 4099, 65536+13)
}

const ewGuard = 19 // guard elements after each test slice

var ewSentinel = float32(math.Float32frombits(0x7fc0dead)) // a NaN payload

// ewBuf returns a slice of n float32 starting off elements into a fresh
// buffer (so its address is unaligned for off%8 != 0), followed by guard
// elements holding a sentinel value.
func ewBuf(n, off int) []float32 {
	b := make([]float32, off+n+ewGuard)
	for i := range b {
		b[i] = ewSentinel
	}
	s := b[off : off+n : off+n]
	if n > 0 {
		ewGuards[&s[0]] = b[off+n:]
	}
	return s
}

// ewGuards maps the first element of each non-empty test slice to the guard
// elements following it.
var ewGuards = map[*float32][]float32{}

// ewCheckGuard fails if anything after s (within its buffer) was written; s
// must come from ewBuf.
func ewCheckGuard(t *testing.T, name string, s []float32) {
	t.Helper()
	if len(s) == 0 {
		return
	}
	g := ewGuards[&s[0]]
	delete(ewGuards, &s[0])
	for i, v := range g {
		if math.Float32bits(v) != math.Float32bits(ewSentinel) {
			t.Fatalf("%s: wrote past the end of a %d-element slice (index %d)", name, len(s), len(s)+i)
		}
	}
}

func ewFill(r *rand.Rand, s []float32, scale float64) {
	for i := range s {
		s[i] = float32(r.NormFloat64() * scale)
	}
}

func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

func TestZero(t *testing.T) {
	x := []float32{1, 2, 3}
	Zero(x)
	Zero(nil)
	for _, v := range x {
		if v != 0 {
			t.Fatal("Zero left a non-zero")
		}
	}
}

func TestAddBias(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, rows := range []int{0, 1, 2, 3, 7} {
			for _, cols := range ewLengths() {
				if rows*cols > 40000 {
					continue
				}
				x := ewBuf(rows*cols, (rows+cols)%4)
				b := ewBuf(cols, (cols+1)%3)
				ewFill(r, x, 1)
				ewFill(r, b, 1)
				x0 := append([]float32(nil), x...)
				AddBias(x, b, rows, cols)
				for i := range x {
					want := float32(float64(x0[i]) + float64(b[i%cols]))
					if !sameBits(x[i], want) {
						t.Fatalf("rows=%d cols=%d i=%d: got %v want %v", rows, cols, i, x[i], want)
					}
				}
				ewCheckGuard(t, "AddBias", x)
			}
		}
	})
}

func TestAddBiasChannels(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, n := range []int{1, 2, 3} {
			for _, chans := range []int{1, 3, 8} {
				for _, hw := range ewLengths() {
					if n*chans*hw > 60000 {
						continue
					}
					x := ewBuf(n*chans*hw, hw%4)
					b := ewBuf(chans, 1)
					ewFill(r, x, 1)
					ewFill(r, b, 1)
					x0 := append([]float32(nil), x...)
					AddBiasChannels(x, b, n, chans, hw)
					for i := range x {
						want := float32(float64(x0[i]) + float64(b[(i/hw)%chans]))
						if !sameBits(x[i], want) {
							t.Fatalf("n=%d chans=%d hw=%d i=%d: got %v want %v", n, chans, hw, i, x[i], want)
						}
					}
					ewCheckGuard(t, "AddBiasChannels", x)
				}
			}
		}
	})
}

func TestSumRows(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, rows := range []int{0, 1, 2, 5, 33, 150} {
			for _, cols := range ewLengths() {
				if rows*cols > 100000 {
					continue
				}
				x := ewBuf(rows*cols, cols%4)
				d := ewBuf(cols, (cols+3)%4)
				ewFill(r, x, 1)
				ewFill(r, d, 1)
				d0 := append([]float32(nil), d...)
				SumRows(d, x, rows, cols)
				for c := 0; c < cols; c++ {
					want, abs := float64(d0[c]), math.Abs(float64(d0[c]))
					for i := 0; i < rows; i++ {
						v := float64(x[i*cols+c])
						want += v
						abs += math.Abs(v)
					}
					tol := float64(rows+1) * 0x1p-24 * abs
					if math.Abs(float64(d[c])-want) > tol {
						t.Fatalf("rows=%d cols=%d c=%d: got %v want %v (tol %g)", rows, cols, c, d[c], want, tol)
					}
				}
				ewCheckGuard(t, "SumRows", d)
			}
		}
	})
}

func TestSumChannels(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		for _, n := range []int{1, 2, 5} {
			for _, chans := range []int{1, 3, 8} {
				for _, hw := range ewLengths() {
					if n*chans*hw > 60000 {
						continue
					}
					x := ewBuf(n*chans*hw, (hw+2)%4)
					d := ewBuf(chans, 3)
					ewFill(r, x, 1)
					ewFill(r, d, 1)
					d0 := append([]float32(nil), d...)
					SumChannels(d, x, n, chans, hw)
					for ch := 0; ch < chans; ch++ {
						want, abs := float64(d0[ch]), math.Abs(float64(d0[ch]))
						for s := 0; s < n; s++ {
							for p := 0; p < hw; p++ {
								v := float64(x[(s*chans+ch)*hw+p])
								want += v
								abs += math.Abs(v)
							}
						}
						tol := float64(n*hw+n+1) * 0x1p-24 * abs
						if math.Abs(float64(d[ch])-want) > tol {
							t.Fatalf("n=%d chans=%d hw=%d ch=%d: got %v want %v (tol %g)", n, chans, hw, ch, d[ch], want, tol)
						}
					}
					ewCheckGuard(t, "SumChannels", d)
				}
			}
		}
	})
}

// reluInput fills x with random values including zeros of both signs, NaN,
// infinities and subnormals.
func reluInput(r *rand.Rand, x []float32) {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)),
		float32(math.Inf(-1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32}
	for i := range x {
		if r.IntN(10) == 0 {
			x[i] = special[r.IntN(len(special))]
		} else {
			x[i] = float32(r.NormFloat64())
		}
	}
}

func TestReluForward(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, n := range ewLengths() {
			for _, alias := range []bool{false, true} {
				x := ewBuf(n, n%4)
				reluInput(r, x)
				x0 := append([]float32(nil), x...)
				y := x
				if !alias {
					y = ewBuf(n, (n+1)%4)
				}
				words := (n + 63) / 64
				maskBuf := make([]uint64, words+1)
				for i := range maskBuf {
					maskBuf[i] = ^uint64(0) // garbage that must be overwritten
				}
				mask := maskBuf[:words]
				ReluForward(y, x, mask)
				for i, v := range x0 {
					want := float32(0)
					if v > 0 {
						want = v
					}
					if !sameBits(y[i], want) {
						t.Fatalf("n=%d i=%d x=%v: y=%v want %v", n, i, v, y[i], want)
					}
					if got := mask[i/64]>>(i%64)&1 != 0; got != (v > 0) {
						t.Fatalf("n=%d i=%d x=%v: mask bit %v", n, i, v, got)
					}
				}
				if n%64 != 0 && mask[words-1]>>(n%64) != 0 {
					t.Fatalf("n=%d: unused high bits of the last mask word not cleared: %#x", n, mask[words-1])
				}
				if maskBuf[words] != ^uint64(0) {
					t.Fatalf("n=%d: wrote past the mask", n)
				}
				ewCheckGuard(t, "ReluForward y", y)

				// Without a mask.
				y2 := ewBuf(n, 2)
				ReluForward(y2, x0, nil)
				for i, v := range x0 {
					want := float32(0)
					if v > 0 {
						want = v
					}
					if !sameBits(y2[i], want) {
						t.Fatalf("nil mask n=%d i=%d x=%v: y=%v want %v", n, i, v, y2[i], want)
					}
				}
				ewCheckGuard(t, "ReluForward nil mask", y2)
			}
		}
	})
}

func TestMaskMul(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, n := range ewLengths() {
			for _, alias := range []bool{false, true} {
				dy := ewBuf(n, (n+2)%4)
				reluInput(r, dy)
				dy0 := append([]float32(nil), dy...)
				dx := dy
				if !alias {
					dx = ewBuf(n, n%4)
				}
				// Random bits everywhere, including past n in the last word.
				mask := make([]uint64, (n+63)/64)
				for i := range mask {
					mask[i] = r.Uint64()
				}
				scale := float32(1)
				if n%2 == 1 {
					scale = 1 / 0.7
				}
				MaskMul(dx, dy, mask, scale)
				for i, v := range dy0 {
					want := float32(0)
					if mask[i/64]>>(i%64)&1 != 0 {
						want = float32(float64(v) * float64(scale))
					}
					if !sameBits(dx[i], want) && !(math.IsNaN(float64(dx[i])) && math.IsNaN(float64(want))) {
						t.Fatalf("n=%d i=%d dy=%v: dx=%v want %v", n, i, v, dx[i], want)
					}
				}
				ewCheckGuard(t, "MaskMul", dx)
			}
		}
	})
}

// adamRef is the float64 reference of one Adam step on one element.
func adamRef(w, g, m, v, lr, b1, b2, eps, wd, c1, c2 float64) (w2, m2, v2 float64) {
	gi := g + wd*w
	m2 = b1*m + (1-b1)*gi
	v2 = b2*v + (1-b2)*gi*gi
	w2 = w - lr*c1*m2/(math.Sqrt(v2*c2)+eps)
	return
}

func TestAdam(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, n := range ewLengths() {
			const lr, b1, b2, eps, wd = 1e-3, 0.9, 0.999, 1e-8, 1e-4
			step := 1 + n%7
			c1 := 1 / (1 - math.Pow(b1, float64(step)))
			c2 := 1 / (1 - math.Pow(b2, float64(step)))
			w, g := ewBuf(n, n%4), ewBuf(n, (n+1)%4)
			m, v := ewBuf(n, (n+2)%4), ewBuf(n, (n+3)%4)
			ewFill(r, w, 0.1)
			ewFill(r, g, 0.01)
			ewFill(r, m, 0.003)
			for i := range v {
				v[i] = float32(math.Abs(r.NormFloat64()) * 1e-5)
			}
			if n > 3 {
				g[0], m[0], v[0] = 0, 0, 0 // v' = 0: the update is exactly 0
			}
			w0, g0 := append([]float32(nil), w...), append([]float32(nil), g...)
			m0, v0 := append([]float32(nil), m...), append([]float32(nil), v...)
			Adam(w, g, m, v, lr, b1, b2, eps, wd, float32(c1), float32(c2))
			for i := 0; i < n; i++ {
				fw, fg, fm, fv := float64(w0[i]), float64(g0[i]), float64(m0[i]), float64(v0[i])
				// The constants as the kernels see them (rounded to float32).
				f := func(x float64) float64 { return float64(float32(x)) }
				wantW, wantM, wantV := adamRef(fw, fg, fm, fv, f(lr), f(b1), f(b2), f(eps), f(wd), f(c1), f(c2))
				// Tolerances scale with the magnitude of the terms, so that
				// cancellation in g' or m does not make them meaningless.
				sg := math.Abs(fg) + math.Abs(wd*fw)
				sm := math.Abs(b1*fm) + (1-b1)*sg
				sv := b2*fv + (1-b2)*sg*sg
				den := math.Sqrt(wantV*f(c2)) + eps
				su := lr * c1 * sm / den
				const rel = 1e-6
				if math.Abs(float64(m[i])-wantM) > rel*sm+1e-30 ||
					math.Abs(float64(v[i])-wantV) > rel*sv+1e-30 ||
					math.Abs(float64(w[i])-wantW) > rel*(math.Abs(fw)+su)+1e-30 {
					t.Fatalf("n=%d i=%d: got w=%v m=%v v=%v, want w=%v m=%v v=%v", n, i, w[i], m[i], v[i], wantW, wantM, wantV)
				}
			}
			ewCheckGuard(t, "Adam w", w)
			ewCheckGuard(t, "Adam m", m)
			ewCheckGuard(t, "Adam v", v)
			ewCheckGuard(t, "Adam g", g)
		}
	})
}

func TestAxpyScale(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(15, 16))
		for _, n := range ewLengths() {
			x, y := ewBuf(n, n%4), ewBuf(n, (n+3)%4)
			ewFill(r, x, 1)
			ewFill(r, y, 1)
			y0 := append([]float32(nil), y...)
			alpha := float32(-0.37)
			Axpy(alpha, x, y)
			for i := range y {
				ax := float64(alpha) * float64(x[i])
				want := float64(y0[i]) + ax
				tol := 0x1p-23 * (math.Abs(float64(y0[i])) + math.Abs(ax))
				if math.Abs(float64(y[i])-want) > tol {
					t.Fatalf("Axpy n=%d i=%d: got %v want %v", n, i, y[i], want)
				}
			}
			ewCheckGuard(t, "Axpy", y)

			Scale(alpha, x[:n:n])
			y1 := append([]float32(nil), y...)
			Scale(1.5, y)
			for i := range y {
				want := float32(float64(y1[i]) * 1.5)
				if !sameBits(y[i], want) {
					t.Fatalf("Scale n=%d i=%d: got %v want %v", n, i, y[i], want)
				}
			}
			ewCheckGuard(t, "Scale", y)
		}
	})
}

func TestSumSquares(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(17, 18))
		for _, n := range ewLengths() {
			x := ewBuf(n, n%4)
			ewFill(r, x, 3)
			var want float64
			for _, v := range x {
				want += float64(v) * float64(v)
			}
			got := SumSquares(x)
			if math.Abs(got-want) > float64(n+1)*0x1p-52*want {
				t.Fatalf("n=%d: got %v want %v", n, got, want)
			}
		}
	})
}

func TestSoftmaxXent(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(19, 20))
		for _, cols := range []int{1, 10, softmaxStackCols, softmaxStackCols + 5} {
			testSoftmaxXent(t, r, 37, cols)
		}
	})
}

func testSoftmaxXent(t *testing.T, r *rand.Rand, rows, cols int) {
	{
		logits := make([]float32, rows*cols)
		ewFill(r, logits, 3)
		labels := make([]uint8, rows)
		for i := range labels {
			labels[i] = uint8(r.IntN(cols))
		}
		grad := make([]float32, rows*cols)
		scale := float32(1.0 / float64(rows))
		loss, correct := SoftmaxXent(logits, labels, rows, cols, grad, scale)
		var wantLoss float64
		wantCorrect := 0
		for i := 0; i < rows; i++ {
			z := logits[i*cols : i*cols+cols]
			arg := 0
			var sum float64
			for c, v := range z {
				if v > z[arg] {
					arg = c
				}
				sum += math.Exp(float64(v))
			}
			if arg == int(labels[i]) {
				wantCorrect++
			}
			wantLoss += math.Log(sum) - float64(z[labels[i]])
			for c, v := range z {
				want := math.Exp(float64(v)) / sum
				if c == int(labels[i]) {
					want--
				}
				want *= float64(scale)
				if math.Abs(float64(grad[i*cols+c])-want) > 1e-6*float64(scale) {
					t.Fatalf("cols %d row %d class %d: grad %v want %v", cols, i, c, grad[i*cols+c], want)
				}
			}
		}
		if correct != wantCorrect || math.Abs(loss-wantLoss) > 1e-9*(math.Abs(wantLoss)+float64(rows)) {
			t.Fatalf("cols %d: got loss %v correct %d, want %v %d", cols, loss, correct, wantLoss, wantCorrect)
		}
		l2, c2 := SoftmaxXent(logits, labels, rows, cols, nil, scale)
		if l2 != loss || c2 != correct {
			t.Fatal("SoftmaxXent without grad differs")
		}
	}
}

// TestElementwiseShortPanics checks that slices too short for the stated
// sizes panic (as the Go code would) instead of being read or written past
// their end by the assembly.
func TestElementwiseShortPanics(t *testing.T) {
	cases := map[string]func(){
		"AddBias x":       func() { AddBias(make([]float32, 99), make([]float32, 10), 10, 10) },
		"AddBias bias":    func() { AddBias(make([]float32, 100), make([]float32, 9), 10, 10) },
		"AddBiasChannels": func() { AddBiasChannels(make([]float32, 23), make([]float32, 3), 2, 3, 4) },
		"SumRows":         func() { SumRows(make([]float32, 9), make([]float32, 100), 10, 10) },
		"SumChannels":     func() { SumChannels(make([]float32, 2), make([]float32, 24), 2, 3, 4) },
		"ReluForward y":   func() { ReluForward(make([]float32, 64), make([]float32, 65), nil) },
		"ReluForward m":   func() { ReluForward(make([]float32, 65), make([]float32, 65), make([]uint64, 1)) },
		"MaskMul mask":    func() { MaskMul(make([]float32, 129), make([]float32, 129), make([]uint64, 2), 1) },
		"MaskMul dx":      func() { MaskMul(make([]float32, 128), make([]float32, 129), make([]uint64, 3), 1) },
		"Adam": func() {
			Adam(make([]float32, 9), make([]float32, 9), make([]float32, 8), make([]float32, 9), 1, .9, .9, 1e-8, 0, 1, 1)
		},
		"Axpy": func() { Axpy(1, make([]float32, 9), make([]float32, 8)) },
	}
	forEachPath(t, func(t *testing.T) {
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
	})
}

func TestElementwiseAllocs(t *testing.T) {
	const rows, cols = 15, 37
	x := make([]float32, rows*cols)
	y := make([]float32, rows*cols)
	b := make([]float32, cols)
	w, g, m, v := make([]float32, 1001), make([]float32, 1001), make([]float32, 1001), make([]float32, 1001)
	mask := make([]uint64, (rows*cols+63)/64)
	logits := make([]float32, 150*10)
	labels := make([]uint8, 150)
	grad := make([]float32, 150*10)
	forEachPath(t, func(t *testing.T) {
		fs := map[string]func(){
			"Zero":            func() { Zero(x) },
			"AddBias":         func() { AddBias(x, b, rows, cols) },
			"AddBiasChannels": func() { AddBiasChannels(x, b, 1, cols, rows) },
			"SumRows":         func() { SumRows(b, x, rows, cols) },
			"SumChannels":     func() { SumChannels(b, x, 1, cols, rows) },
			"ReluForward":     func() { ReluForward(y, x, mask) },
			"ReluForwardNil":  func() { ReluForward(y, x, nil) },
			"MaskMul":         func() { MaskMul(y, x, mask, 2) },
			"SoftmaxXent":     func() { SoftmaxXent(logits, labels, 150, 10, grad, 1.0/150) },
			"Adam":            func() { Adam(w, g, m, v, 1e-3, .9, .999, 1e-8, 1e-4, 10, 1000) },
			"Axpy":            func() { Axpy(0.5, x, y) },
			"Scale":           func() { Scale(0.5, x) },
			"SumSquares":      func() { _ = SumSquares(x) },
		}
		for name, f := range fs {
			if a := testing.AllocsPerRun(20, f); a != 0 {
				t.Errorf("%s: %v allocations per call", name, a)
			}
		}
	})
}

// benchPaths runs f as a sub-benchmark per available path, restoring the
// active path afterwards.
func benchPaths(b *testing.B, f func(b *testing.B)) {
	saved := Active()
	defer func() { _ = SetPath(saved) }()
	for _, p := range AvailablePaths() {
		if err := SetPath(p); err != nil {
			b.Fatal(err)
		}
		b.Run(p.String(), f)
	}
}

// Benchmark sizes follow the small fully connected network used in the
// end-to-end benchmarks: 266,610 parameters for Adam, activations of a batch
// of 150 by 300 units for the others.
const (
	benchAdamParams = 266610
	benchRows       = 150
	benchCols       = 300
)

func benchData(n int) []float32 {
	r := rand.New(rand.NewPCG(21, 22))
	x := make([]float32, n)
	ewFill(r, x, 1)
	return x
}

func BenchmarkAdam(b *testing.B) {
	n := benchAdamParams
	w, g, m := benchData(n), benchData(n), benchData(n)
	v := benchData(n)
	for i := range v {
		v[i] = float32(math.Abs(float64(v[i])))
	}
	benchPaths(b, func(b *testing.B) {
		b.SetBytes(int64(n) * 4 * 7) // 4 arrays read, 3 written
		for b.Loop() {
			Adam(w, g, m, v, 1e-3, .9, .999, 1e-8, 1e-4, 1.1, 1.01)
		}
	})
}

func BenchmarkRelu(b *testing.B) {
	n := benchRows * benchCols
	x, y := benchData(n), make([]float32, n)
	mask := make([]uint64, (n+63)/64)
	benchPaths(b, func(b *testing.B) {
		b.SetBytes(int64(n)*8 + int64(len(mask))*8)
		for b.Loop() {
			ReluForward(y, x, mask)
		}
	})
}

func BenchmarkMaskMul(b *testing.B) {
	n := benchRows * benchCols
	dy, dx := benchData(n), make([]float32, n)
	mask := make([]uint64, (n+63)/64)
	ReluForward(dx, dy, mask)
	benchPaths(b, func(b *testing.B) {
		b.SetBytes(int64(n)*8 + int64(len(mask))*8)
		for b.Loop() {
			MaskMul(dx, dy, mask, 1)
		}
	})
}

func BenchmarkAddBias(b *testing.B) {
	x, bias := benchData(benchRows*benchCols), benchData(benchCols)
	benchPaths(b, func(b *testing.B) {
		b.SetBytes(benchRows * benchCols * 8)
		for b.Loop() {
			AddBias(x, bias, benchRows, benchCols)
		}
	})
}

func BenchmarkSumRows(b *testing.B) {
	x, dst := benchData(benchRows*benchCols), make([]float32, benchCols)
	benchPaths(b, func(b *testing.B) {
		b.SetBytes(benchRows * benchCols * 4)
		for b.Loop() {
			SumRows(dst, x, benchRows, benchCols)
		}
	})
}

func BenchmarkSumSquares(b *testing.B) {
	x := benchData(benchAdamParams)
	benchPaths(b, func(b *testing.B) {
		b.SetBytes(int64(len(x)) * 4)
		for b.Loop() {
			_ = SumSquares(x)
		}
	})
}

func BenchmarkSoftmaxXent(b *testing.B) {
	logits := benchData(150 * 10)
	labels := make([]uint8, 150)
	for i := range labels {
		labels[i] = uint8(i % 10)
	}
	grad := make([]float32, 150*10)
	b.Run(fmt.Sprintf("%dx%d", 150, 10), func(b *testing.B) {
		for b.Loop() {
			SoftmaxXent(logits, labels, 150, 10, grad, 1.0/150)
		}
	})
}

// TestSignFill checks the sign expansion on every path against its
// definition, for lengths around the 32-value word.
func TestSignFill(t *testing.T) {
	words := []uint32{0, 0xffffffff, 0x80000001, 0x12345678, 0xdeadbeef, 0x0f0f0f0f}
	for _, n := range []int{0, 1, 31, 32, 33, 64, 100, 192} {
		dst := make([]float32, n+1)
		dst[n] = 7
		SignFill(dst[:n], words, -0.25)
		for i := 0; i < n; i++ {
			want := float32(0.25)
			if words[i/32]>>(i%32)&1 == 1 {
				want = -0.25
			}
			if dst[i] != want {
				t.Fatalf("n=%d: dst[%d] = %g, want %g", n, i, dst[i], want)
			}
		}
		if dst[n] != 7 {
			t.Fatalf("n=%d: wrote past the end", n)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("SignFill with too few words did not panic")
		}
	}()
	SignFill(make([]float32, 33), words[:1], 1)
}

// TestAdamAVX512Bits checks that the AVX-512 Adam kernel, whose lanes run
// the operations of the AVX2 kernel, gives the AVX2 kernel's bits, on
// lengths that end in every tail and cross its 32-element blocks.
func TestAdamAVX512Bits(t *testing.T) {
	if !Available(AVX512) || !Available(AVX2) {
		t.Skip("needs the AVX2 and AVX-512 paths")
	}
	saved := Active()
	defer func() { _ = SetPath(saved) }()
	r := rand.New(rand.NewPCG(15, 16))
	for _, n := range ewLengths() {
		w, g := ewBuf(n, 1), ewBuf(n, 2)
		m, v := ewBuf(n, 3), ewBuf(n, 0)
		ewFill(r, w, 0.1)
		ewFill(r, g, 0.01)
		ewFill(r, m, 0.003)
		for i := range v {
			v[i] = float32(math.Abs(r.NormFloat64()) * 1e-5)
		}
		var out [2][4][]float32
		for i, p := range []Path{AVX2, AVX512} {
			_ = SetPath(p)
			ws, ms, vs, gs := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...), append([]float32(nil), g...)
			Adam(ws, gs, ms, vs, 1e-3, 0.9, 0.999, 1e-8, 1e-4, 3.1, 17.5)
			out[i] = [4][]float32{ws, ms, vs, gs}
		}
		for j, name := range []string{"w", "m", "v", "g"} {
			if i := firstDiff(out[0][j], out[1][j]); i >= 0 {
				t.Fatalf("n=%d: %s[%d] = %v on avx512, %v on avx2", n, name, i, out[1][j][i], out[0][j][i])
			}
		}
	}
}
