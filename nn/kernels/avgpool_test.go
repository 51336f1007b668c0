package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

func avgPoolRef(c, h, w, k, stride, n int, x, dy []float32) (y, dx []float64) {
	oh, ow := AvgPoolOutSize(h, w, k, stride)
	y = make([]float64, n*c*oh*ow)
	dx = make([]float64, n*c*h*w)
	for pl := 0; pl < n*c; pl++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				var s float64
				g := float64(dy[(pl*oh+i)*ow+j]) / float64(k*k)
				for a := 0; a < k; a++ {
					for b := 0; b < k; b++ {
						idx := (pl*h+i*stride+a)*w + j*stride + b
						s += float64(x[idx])
						dx[idx] += g
					}
				}
				y[(pl*oh+i)*ow+j] = s / float64(k*k)
			}
		}
	}
	return y, dx
}

func TestAvgPool(t *testing.T) {
	type tc struct{ c, h, w, k, stride, n int }
	cases := []tc{
		{1, 2, 2, 2, 2, 1},
		{3, 32, 32, 2, 2, 2},
		{2, 16, 16, 2, 2, 3},
		{2, 7, 5, 2, 2, 3},   // odd: last row and column unused
		{1, 9, 35, 2, 2, 1},  // 17 outputs per row: vector + tail
		{2, 6, 48, 2, 2, 1},  // 24 outputs per row
		{2, 8, 33, 2, 2, 2},  // 16 outputs, one column unused
		{2, 7, 7, 3, 2, 3},   // overlapping windows
		{1, 9, 10, 3, 3, 2},  // k = stride = 3
		{2, 6, 5, 3, 1, 1},   // stride 1
		{1, 5, 5, 5, 1, 1},   // global pooling
		{3, 10, 12, 2, 1, 2}, // k 2 stride 1
		{1, 4, 4, 1, 2, 1},   // k 1 stride 2 (subsampling)
	}
	convForEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(6))
		for _, c := range cases {
			t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
				oh, ow := AvgPoolOutSize(c.h, c.w, c.k, c.stride)
				x := convRand(rng, c.n*c.c*c.h*c.w)
				dy := convRand(rng, c.n*c.c*oh*ow)
				yWant, dxWant := avgPoolRef(c.c, c.h, c.w, c.k, c.stride, c.n, x, dy)
				y := make([]float32, len(yWant)+1)
				dx := make([]float32, len(dxWant)+1)
				for i := range y {
					y[i] = float32(math.NaN())
				}
				for i := range dx {
					dx[i] = float32(math.NaN())
				}
				AvgPool2DForward(c.c, c.h, c.w, c.k, c.stride, c.n, x, y)
				AvgPool2DBackward(c.c, c.h, c.w, c.k, c.stride, c.n, dy, dx)
				for i, v := range yWant {
					if d := math.Abs(float64(y[i]) - v); !(d <= 1e-6*(1+math.Abs(v))) {
						t.Fatalf("y[%d] = %g, want %g", i, y[i], v)
					}
				}
				for i, v := range dxWant {
					if d := math.Abs(float64(dx[i]) - v); !(d <= 1e-6*(1+math.Abs(v))) {
						t.Fatalf("dx[%d] = %g, want %g", i, dx[i], v)
					}
				}
				if !math.IsNaN(float64(y[len(yWant)])) || !math.IsNaN(float64(dx[len(dxWant)])) {
					t.Fatal("wrote past the end")
				}
			})
		}
	})
}

func TestAvgPoolNoAllocs(t *testing.T) {
	x := make([]float32, 4*8*16*16)
	y := make([]float32, 4*8*8*8)
	if a := testing.AllocsPerRun(10, func() {
		AvgPool2DForward(8, 16, 16, 2, 2, 4, x, y)
		AvgPool2DBackward(8, 16, 16, 2, 2, 4, y, x)
	}); a != 0 {
		t.Fatalf("%v allocations per run", a)
	}
}

func TestAvgPoolPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"short y":  func() { AvgPool2DForward(1, 4, 4, 2, 2, 1, make([]float32, 16), make([]float32, 3)) },
		"short dx": func() { AvgPool2DBackward(1, 4, 4, 2, 2, 1, make([]float32, 4), make([]float32, 15)) },
		"k > h":    func() { AvgPool2DForward(1, 1, 4, 2, 2, 1, make([]float32, 4), make([]float32, 4)) },
	} {
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
