package train_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/rng"
	"github.com/spadlab/spad/nn/tensorio"
	"github.com/spadlab/spad/train"
)

// blobs makes n samples of dim features in classes Gaussian clusters.
func blobs(n, dim, classes int, seed uint64) ([]float32, []uint8) {
	src := rng.New(rng.Key{Seed: seed})
	centers := make([]float64, classes*dim)
	for i := range centers {
		centers[i] = 2 * src.NormFloat64()
	}
	x := make([]float32, n*dim)
	y := make([]uint8, n)
	for i := 0; i < n; i++ {
		c := src.Intn(classes)
		y[i] = uint8(c)
		for j := 0; j < dim; j++ {
			x[i*dim+j] = float32(centers[c*dim+j] + src.NormFloat64())
		}
	}
	return x, y
}

// A custom MLP whose Dense layers save only a quarter of their input,
// trained with SPAD on a synthetic problem held in a gorgonia tensor.
func ExampleFit() {
	xs, ys := blobs(2000, 32, 4, 1)
	images := tensor.New(tensor.WithShape(2000, 32), tensor.WithBacking(xs))

	spad := inject.Estimator{Mode: inject.SPAD, Kind: inject.SameSample, Keep: 0.25, KMax: 10, M: 4}
	h1, h2 := layers.NewDense(32, 64), layers.NewDense(64, 4)
	h1.Estimator, h2.Estimator = spad, spad
	net := nn.NewNetwork(nn.Shape{32}, h1, layers.NewReLU(), h2)
	if err := net.Build(50, 0, 7); err != nil {
		panic(err)
	}
	x, err := tensorio.Float32s(images)
	if err != nil {
		panic(err)
	}
	if _, err := train.Fit(net, x[:1500*32], ys[:1500], train.FitConfig{Iters: 300, LR: 3e-3, Seed: 1}); err != nil {
		panic(err)
	}
	_, correct := net.Evaluate(x[1500*32:], ys[1500:], 500)
	fmt.Println("held-out accuracy above 90%:", correct > 450)
	// Output: held-out accuracy above 90%: true
}

// A custom convolutional network trained with RAD by a hand-written loop:
// tell vertical from horizontal bars in noisy 1×8×8 images.
func Example_convNet() {
	src := rng.New(rng.Key{Seed: 3})
	const n, batch = 400, 20
	x := make([]float32, n*64)
	y := make([]uint8, n)
	for i := 0; i < n; i++ {
		y[i] = uint8(i % 2)
		pos := src.Intn(8)
		for p := 0; p < 64; p++ {
			r, c := p/8, p%8
			v := 0.3 * src.NormFloat64()
			if (y[i] == 0 && c == pos) || (y[i] == 1 && r == pos) {
				v += 1
			}
			x[i*64+p] = float32(v)
		}
	}
	rad := inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.25}
	conv := layers.NewConv2D(1, 4, 3, 1, 1)
	conv.Estimator = rad
	net := nn.NewNetwork(nn.Shape{1, 8, 8}, conv, layers.NewReLU(), layers.NewAvgPool2D(2, 2), layers.NewFlatten(), layers.NewDense(64, 2))
	if err := net.Build(batch, 0, 5); err != nil {
		panic(err)
	}
	adam := train.NewAdam(0)
	for it := 0; it < 200; it++ {
		off := (it * batch) % (n - 100)
		net.TrainStep(x[off*64:(off+batch)*64], y[off:off+batch], batch, int64(it), nil)
		adam.Step(net.Params(), 1e-2)
	}
	_, correct := net.Evaluate(x[300*64:], y[300:], 100)
	fmt.Println("held-out accuracy above 90%:", correct > 90)
	// Output: held-out accuracy above 90%: true
}

// Reading the memory figures: the exact bytes saved for backward by
// SmallFCNet at batch 150 with the baseline and with RAD at keep 0.1.
func Example_memory() {
	spec, _ := models.Get("smallfc")
	for _, e := range []inject.Estimator{{}, {Mode: inject.RAD, Kind: inject.Project, Keep: 0.1}} {
		net := spec.New(models.Options{Estimator: e})
		if err := net.Build(150, 0, 1); err != nil {
			panic(err)
		}
		fmt.Printf("%-28s saves %7d bytes for backward (%d parameters)\n", e, net.SavedBytes(), net.ParamCount())
	}
	// Output:
	// baseline                     saves 1033296 bytes for backward (419110 parameters)
	// rad(kind=project keep=0.1)   saves  124296 bytes for backward (419110 parameters)
}
