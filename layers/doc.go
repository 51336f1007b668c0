// Package layers holds the building blocks of networks — Dense, Conv2D,
// ReLU, AvgPool2D, Flatten, Dropout — each with its forward and backward
// side by side, so a reader sees in one screen what a layer saves and what
// its backward reads back.
//
// Dense and Conv2D take a gradient estimator (package inject): with the
// baseline they save their full input; with RAD or SPAD they save a
// compressed copy and rebuild an unbiased estimate of it in backward.
// A RAD or SPAD estimator must set its fields (Keep; M and KMax for SPAD):
// Build names the ones left at zero.
//
// Every layer can be built for inference only (nn.InferenceBuilder): no
// gradients, nothing saved, the estimator ignored. Dense and Conv2D carry
// their scheduler's state between steps and implement nn.Stateful; the
// other layers keep nothing across steps (Dropout's masks are keyed by
// seed, layer and iteration). Each layer embeds nn.Membership, so one layer
// object cannot be built into two networks.
package layers

import (
	"math"

	"github.com/spadlab/spad/nn/rng"
)

// initDraw is the draw number reserved for a layer's initial weights; it
// never collides with per-iteration draws (iteration<<8 | candidate).
const initDraw = 1 << 63

// uniformInit fills w with U(-bound, bound) from the layer's init key.
func uniformInit(w []float32, bound float64, seed uint64, layer int, salt uint64) {
	src := rng.New(rng.Key{Seed: seed, Stream: uint64(layer), Draw: initDraw | salt})
	for i := range w {
		w[i] = float32((2*src.Float64() - 1) * bound)
	}
}

// fanInBound is PyTorch's default bound for Linear and Conv2d weights and
// biases: 1/sqrt(fan_in).
func fanInBound(fanIn int) float64 { return 1 / math.Sqrt(float64(fanIn)) }
