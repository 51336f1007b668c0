package bench

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/spadlab/spad/datasets"
)

// Exact values: the tail sums are small enough to write out.
func TestMcNemarPExact(t *testing.T) {
	cases := []struct {
		a, b int
		want float64
	}{
		{10, 2, 2 * (1 + 12 + 66) / 4096.0}, // 2·P(X ≤ 2), X ~ Bin(12, ½)
		{2, 10, 2 * (1 + 12 + 66) / 4096.0}, // symmetric
		{0, 6, 2 / 64.0},
		{5, 5, 1}, // twice a tail above ½ is capped at 1
		{0, 0, 1}, // no discordant sample: no evidence
		{1, 0, 1},
	}
	for _, c := range cases {
		if got := McNemarP(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("McNemarP(%d, %d) = %.15g, want %.15g", c.a, c.b, got, c.want)
		}
	}
	if !math.IsNaN(McNemarP(-1, 3)) {
		t.Error("a negative count gives a p-value")
	}
	// Thousands of discordant samples: no underflow, and close to the
	// continuity-corrected normal approximation.
	a, b := 560, 440
	z := (float64(a-b) - 1) / math.Sqrt(float64(a+b))
	approx := math.Erfc(z / math.Sqrt2)
	if got := McNemarP(a, b); got <= 0 || math.Abs(got-approx) > 0.1*approx {
		t.Errorf("McNemarP(%d, %d) = %g, normal approximation %g", a, b, got, approx)
	}
}

// Under the null hypothesis the test rejects at most 5% of the time at
// α = 0.05 (the exact test is conservative); under a clear difference it
// rejects nearly always. 4,000 seeded trials: the rejection rate's
// standard error under the null is 0.0034, and the bound 0.05 + 3 SE is
// exceeded by chance with probability below 0.2%; the power bound is
// likewise 8 SE below the power of ≈0.98.
func TestMcNemarPSizeAndPower(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const trials, n, alpha = 4000, 200, 0.05
	rate := func(p float64) float64 {
		rej := 0
		for range trials {
			a := 0
			for range n {
				if rng.Float64() < p {
					a++
				}
			}
			if McNemarP(a, n-a) <= alpha {
				rej++
			}
		}
		return float64(rej) / trials
	}
	se := math.Sqrt(alpha * (1 - alpha) / trials)
	if r := rate(0.5); r > alpha+3*se {
		t.Errorf("size %.4f under the null, want ≤ %.4f", r, alpha+3*se)
	}
	if r := rate(0.65); r < 0.95 {
		t.Errorf("power %.4f at 65/35, want ≥ 0.95", r)
	}
}

func TestHolmAdjust(t *testing.T) {
	got := HolmAdjust([]float64{0.01, 0.04, 0.03, 0.5})
	// Sorted 0.01, 0.03, 0.04, 0.5 times 4, 3, 2, 1: 0.04, 0.09, 0.08,
	// 0.5, made monotone: 0.04, 0.09, 0.09, 0.5.
	want := []float64{0.04, 0.09, 0.09, 0.5}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("HolmAdjust = %v, want %v", got, want)
		}
	}
	if got := HolmAdjust([]float64{0.6, 0.7}); got[0] != 1 || got[1] != 1 {
		t.Errorf("adjusted p-values above 1: %v", got)
	}
}

func TestPairOutcomes(t *testing.T) {
	a := []bool{true, true, true, false, false, true, false, true}
	b := []bool{true, false, true, true, false, true, true, true}
	p, err := PairOutcomes(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if p.N != 8 || p.BothRight != 4 || p.OnlyA != 1 || p.OnlyB != 2 || p.BothWrong != 1 {
		t.Fatalf("counts %+v", p)
	}
	if p.AccA != 5.0/8 || p.AccB != 6.0/8 || p.Diff != 1.0/8 {
		t.Errorf("accuracies %v %v, difference %v", p.AccA, p.AccB, p.Diff)
	}
	se := math.Sqrt((3.0/8 - 1.0/64) / 8)
	if math.Abs(p.Hi-p.Lo-2*1.959963984540054*se) > 1e-12 || p.Lo > p.Diff || p.Hi < p.Diff {
		t.Errorf("interval [%v, %v] around %v", p.Lo, p.Hi, p.Diff)
	}
	if p.P != McNemarP(1, 2) {
		t.Errorf("p-value %v", p.P)
	}
	if _, err := PairOutcomes(a, b[:3]); err == nil {
		t.Error("outcomes of different lengths compared")
	}
	if _, err := PairOutcomes(nil, nil); err == nil {
		t.Error("no samples compared")
	}
}

// PairedTest on a finished MNIST sweep recomputes, from the final states,
// exactly the final accuracies the runs recorded, and refuses runs that
// did not finish or do not exist.
func TestPairedTestSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	s, err := ParseSuite("legacy.json", []byte(legacySuite))
	if err != nil {
		t.Fatal(err)
	}
	data := datasets.Options{NoDownload: true}
	jobs := s.Jobs(false, data)
	dir := t.TempDir()
	if err := WriteSweepInfo(dir, SweepInfo{Suite: s}); err != nil {
		t.Fatal(err)
	}
	// a and b finish; c does not run.
	if _, err := Sweep(context.Background(), jobs[:2], SweepOptions{Dir: dir, Jobs: 1, Exec: InProcess, CheckpointEvery: 20}); err != nil {
		t.Fatal(err)
	}
	p, err := PairedTest(dir, "a", "b", 1, 1, data)
	if err != nil {
		t.Fatal(err)
	}
	if p.A != jobs[0].ID || p.B != jobs[1].ID || p.N != 100 {
		t.Fatalf("compared %s and %s on %d samples", p.A, p.B, p.N)
	}
	if p.AccA != p.RecordedA || p.AccB != p.RecordedB {
		t.Errorf("recomputed %v/%v, recorded %v/%v", p.AccA, p.AccB, p.RecordedA, p.RecordedB)
	}
	if p.OnlyA+p.OnlyB == 0 {
		t.Error("a baseline and a RAD run agree on every sample: the comparison says nothing")
	}
	both, err := PairedTests(dir, "a", []string{"b", "a"}, 1, 1, data)
	if err != nil || len(both) != 2 || both[0] != p || both[1].OnlyA+both[1].OnlyB != 0 {
		t.Errorf("PairedTests against b and a: %+v %v, want %+v first", both, err, p)
	}
	self, err := PairedTest(dir, jobs[0].ID, "a", 1, 1, data)
	if err != nil || self.OnlyA != 0 || self.OnlyB != 0 || self.P != 1 {
		t.Errorf("a run against itself: %+v %v", self, err)
	}
	for _, bad := range []struct{ name, msg string }{
		{"c", "has not finished"},
		{"nope", "no run"},
	} {
		if _, err := PairedTest(dir, "a", bad.name, 1, 1, data); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("PairedTest with %q: %v, want an error saying %q", bad.name, err, bad.msg)
		}
	}
	if _, err := PairedTest(dir, "a", "b", 2, 1, data); err == nil {
		t.Error("repeat 2 of a one-repeat suite compared")
	}
}
