package layers

import (
	"math"
	"testing"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
)

// TestConvRebuildBlocksBitwise checks that rebuilding a Conv2D input a few
// samples at a time in backward (rebuildGroup) gives bitwise the filter
// gradient and SPAD scores of rebuilding the whole chunk at once, on the
// SmallConvNet shapes and on every kernel path of the machine.
func TestConvRebuildBlocksBitwise(t *testing.T) {
	type shape struct{ inC, outC, hw int }
	shapes := []shape{{3, 16, 32}, {16, 32, 32}, {32, 32, 16}}
	ests := []inject.Estimator{
		{Mode: inject.RAD, Kind: inject.Project, Keep: 0.1},
		{Mode: inject.RAD, Kind: inject.DiffSample, Keep: 0.1},
		{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.1, M: 3, KMax: 1, Eps: 0.2, Variant: inject.Exact},
	}
	if testing.Short() {
		shapes, ests = shapes[1:2], ests[:1]
	}
	prev := kernels.Active()
	defer kernels.SetPath(prev)
	const batch, chunk = 10, 8
	for _, p := range kernels.AvailablePaths() {
		if err := kernels.SetPath(p); err != nil {
			t.Fatal(err)
		}
		for _, sh := range shapes {
			for _, e := range ests {
				build := func(whole bool) *Conv2D {
					c := NewConv2D(sh.inC, sh.outC, 5, 1, 2)
					c.Estimator = e
					c.SetSeed(7, 1)
					if _, err := c.Build(nn.Shape{sh.inC, sh.hw, sh.hw}, batch, chunk); err != nil {
						t.Fatal(err)
					}
					c.xhatN = rebuildGroup(c.shape, chunk) // blocked even where the layer would not be
					if whole {
						c.xhatN = chunk
					}
					c.xhatLen = c.xhatN * c.shape.InSize()
					giveScratch(c)
					return c
				}
				blocked, whole := build(false), build(true)
				if blocked.xhatN >= chunk && sh.hw == 32 {
					t.Fatalf("%v %v: no blocking (xhatN %d)", p, sh, blocked.xhatN)
				}
				lc := layerCase{in: nn.Shape{sh.inC, sh.hw, sh.hw}, batch: batch, outSize: sh.outC * sh.hw * sh.hw}
				x, dy := caseData(lc)
				in := lc.in.Size()
				const iter = 0 // a SPAD selection step
				gb := weightGrad(blocked, x, dy, batch, chunk, in, lc.outSize, iter)
				gw := weightGrad(whole, x, dy, batch, chunk, in, lc.outSize, iter)
				for i := range gb {
					if math.Float32bits(gb[i]) != math.Float32bits(gw[i]) {
						t.Fatalf("%v %v %v iter %d: dW[%d] = %v blocked, %v whole", p, sh, e, iter, i, gb[i], gw[i])
					}
				}
				if e.Mode == inject.SPAD && blocked.inj.scores[0] == 0 {
					t.Fatalf("%v %v %v: no candidate scored", p, sh, e)
				}
				for j := range blocked.inj.scores {
					if math.Float64bits(blocked.inj.scores[j]) != math.Float64bits(whole.inj.scores[j]) {
						t.Fatalf("%v %v %v iter %d: score %d = %v blocked, %v whole", p, sh, e, iter, j, blocked.inj.scores[j], whole.inj.scores[j])
					}
				}
			}
		}
	}
}
