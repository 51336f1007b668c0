package nn_test

import (
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/kernels"
	"github.com/spadlab/spad/nn/rng"
)

func randInput(n int, seed uint64) []float32 {
	src := rng.New(rng.Key{Seed: seed})
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(src.NormFloat64())
	}
	return x
}

func randLabels(n, classes int, seed uint64) []uint8 {
	src := rng.New(rng.Key{Seed: seed, Stream: 1})
	y := make([]uint8, n)
	for i := range y {
		y[i] = uint8(src.Intn(classes))
	}
	return y
}

func smallNet(e inject.Estimator) *nn.Network {
	d1, d2 := layers.NewDense(12, 9), layers.NewDense(9, 4)
	d1.Estimator, d2.Estimator = e, e
	return nn.NewNetwork(nn.Shape{12}, d1, layers.NewReLU(), d2)
}

// The network's gradient of the mean loss matches central finite
// differences of Evaluate's loss.
func TestNetworkGradient(t *testing.T) {
	const batch = 7
	net := smallNet(inject.Estimator{})
	if err := net.Build(batch, 3, 5); err != nil {
		t.Fatal(err)
	}
	x, y := randInput(batch*12, 1), randLabels(batch, 4, 2)
	net.TrainStep(x, y, batch, 0, nil)
	for _, p := range net.Params() {
		for i := 0; i < len(p.Value); i += 5 {
			old := p.Value[i]
			h := float32(1e-3)
			p.Value[i] = old + h
			lp, _ := net.Evaluate(x, y, batch)
			p.Value[i] = old - h
			lm, _ := net.Evaluate(x, y, batch)
			p.Value[i] = old
			num := (lp - lm) / float64(2*h) / batch
			if d := math.Abs(num - float64(p.Grad[i])); d > 2e-3*math.Max(1, math.Abs(num)) {
				t.Fatalf("%s[%d]: analytic %g numeric %g", p.Name, i, p.Grad[i], num)
			}
		}
	}
}

// Processing the batch in chunks gives the same loss and gradients as all
// at once, for the baseline and for every injection kind.
func TestChunkingInvariance(t *testing.T) {
	ests := []inject.Estimator{{}}
	for _, k := range []inject.Kind{inject.Project, inject.SameSample, inject.DiffSample} {
		ests = append(ests, inject.Estimator{Mode: inject.RAD, Kind: k, Keep: 0.3},
			inject.Estimator{Mode: inject.SPAD, Kind: k, Keep: 0.3, KMax: 2, M: 3})
	}
	const batch = 10
	x, y := randInput(batch*12, 3), randLabels(batch, 4, 4)
	for _, e := range ests {
		a, b := smallNet(e), smallNet(e)
		if err := a.Build(batch, batch, 9); err != nil {
			t.Fatal(err)
		}
		if err := b.Build(batch, 3, 9); err != nil {
			t.Fatal(err)
		}
		for it := int64(0); it < 4; it++ {
			la, _ := a.TrainStep(x, y, batch, it, nil)
			lb, _ := b.TrainStep(x, y, batch, it, nil)
			if math.Abs(la-lb) > 1e-5*math.Abs(la) {
				t.Fatalf("%v iter %d: loss %g (one chunk) vs %g (chunks of 3)", e, it, la, lb)
			}
			for i, p := range a.Params() {
				q := b.Params()[i]
				for j := range p.Grad {
					if d := math.Abs(float64(p.Grad[j] - q.Grad[j])); d > 1e-5*(1+math.Abs(float64(p.Grad[j]))) {
						t.Fatalf("%v iter %d: %s[%d] %g vs %g", e, it, p.Name, j, p.Grad[j], q.Grad[j])
					}
				}
			}
		}
	}
}

// A training step of each paper model allocates nothing in steady state,
// for every estimator, on two threads: the products, convolutions and
// Parallel2 halves then run on the kernels' team, whose waits and packing
// buffers must not allocate whatever the scheduling. The batches are large
// enough for the products and convolutions to split. A garbage collection
// before the measured steps empties the runtime's shared caches, as a
// collection in a long run would.
func TestTrainStepAllocatesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer kernels.SetThreads(kernels.Threads())
	kernels.SetThreads(2)
	rounds := 3
	if testing.Short() {
		rounds = 2
	}
	ests := []struct {
		name string
		e    inject.Estimator
	}{
		{"baseline", inject.Estimator{}},
		{"rad", inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.1}},
		{"rad-diff", inject.Estimator{Mode: inject.RAD, Kind: inject.DiffSample, Keep: 0.1}},
		{"spad", inject.Estimator{Mode: inject.SPAD, Kind: inject.SameSample, Keep: 0.1, KMax: 2, M: 3}},
		{"spad-project", inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.1, KMax: 2, M: 3}},
	}
	for _, model := range []string{"smallfc", "smallconv"} {
		spec, err := models.Get(model)
		if err != nil {
			t.Fatal(err)
		}
		batch := 64
		if model == "smallconv" {
			batch = 28 // chunks of 8 and a last one of 4, run whole or in pieces
		}
		for i, e := range ests {
			if testing.Short() && model == "smallconv" && i > 0 {
				continue // the baseline covers the team's paths
			}
			for _, pieces := range []bool{false, true} {
				nn.Pieces = pieces
				net := spec.New(models.Options{Estimator: e.e, Dropout: 0.1})
				err := net.Build(batch, 0, 1)
				nn.Pieces = false
				if err != nil {
					t.Fatal(err)
				}
				x, y := randInput(batch*spec.Input.Size(), 5), randLabels(batch, 10, 6)
				it := int64(0)
				step := func() { net.TrainStep(x, y, batch, it, nil); it++ }
				step()
				step()
				if a := allocsPerStep(rounds, 4, step); a != 0 {
					t.Errorf("%s/%s (pieces %v): %v allocations per step, want 0", model, e.name, pieces, a)
				}
			}
		}
	}
}

// allocsPerStep returns the heap allocations per call of step made by the
// module's code (any goroutine whose allocating stack passes through it)
// over rounds rounds of a garbage collection followed by steps calls.
// Unlike testing.AllocsPerRun it keeps GOMAXPROCS: with one processor the
// runtime's per-processor caches never run dry, which hides allocations
// by goroutines that park. It reads the memory profile at a rate of one
// sample per allocation rather than a global count, because the runtime
// allocates in the background now and then after a collection (its
// timers, a new operating-system thread) for no fault of the step.
func allocsPerStep(rounds, steps int, step func()) float64 {
	defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1
	// Allocate past the sample point drawn at the former rate.
	for i := 0; i < 1<<12; i++ {
		sink = make([]byte, 1<<10)
	}
	sink = nil
	for i := 0; i < steps; i++ {
		step() // unmeasured: the first steps at the new rate
	}
	before := moduleAllocs()
	for r := 0; r < rounds; r++ {
		runtime.GC()
		for i := 0; i < steps; i++ {
			step()
		}
	}
	return float64(moduleAllocs()-before) / float64(rounds*steps)
}

// sink keeps allocations of allocsPerStep from being optimised away.
var sink []byte

// moduleAllocs returns the objects allocated so far, as the memory profile
// records them, from stacks that pass through the module's code other than
// this file's helpers.
func moduleAllocs() int64 {
	// A record is published two collections after its allocation.
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	n, _ := runtime.MemProfile(nil, true)
	recs := make([]runtime.MemProfileRecord, n+64)
	n, _ = runtime.MemProfile(recs, true)
	var total int64
	for _, r := range recs[:n] {
		frames := runtime.CallersFrames(r.Stack())
		for {
			f, more := frames.Next()
			if strings.HasPrefix(f.Function, "github.com/spadlab/spad/") &&
				!strings.HasPrefix(f.Function, "github.com/spadlab/spad/nn_test.") {
				total += r.AllocObjects
				break
			}
			if !more {
				break
			}
		}
	}
	return total
}

// The same seed gives the same run; another seed a different one.
func TestDeterminism(t *testing.T) {
	e := inject.Estimator{Mode: inject.SPAD, Kind: inject.DiffSample, Keep: 0.25, KMax: 2, M: 4}
	run := func(seed uint64) []float32 {
		net := smallNet(e)
		if err := net.Build(8, 3, seed); err != nil {
			t.Fatal(err)
		}
		x, y := randInput(8*12, 7), randLabels(8, 4, 8)
		for it := int64(0); it < 5; it++ {
			net.TrainStep(x, y, 8, it, nil)
		}
		return append([]float32(nil), net.Params()[0].Grad...)
	}
	a, b, c := run(1), run(1), run(2)
	same := true
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different gradient at %d: %g vs %g", i, a[i], b[i])
		}
		if a[i] != c[i] {
			same = false
		}
	}
	if same {
		t.Fatal("different seeds gave identical gradients")
	}
}

// Saved bytes at keep 0.1: each injected Dense holds ⌈0.1·F⌉ floats per
// sample instead of F.
func TestSavedBytesShrink(t *testing.T) {
	spec, _ := models.Get("smallfc")
	base := spec.New(models.Options{})
	rad := spec.New(models.Options{Estimator: inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.1}})
	if err := base.Build(150, 0, 1); err != nil {
		t.Fatal(err)
	}
	if err := rad.Build(150, 0, 1); err != nil {
		t.Fatal(err)
	}
	// inputs 784, 300, 300, 300 → K = 79, 30, 30, 30; three ReLU masks of
	// ⌈150·300/64⌉ words; logit gradients 10 floats per sample.
	masks := int64(3 * ((150*300 + 63) / 64) * 8)
	wantBase := int64(150*((784+300*3)*4+10*4)) + masks
	wantRAD := int64(150*((79+30*3)*4+10*4)) + masks
	if got := base.SavedBytes(); got != wantBase {
		t.Errorf("baseline saves %d bytes, want %d", got, wantBase)
	}
	if got := rad.SavedBytes(); got != wantRAD {
		t.Errorf("rad saves %d bytes, want %d", got, wantRAD)
	}
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		net  *nn.Network
		want string
	}{
		{nn.NewNetwork(nn.Shape{5}, layers.NewDense(4, 2)), "input has 5 features"},
		{nn.NewNetwork(nn.Shape{5}), "no layers"},
		{nn.NewNetwork(nn.Shape{3, 8, 8}, layers.NewConv2D(1, 2, 3, 1, 1)), "input has 3 channels, want 1"},
		{nn.NewNetwork(nn.Shape{3, 8, 8}, layers.NewConv2D(3, 2, 3, 1, 1)), "must output class scores"},
	}
	for _, c := range cases {
		err := c.net.Build(4, 0, 1)
		if err == nil || !contains(err.Error(), c.want) {
			t.Errorf("Build error %v, want it to mention %q", err, c.want)
		}
	}
	if err := smallNet(inject.Estimator{}).Build(0, 0, 1); err == nil || !contains(err.Error(), "batch size must be ≥ 1") {
		t.Errorf("batch 0: %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// SPAD layers get staggered phases, so the memory for scoring candidates is
// shared: a SPAD network saves RAD's bytes plus the largest single layer's
// scoring memory, not the sum over layers.
func TestSelectionArenaStaggered(t *testing.T) {
	spec, _ := models.Get("smallconv")
	rad := inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.1}
	spad := inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.1, KMax: 10, M: 10}
	a, b := spec.New(models.Options{Estimator: rad}), spec.New(models.Options{Estimator: spad})
	if err := a.Build(150, 0, 1); err != nil {
		t.Fatal(err)
	}
	if err := b.Build(150, 0, 1); err != nil {
		t.Fatal(err)
	}
	largest, phases := 0, map[int]bool{}
	for _, l := range b.Layers {
		if s, ok := l.(nn.Selector); ok {
			if f, p := s.SelectionNeed(); f > 0 {
				largest = max(largest, f)
				if p != 10 {
					t.Fatalf("period %d, want 10", p)
				}
				ph := l.(interface{ Scheduler() *inject.Scheduler }).Scheduler().Phase()
				if phases[ph] {
					t.Fatalf("two layers share phase %d", ph)
				}
				phases[ph] = true
			}
		}
	}
	if len(phases) != 5 {
		t.Fatalf("%d SPAD layers, want 5", len(phases))
	}
	if got, want := b.SavedBytes()-a.SavedBytes(), int64(largest)*4; got != want {
		t.Fatalf("SPAD saves %d bytes more than RAD, want the largest layer's %d", got, want)
	}
}

// SPAD with m = k_max = 1 is RAD: with the same seed, whole networks take
// bitwise identical gradients step after step, for every kind.
func TestSPADm1IsRAD(t *testing.T) {
	x, y := randInput(8*12, 11), randLabels(8, 4, 12)
	for _, k := range []inject.Kind{inject.Project, inject.SameSample, inject.DiffSample} {
		rad := smallNet(inject.Estimator{Mode: inject.RAD, Kind: k, Keep: 0.3})
		spad := smallNet(inject.Estimator{Mode: inject.SPAD, Kind: k, Keep: 0.3, KMax: 1, M: 1})
		if err := rad.Build(8, 3, 4); err != nil {
			t.Fatal(err)
		}
		if err := spad.Build(8, 3, 4); err != nil {
			t.Fatal(err)
		}
		for it := int64(0); it < 6; it++ {
			rad.TrainStep(x, y, 8, it, nil)
			spad.TrainStep(x, y, 8, it, nil)
			for i, p := range rad.Params() {
				q := spad.Params()[i]
				for j := range p.Grad {
					if p.Grad[j] != q.Grad[j] {
						t.Fatalf("%v step %d: %s[%d] RAD %g, SPAD(m=k_max=1) %g", k, it, p.Name, j, p.Grad[j], q.Grad[j])
					}
				}
				// take the same plain step so that the weights move
				for j := range p.Value {
					p.Value[j] -= 0.1 * p.Grad[j]
					q.Value[j] -= 0.1 * q.Grad[j]
				}
			}
		}
	}
}

// Gradients a layer overwrites on the first backward chunk (Param.Overwrite)
// owe nothing to what the buffers held before the step: a step started on
// NaN-filled gradients gives the bits of one started on zeros, in one chunk
// and in several.
func TestOverwrittenGradients(t *testing.T) {
	const batch = 10
	x, y := randInput(batch*12, 5), randLabels(batch, 4, 6)
	for _, chunk := range []int{batch, 3} {
		a, b := smallNet(inject.Estimator{}), smallNet(inject.Estimator{})
		for _, n := range []*nn.Network{a, b} {
			if err := n.Build(batch, chunk, 9); err != nil {
				t.Fatal(err)
			}
		}
		overwritten := 0
		for _, p := range b.Params() {
			if p.Overwrite {
				overwritten++
			}
			for i := range p.Grad {
				p.Grad[i] = float32(math.NaN())
			}
		}
		if overwritten == 0 {
			t.Fatal("no Dense weight is marked Overwrite")
		}
		for it := int64(0); it < 2; it++ {
			a.TrainStep(x, y, batch, it, nil)
			b.TrainStep(x, y, batch, it, nil)
			for i, p := range a.Params() {
				q := b.Params()[i]
				for j := range p.Grad {
					if math.Float32bits(p.Grad[j]) != math.Float32bits(q.Grad[j]) {
						t.Fatalf("chunk %d iter %d: %s[%d] %g vs %g", chunk, it, p.Name, j, p.Grad[j], q.Grad[j])
					}
				}
			}
		}
	}
}
