package inject

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/spadlab/spad/nn/rng"
)

func spad(m, kmax int, eps float64, v Variant, kind Kind) Estimator {
	return Estimator{Mode: SPAD, Kind: kind, Keep: 0.25, M: m, KMax: kmax, Eps: eps, Variant: v}
}

func TestValidateMessages(t *testing.T) {
	ok := spad(4, 3, 0.1, Exact, Project)
	cases := []struct {
		e    Estimator
		want string
	}{
		{Estimator{}, ""},
		{Estimator{Mode: Baseline, M: -3, Keep: 7}, ""},
		{Estimator{Mode: RAD, Keep: 0.1}, ""},
		{ok, ""},
		{Estimator{Mode: 7}, "inject: invalid estimator mode 7 (valid: baseline, rad, spad)"},
		{Estimator{Mode: RAD, Kind: 3, Keep: 0.5}, "inject: invalid projection kind 3 (valid: project, same-sample, diff-sample)"},
		{Estimator{Mode: RAD, Keep: 0}, "inject: keep = 0, must be in (0, 1]"},
		{Estimator{Mode: RAD, Keep: 1.5}, "inject: keep = 1.5, must be in (0, 1]"},
		{Estimator{Mode: RAD, Keep: math.NaN()}, "inject: keep = NaN, must be in (0, 1]"},
		{func() Estimator { e := ok; e.M = 0; return e }(), "inject: m = 0, must be ≥ 1"},
		{func() Estimator { e := ok; e.M = 257; return e }(), "inject: m = 257, must be ≤ 256"},
		{func() Estimator { e := ok; e.KMax = 0; return e }(), "inject: k_max = 0, must be ≥ 1"},
		{func() Estimator { e := ok; e.Eps = 1; return e }(), "inject: ε = 1, must be in [0, 1)"},
		{func() Estimator { e := ok; e.Eps = -0.1; return e }(), "inject: ε = -0.1, must be in [0, 1)"},
		{func() Estimator { e := ok; e.Variant = 2; return e }(), "inject: invalid SPAD variant 2 (valid: practical, exact)"},
	}
	for _, c := range cases {
		err := c.e.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%+v: Validate() = %q, want %q", c.e, got, c.want)
		}
	}
}

func TestEstimatorStringAndParse(t *testing.T) {
	for _, c := range []struct {
		e    Estimator
		want string
	}{
		{Estimator{}, "baseline"},
		{Estimator{Mode: RAD, Kind: DiffSample, Keep: 0.1}, "rad(kind=diff-sample keep=0.1)"},
		{spad(10, 5, 0.1, Exact, SameSample), "spad(kind=same-sample keep=0.25 m=10 kmax=5 eps=0.1 variant=exact)"},
	} {
		if got := c.e.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
	for _, m := range []Mode{Baseline, RAD, SPAD} {
		if got, err := ParseMode(m.String()); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m, got, err)
		}
	}
	for _, v := range []Variant{Practical, Exact} {
		if got, err := ParseVariant(v.String()); err != nil || got != v {
			t.Errorf("ParseVariant(%q) = %v, %v", v, got, err)
		}
	}
	if _, err := ParseMode("sgd"); err == nil || err.Error() != `inject: unknown estimator mode "sgd" (valid: baseline, rad, spad)` {
		t.Errorf("ParseMode(sgd) error = %v", err)
	}
	if _, err := ParseVariant("fast"); err == nil || err.Error() != `inject: unknown SPAD variant "fast" (valid: practical, exact)` {
		t.Errorf("ParseVariant(fast) error = %v", err)
	}
}

// TestSPADm1k1IsRAD: with m = k_max = 1, SPAD (both variants, any ε) uses
// exactly RAD's keys and scale at every step, scores nothing, and so gives
// bit-identical gradients.
func TestSPADm1k1IsRAD(t *testing.T) {
	const seed, layer = 1234, 2
	x, delta := smallProblem()
	p := NewProjector(Project, tF, 0.25)
	c := make([]float32, tRows*p.K)
	scratch := make([]float32, p.ScratchSize(tRows, tOut))
	g1, g2 := make([]float32, tOut*tF), make([]float32, tOut*tF)
	for _, v := range []Variant{Practical, Exact} {
		for _, eps := range []float64{0, 0.3} {
			rad := NewScheduler(Estimator{Mode: RAD, Kind: Project, Keep: 0.25}, seed, layer)
			sp := NewScheduler(spad(1, 1, eps, v, Project), seed, layer)
			for step := int64(0); step < 100; step++ {
				rad.Begin(step)
				sp.Begin(step)
				want := rng.Key{Seed: seed, Stream: layer, Draw: uint64(step) << 8}
				if rad.StepKey() != want || sp.StepKey() != want {
					t.Fatalf("%v ε=%v step %d: keys rad %+v spad %+v, want %+v", v, eps, step, rad.StepKey(), sp.StepKey(), want)
				}
				if sp.Scale() != 1 || rad.Scale() != 1 || sp.Selecting() || rad.Selecting() {
					t.Fatalf("step %d: scale %v/%v selecting %v/%v", step, rad.Scale(), sp.Scale(), rad.Selecting(), sp.Selecting())
				}
				if step%25 == 0 {
					for i, s := range []*Scheduler{rad, sp} {
						g := [2][]float32{g1, g2}[i]
						clear(g)
						p.Compress(s.StepKey(), x, tRows, 0, c, scratch)
						p.WeightGradScaled(s.Scale(), s.StepKey(), delta, c, tRows, 0, tOut, g, scratch)
					}
					for i := range g1 {
						if g1[i] != g2[i] {
							t.Fatalf("step %d: gradients differ at %d", step, i)
						}
					}
				}
			}
		}
	}
}

// fakeScore is a deterministic score of a candidate key.
func fakeScore(k rng.Key) float64 { return rng.New(rng.Key{Seed: k.Draw, Stream: k.Stream}).Float64() }

// TestPracticalSelection: brute force over 90 steps with a fake score: the
// argmax candidate of each scored set is in force for exactly the k_max steps
// after the selection step, the initial set's candidate 0 before that.
func TestPracticalSelection(t *testing.T) {
	const m, kmax, seed, layer = 5, 3, 77, 4
	s := NewScheduler(spad(m, kmax, 0.5, Practical, Project), seed, layer)
	var expect rng.Key
	expect = rng.Key{Seed: seed, Stream: layer, Draw: 0}
	scores := make([]float64, m)
	changes := 0
	var prev rng.Key
	for step := int64(0); step < 90; step++ {
		s.Begin(step)
		if got := s.StepKey(); got != expect {
			t.Fatalf("step %d: key %+v, want %+v", step, got, expect)
		}
		if step > 0 && s.StepKey() != prev {
			changes++
			if step%kmax != 0 {
				t.Fatalf("key changed at step %d, not a block start", step)
			}
		}
		prev = s.StepKey()
		if s.Scale() != 1 {
			t.Fatalf("practical scale %v", s.Scale())
		}
		if want := (step+1)%kmax == 0; s.Selecting() != want {
			t.Fatalf("step %d: Selecting() = %v", step, s.Selecting())
		}
		if s.Selecting() {
			best, bv := -1, -1.0
			for j := 0; j < m; j++ {
				k := s.CandidateKey(j)
				if k != (rng.Key{Seed: seed, Stream: layer, Draw: uint64(step+1)<<8 | uint64(j)}) {
					t.Fatalf("candidate key %+v", k)
				}
				scores[j] = fakeScore(k)
				if scores[j] > bv {
					best, bv = j, scores[j]
				}
			}
			if w := s.Select(scores); w != best {
				t.Fatalf("Select = %d, brute-force argmax %d", w, best)
			}
			expect = s.CandidateKey(best)
			if s.StepKey() == expect {
				t.Fatalf("step %d: the new winner is in force before the next step", step)
			}
		}
	}
	if changes != 90/kmax-1 {
		t.Errorf("key changed %d times, want %d", changes, 90/kmax-1)
	}
}

func TestSelectTiesNaNAndMisuse(t *testing.T) {
	s := NewScheduler(spad(4, 1, 0, Practical, Project), 1, 0)
	s.Begin(0)
	if w := s.Select([]float64{1, 3, 3, 2}); w != 1 {
		t.Errorf("tie winner %d, want 1", w)
	}
	if w := s.Select([]float64{math.NaN(), 0, math.NaN(), 0.5}); w != 3 {
		t.Errorf("NaN winner %d, want 3", w)
	}
	s.Begin(1)
	if s.Selected() != 3 || s.InForce() != 3 {
		t.Errorf("selected %d in force %d, want 3", s.Selected(), s.InForce())
	}
	for _, c := range []struct {
		f    func()
		want string
	}{
		{func() { s.Select([]float64{1}) }, "inject: Select with 1 scores, want m = 4"},
		{func() { s.Begin(5) }, "inject: Begin(5) out of order, expected step 2"},
		{func() {
			r := NewScheduler(spad(4, 3, 0, Practical, Project), 1, 0)
			r.Begin(0)
			r.Select(make([]float64, 4))
		}, "inject: Select at step 0, which is not a selection step"},
		{func() { NewScheduler(spad(0, 3, 0, Practical, Project), 1, 0) }, "inject: m = 0, must be ≥ 1"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || r.(string) != c.want {
					t.Errorf("panic %v, want %q", r, c.want)
				}
			}()
			c.f()
		}()
	}
	if s.SubBatch(150) != 38 || s.SubBatch(4) != 1 {
		t.Errorf("SubBatch(150) = %d, SubBatch(4) = %d", s.SubBatch(150), s.SubBatch(4))
	}
}

// TestExactDraw: the Exact variant uses the selected candidate with
// frequency ≈ 1−ε (binomial test at zBound standard deviations), every other
// candidate with frequency ≈ ε/(m−1), and scales by 1/(m·p_I).
func TestExactDraw(t *testing.T) {
	const m, kmax, n = 5, 4, 40000
	const eps = 0.2
	s := NewScheduler(spad(m, kmax, eps, Exact, SameSample), 9, 1)
	scores := make([]float64, m)
	var hit int
	other := make([]int, m)
	var others int
	for step := int64(0); step < n; step++ {
		s.Begin(step)
		base := uint64(step/kmax*kmax) << 8
		if k := s.StepKey(); k.Draw != base|uint64(s.InForce()) {
			t.Fatalf("step %d: key draw %x, want %x", step, k.Draw, base|uint64(s.InForce()))
		}
		var p float64
		if s.InForce() == s.Selected() {
			hit++
			p = 1 - eps
		} else {
			others++
			other[(s.InForce()-s.Selected()+m)%m]++
			p = eps / (m - 1)
		}
		if want := float32(1 / (m * p)); s.Scale() != want {
			t.Fatalf("step %d: scale %v, want %v", step, s.Scale(), want)
		}
		if s.Selecting() {
			for j := range scores {
				scores[j] = fakeScore(s.CandidateKey(j))
			}
			s.Select(scores)
		}
	}
	sd := math.Sqrt(n * eps * (1 - eps))
	if d := math.Abs(float64(hit) - n*(1-eps)); d > zBound*sd {
		t.Errorf("selected used %d times of %d, expected %.0f ± %.0f", hit, n, n*(1-eps), zBound*sd)
	}
	q := 1.0 / (m - 1)
	for off := 1; off < m; off++ {
		sd := math.Sqrt(float64(others) * q * (1 - q))
		if d := math.Abs(float64(other[off]) - float64(others)*q); d > zBound*sd {
			t.Errorf("explored offset %d used %d of %d times", off, other[off], others)
		}
	}
}

// runScheduler drives one layer over steps [0, steps) on the fixed problem
// (x, δ), scoring candidates with the real gradient norms on the sub-batch,
// and returns the block means of the scaled estimates Scale·δᵀ·x̂ (blocks of
// k_max steps; block 0, whose set was not scored, is skipped). mistaken
// compresses with a fresh RAD key in forward but reconstructs with the key in
// force, the forward/backward mismatch the package must not make.
func runScheduler(t *testing.T, e Estimator, steps int64, mistaken bool) *meanCheck {
	t.Helper()
	x, delta := smallProblem()
	s := NewScheduler(e, 42, 3)
	p := e.Projector(tF)
	sub := s.SubBatch(tRows)
	c := make([]float32, tRows*p.K)
	cand := make([]float32, e.M*sub*p.K)
	scratch := make([]float32, p.ScratchSize(tRows, tOut))
	g := make([]float32, tOut*tF)
	gs := make([]float32, tOut*tF)
	block := make([]float64, tOut*tF)
	scores := make([]float64, e.M)
	mc := newMeanCheck(tOut * tF)
	for step := int64(0); step < steps; step++ {
		s.Begin(step)
		// Forward.
		fwd := s.StepKey()
		if mistaken {
			fwd = rng.Key{Seed: 1000, Stream: 3, Draw: uint64(step)}
		}
		p.Compress(fwd, x, tRows, 0, c, scratch)
		if s.Selecting() {
			for j := 0; j < e.M; j++ {
				p.Compress(s.CandidateKey(j), x, sub, 0, cand[j*sub*p.K:], scratch)
			}
		}
		// Backward.
		clear(g)
		p.WeightGradScaled(s.Scale(), s.StepKey(), delta, c, tRows, 0, tOut, g, scratch)
		if s.Selecting() {
			for j := 0; j < e.M; j++ {
				scores[j] = p.GradNormSq(s.CandidateKey(j), delta, cand[j*sub*p.K:], sub, 0, tOut, gs, scratch)
			}
			s.Select(scores)
		}
		for i, v := range g {
			block[i] += float64(v)
		}
		if (step+1)%int64(e.KMax) == 0 {
			if step >= int64(e.KMax) {
				for i := range block {
					block[i] /= float64(e.KMax)
				}
				mc.add64(block)
			}
			clear(block)
		}
	}
	return mc
}

// TestExactUnbiasedEndToEnd: with the scheduler driving the keys (scoring
// with real gradient norms), the mean of the Exact variant's estimates on a
// fixed batch converges to δᵀ·x: block means (i.i.d., one candidate set each)
// are within zBound standard errors, for each kind. The mistaken scheduler
// (fresh key in forward, persisted key in backward) averages to about 0.
func TestExactUnbiasedEndToEnd(t *testing.T) {
	x, delta := smallProblem()
	exact := exactGrad(delta, x, tRows, tOut, tF)
	for _, kind := range allKinds {
		e := spad(4, 3, 0.3, Exact, kind)
		mc := runScheduler(t, e, 3*6000, false)
		bad, worst := mc.check(exact)
		if bad > 0 {
			t.Errorf("%v: exact SPAD, %d entries beyond %d s.e. (worst z %.2f)", kind, bad, zBound, worst)
		}
		t.Logf("%v: exact SPAD over %d blocks: worst z %.2f, rel. error %.4f", kind, mc.n, worst, relErr(mc.mean(), exact))
	}
	e := spad(4, 3, 0.3, Exact, Project)
	mc := runScheduler(t, e, 3*6000, true)
	bad, worst := mc.check(exact)
	ratio := norm(mc.mean()) / norm(exact)
	if bad == 0 || ratio > 0.1 {
		t.Errorf("mistaken scheduler: %d entries flagged, ‖mean‖/‖exact‖ = %.3f; want flagged and ≈ 0", bad, ratio)
	}
	t.Logf("mistaken scheduler (fresh forward key): ‖mean‖/‖exact‖ = %.4f, worst z %.1f", ratio, worst)
}

// TestPracticalBias measures (does not assert away) the bias of the
// Practical variant, which follows the argmax candidate with scale 1, and
// that of the Exact variant with ε = 0.
func TestPracticalBias(t *testing.T) {
	x, delta := smallProblem()
	exact := exactGrad(delta, x, tRows, tOut, tF)
	for _, kind := range allKinds {
		for _, e := range []Estimator{spad(4, 3, 0, Practical, kind), spad(4, 3, 0, Exact, kind)} {
			mc := runScheduler(t, e, 3*3000, false)
			mean := mc.mean()
			bad, worst := mc.check(exact)
			r := norm(mean) / norm(exact)
			if math.IsNaN(r) || r == 0 {
				t.Errorf("%v: degenerate mean", e)
			}
			t.Logf("%v: ‖mean‖/‖exact‖ = %.3f, rel. bias %.3f, %d/%d entries beyond %d s.e. (worst z %.1f)",
				e, r, relErr(mean, exact), bad, len(exact), zBound, worst)
		}
	}
}

// TestStateRoundTrip: a scheduler restored (through JSON) from a state taken
// mid-run continues with identical keys, scales and selections.
func TestStateRoundTrip(t *testing.T) {
	e := spad(6, 4, 0.25, Exact, DiffSample)
	scores := make([]float64, e.M)
	for _, cut := range []int64{10, 11, 50, 51} { // 11 and 51 are selection steps
		a := NewScheduler(e, 5, 2)
		step := func(s *Scheduler, st int64) {
			s.Begin(st)
			if s.Selecting() {
				for j := range scores {
					scores[j] = fakeScore(s.CandidateKey(j))
				}
				s.Select(scores)
			}
		}
		for st := int64(0); st <= cut; st++ {
			step(a, st)
		}
		buf, err := json.Marshal(a.State())
		if err != nil {
			t.Fatal(err)
		}
		var st SchedulerState
		if err := json.Unmarshal(buf, &st); err != nil {
			t.Fatal(err)
		}
		b := NewScheduler(e, 5, 2)
		if err := b.Restore(st); err != nil {
			t.Fatalf("cut %d: Restore: %v (state %s)", cut, err, buf)
		}
		if b.StepKey() != a.StepKey() || b.Scale() != a.Scale() {
			t.Fatalf("cut %d: restored step differs", cut)
		}
		for st := cut + 1; st < cut+60; st++ {
			step(a, st)
			step(b, st)
			if a.StepKey() != b.StepKey() || a.Scale() != b.Scale() || a.Selecting() != b.Selecting() || a.Selected() != b.Selected() {
				t.Fatalf("cut %d step %d: restored scheduler diverged: %+v/%v vs %+v/%v", cut, st, a.StepKey(), a.Scale(), b.StepKey(), b.Scale())
			}
		}
	}
	// A fresh state restores to a fresh scheduler.
	f := NewScheduler(e, 5, 2)
	if err := f.Restore(NewScheduler(e, 5, 2).State()); err != nil || f.Step() != -1 {
		t.Errorf("fresh restore: %v, step %d", err, f.Step())
	}
}

func TestRestoreErrors(t *testing.T) {
	e := spad(6, 4, 0.25, Exact, Project)
	s := NewScheduler(e, 5, 2)
	for _, c := range []struct {
		st   SchedulerState
		want string
	}{
		{SchedulerState{Seed: 5, Layer: 1, Step: 3, Pending: -1}, "inject: scheduler state is for seed 5 layer 1, not seed 5 layer 2"},
		{SchedulerState{Seed: 5, Layer: 2, Step: -2, Pending: -1}, "inject: scheduler state has step -2 < -1"},
		{SchedulerState{Seed: 5, Layer: 2, Step: 3, Selected: 6, Pending: -1}, "inject: scheduler state has selected candidate 6, want [0, 6)"},
		{SchedulerState{Seed: 5, Layer: 2, Step: 3, Pending: 9}, "inject: scheduler state has pending candidate 9, want [-1, 6)"},
		{SchedulerState{Seed: 5, Layer: 2, Step: 4, Pending: 1}, "inject: scheduler state has a pending candidate at step 4, which is not a selection step"},
		{SchedulerState{Seed: 5, Layer: 2, Step: -1, Selected: 2, Pending: -1}, "inject: scheduler state before any step must have selected 0 and pending -1"},
	} {
		err := s.Restore(c.st)
		if err == nil || err.Error() != c.want {
			t.Errorf("Restore(%+v) = %v, want %q", c.st, err, c.want)
		}
	}
	if !strings.Contains(s.Estimator().String(), "m=6") {
		t.Errorf("Estimator() = %v", s.Estimator())
	}
}

func TestSchedulerNoAllocs(t *testing.T) {
	s := NewScheduler(spad(8, 2, 0.1, Exact, Project), 1, 0)
	scores := make([]float64, 8)
	step := int64(0)
	var sink rng.Key
	a := testing.AllocsPerRun(100, func() {
		s.Begin(step)
		sink = s.StepKey()
		_ = s.Scale()
		if s.Selecting() {
			for j := range scores {
				sink = s.CandidateKey(j)
				scores[j] = float64(sink.Draw % 7)
			}
			s.Select(scores)
		}
		step++
	})
	if a != 0 {
		t.Errorf("%v allocs per step", a)
	}
	_ = sink
}
