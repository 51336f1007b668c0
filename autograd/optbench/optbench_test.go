package optbench

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spadlab/spad/autograd"
)

func TestWilson(t *testing.T) {
	// Reference values of the 95% Wilson score interval.
	cases := []struct {
		k, n   int
		lo, hi float64
	}{
		{0, 1000, 0, 0.003827},
		{708, 1000, 0.679066, 0.735342},
		{1000, 1000, 0.996173, 1},
		{5, 10, 0.236593, 0.763407},
	}
	for _, c := range cases {
		lo, hi := Wilson(c.k, c.n)
		if math.Abs(lo-c.lo) > 1e-5 || math.Abs(hi-c.hi) > 1e-5 {
			t.Errorf("Wilson(%d, %d) = [%.6f, %.6f], want [%.6f, %.6f]", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

func TestInitialPointsInBox(t *testing.T) {
	for _, tf := range autograd.TableFunctions() {
		x, y := make([]float64, tf.Dim), make([]float64, tf.Dim)
		box := Box{Center: []float64{1, -2}, HalfWidth: 0.5}
		for r := 0; r < 500; r++ {
			InitialPoint(tf, Box{}, 7, r, x)
			for _, v := range x {
				if v < tf.Lo || v >= tf.Hi {
					t.Fatalf("%s run %d: %v outside [%g, %g)", tf.Name, r, x, tf.Lo, tf.Hi)
				}
			}
			InitialPoint(tf, box, 7, r, y)
			for i, v := range y {
				if math.Abs(v-box.Center[i]) > box.HalfWidth {
					t.Fatalf("%s run %d: %v outside %v ± %g", tf.Name, r, y, box.Center, box.HalfWidth)
				}
				// Boxes scale the same unit draws.
				h := (tf.Hi - tf.Lo) / 2
				if u, w := (x[i]-(tf.Lo+h))/h, (v-box.Center[i])/box.HalfWidth; math.Abs(u-w) > 1e-12 {
					t.Fatalf("%s run %d: unit draws %g and %g differ", tf.Name, r, u, w)
				}
			}
		}
	}
}

// TestRunReproducible checks that results depend on the seed only, not on
// the number of workers, and that every run is reported to Progress.
func TestRunReproducible(t *testing.T) {
	cfgs := Grid([]autograd.TestFunction{autograd.Levi, autograd.Beale},
		[]autograd.Estimator{{Kind: autograd.RAD, Normalize: true}, {Kind: autograd.SPADPractical, KMax: 5, M: 2},
			{Kind: autograd.RAD, Normalize: true, Reading: autograd.PerNode}})
	var done atomic.Int64
	s := Settings{Runs: 60, Steps: 50, Seed: 3, Workers: 1, Progress: func(n int) { done.Add(int64(n)) }}
	a, err := Run(cfgs, s)
	if err != nil {
		t.Fatal(err)
	}
	if int(done.Load()) != len(cfgs)*s.Runs {
		t.Errorf("progress reported %d runs, want %d", done.Load(), len(cfgs)*s.Runs)
	}
	s.Workers, s.Progress = 3, nil
	b, err := Run(cfgs, s)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		for r := range a[i] {
			if a[i][r] != b[i][r] {
				t.Fatalf("config %d run %d: %g with 1 worker, %g with 3", i, r, a[i][r], b[i][r])
			}
		}
	}
	s.Seed = 4
	c, _ := Run(cfgs, s)
	if c[0][0] == a[0][0] {
		t.Error("another seed gave the same result")
	}
	for _, bad := range []Settings{{Runs: 0, Steps: 10}, {Runs: 1, Steps: MaxSteps + 1},
		{Runs: 1, Steps: 1, Adam: AdamSettings{LR: -1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}}} {
		if _, err := Run(cfgs, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	cfgs[0].Box = Box{Center: []float64{0}, HalfWidth: 1}
	if _, err := Run(cfgs, s); err == nil {
		t.Error("a box of the wrong dimension accepted")
	}
}

// TestAdamSettingsUsed checks that the learning rate of the settings
// reaches the optimiser: a smaller one moves less.
func TestAdamSettingsUsed(t *testing.T) {
	cfgs := []Config{{Function: autograd.Beale, Estimator: autograd.Estimator{Kind: autograd.Baseline}}}
	a, _ := Run(cfgs, Settings{Runs: 5, Steps: 20, Seed: 1})
	b, _ := Run(cfgs, Settings{Runs: 5, Steps: 20, Seed: 1, Adam: AdamSettings{LR: 1e-4, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}})
	if a[0][0] == b[0][0] {
		t.Fatal("the learning rate had no effect")
	}
}

// TestTablesCSVAndClaims also covers m ≥ 1: the claims look estimators up
// by kind and k_max, not by name (names carry _m=…).
func TestTablesCSVAndClaims(t *testing.T) {
	for _, m := range []int{0, 1, 3} {
		ests := TableEstimators(autograd.PerNode, true, []int{5, 50}, m)
		cfgs := Grid([]autograd.TestFunction{autograd.Levi, autograd.Beale}, ests)
		excess, err := Run(cfgs, Settings{Runs: 20, Steps: 200, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		rates := Rates(cfgs, excess, 0.05)
		for i, r := range rates {
			k := 0
			for _, d := range excess[i] {
				if d < 0.05 {
					k++
				}
			}
			if r.Successes != k || r.Runs != 20 || !(r.Low <= r.Rate && r.Rate <= r.High) {
				t.Errorf("rate %+v, want %d successes", r, k)
			}
		}
		claims, err := CheckClaims(rates)
		if err != nil || len(claims) != 3 {
			t.Fatalf("m=%d: claims %v, %v", m, claims, err)
		}
		if _, err := CheckClaims(rates[:1]); err == nil {
			t.Error("claims checked without the needed rates")
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, rates, PaperLookup(1), "p@1"); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if lines[0] != CSVHeader || len(lines) != len(rates)+1 {
			t.Errorf("CSV:\n%s", buf.String())
		}
		if m == 0 && !strings.HasPrefix(lines[1], "Levi,,baseline,") || !strings.HasSuffix(lines[1], ",0.0000,"+map[bool]string{true: "true", false: "false"}[rates[0].Low == 0]+",p@1") {
			t.Errorf("m=%d: CSV line %q", m, lines[1])
		}
		buf.Reset()
		if err := WriteTable(&buf, "T", rates); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"baseline", "RAD", "SPAD_kmax=5", "SPAD_kmax=50", "Levi", "Beale"} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, buf.String())
			}
		}
	}
}

func TestPaperCellsAndSideBySide(t *testing.T) {
	if v, ok := PaperCell(1, "Beale", "SPAD_kmax=50"); !ok || v != 0.752 {
		t.Errorf("Table 1 Beale SPAD 50: %g %v", v, ok)
	}
	if v, ok := PaperCell(2, "Schaffer2", "RAD"); !ok || v != 0.088 {
		t.Errorf("Table 2 Schaffer2 RAD: %g %v", v, ok)
	}
	if _, ok := PaperCell(3, "Beale", "RAD"); ok {
		t.Error("Table 3 exists")
	}
	// Table 2 never exceeds Table 1 (the caption's statement).
	for _, fn := range PaperFunctions {
		for _, c := range PaperColumns {
			a, _ := PaperCell(1, fn, c)
			b, _ := PaperCell(2, fn, c)
			if b > a {
				t.Errorf("%s %s: Table 2 %g above Table 1 %g", fn, c, b, a)
			}
		}
	}
	rates := []Rate{
		{Function: "Beale", Estimator: "RAD", Successes: 652, Runs: 1000, Rate: 0.652, Low: 0.62, High: 0.68},
		{Function: "Beale", Estimator: "baseline", Successes: 100, Runs: 1000, Rate: 0.1, Low: 0.08, High: 0.12},
	}
	cells := SideBySide(1, rates)
	if len(cells) != 2 || cells[0].Estimator != "baseline" || cells[0].Inside || !cells[1].Inside {
		t.Fatalf("cells %+v", cells)
	}
	var buf bytes.Buffer
	if err := WriteSideBySide(&buf, "T", cells); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "1 of 2 cells") || !strings.Contains(buf.String(), "OUTSIDE") {
		t.Errorf("side by side:\n%s", buf.String())
	}
}

// TestExprFormulation checks that a formulation written as an expression
// changes the tupling structure, not the function.
func TestExprFormulation(t *testing.T) {
	p, err := LoadProtocol("calibrated-shared")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := p.Function("Schaffer2")
	c, err := f.TestFunction().Compile()
	if err != nil {
		t.Fatal(err)
	}
	if c.NumTuples() != 4 || c.NumPaths(0) != 4 {
		t.Errorf("shared Schaffer2: %d tupling nodes, %d paths of x", c.NumTuples(), c.NumPaths(0))
	}
	tb, _ := autograd.Schaffer2.Compile()
	ws, wt := c.NewWorkspace(), tb.NewWorkspace()
	if a, b := ws.Eval([]float64{1.3, -0.4}), wt.Eval([]float64{1.3, -0.4}); math.Abs(a-b) > 1e-12 {
		t.Errorf("shared Schaffer2 %g, textbook %g", a, b)
	}
}

func TestBuiltinProtocols(t *testing.T) {
	names := BuiltinProtocols()
	if len(names) < 2 {
		t.Fatalf("built-in protocols %v", names)
	}
	for _, n := range names {
		p, err := LoadProtocol(n)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != n {
			t.Errorf("%s: name %q", n, p.Name)
		}
		// Round trip through JSON keeps the protocol and its hash.
		q, err := ParseProtocol(p.JSON())
		if err != nil || q.Hash() != p.Hash() {
			t.Errorf("%s: round trip %v, hash %s vs %s", n, err, q.Hash(), p.Hash())
		}
		if len(p.TableConfigs()) != 4*(1+2*(1+len(p.KMax))) {
			t.Errorf("%s: %d table configurations", n, len(p.TableConfigs()))
		}
	}
	cal, _ := LoadProtocol("calibrated")
	if len(cal.Calibration) != len(cal.Functions) {
		t.Errorf("calibrated protocol records %d calibrations", len(cal.Calibration))
	}
	for i, r := range cal.Calibration {
		if r.HalfWidth != cal.Functions[i].Init.HalfWidth {
			t.Errorf("%s: recorded half-width %g, box %g", r.Function, r.HalfWidth, cal.Functions[i].Init.HalfWidth)
		}
	}
}

func TestProtocolErrors(t *testing.T) {
	base, err := LoadProtocol("textbook")
	if err != nil {
		t.Fatal(err)
	}
	good := string(base.JSON())
	edit := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("%q not in the protocol", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	cases := map[string]string{
		"unknown key": edit(`"runs": 1000`, `"runs": 1000, "colour": 1`),
		"version":     edit(`"version": 1`, `"version": 2`),
		"runs":        edit(`"runs": 1000`, `"runs": 0`),
		"steps":       edit(`"steps": 2000`, `"steps": -1`),
		"runs type":   edit(`"runs": 1000`, `"runs": "many"`),
		"lr":          edit(`"lr": 0.01`, `"lr": 0`),
		"beta1":       edit(`"beta1": 0.9`, `"beta1": 1`),
		"reading":     edit(`"per-node",`, `"per-branch",`),
		"m":           edit(`"m": 0`, `"m": -1`),
		"function":    edit(`"name": "Levi"`, `"name": "Rosenbrock"`),
		"formulation": edit(`"formulation": "textbook"`, `"formulation": "fancy"`),
		"dist":        edit(`"dist": "uniform-box"`, `"dist": "normal"`),
		"half_width":  edit(`"half_width": 5`, `"half_width": -5`),
		"center dim":  edit(`"center": [`, `"center": [1, `),
		"kmax":        edit(`"kmax": [`, `"kmax": [0, `),
		"success eps": edit(`"success_eps": [`, `"success_eps": [-1, `),
		"sweep function": edit(`"functions": [
      "Beale"`, `"functions": [
      "Booth"`),
		"f1 seeds":       edit(`"seeds": 200`, `"seeds": 0`),
		"f1 hold":        edit(`"hold": 50`, `"hold": 0`),
		"trailing":       good + "{}",
		"not json":       "{",
		"duplicate func": edit(`"name": "Levi"`, `"name": "Beale"`),
		"empty name":     edit(`"name": "textbook"`, `"name": ""`),
		"empty readings": edit(`"readings": [
    "per-node",
    "per-path"
  ]`, `"readings": []`),
	}
	for name, text := range cases {
		_, err := ParseProtocol([]byte(text))
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q is not one line", name, err)
		}
	}
	if _, err := LoadProtocol("nosuch"); err == nil || !strings.Contains(err.Error(), "calibrated") {
		t.Errorf("unknown built-in: %v", err)
	}
	if _, err := LoadProtocol(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
}

// TestCalibrateBox checks the bisection on a small budget: the result lies
// in the bracket, its rate is the closest to the target among those tried,
// and an unbracketed target is an error.
func TestCalibrateBox(t *testing.T) {
	p, _ := LoadProtocol("textbook")
	f, _ := p.Function("Beale")
	s := Settings{Runs: 40, Steps: 1500, Seed: 2}
	rec, err := CalibrateBox(f, 0.5, 0.05, s, 0.2, 20, 6)
	if err != nil {
		t.Fatal(err)
	}
	if rec.HalfWidth < 0.2 || rec.HalfWidth > 20 || rec.Iterations != 8 {
		t.Fatalf("record %+v", rec)
	}
	r, err := BaselineRate(f, rec.HalfWidth, 0.05, s)
	if err != nil || r.Rate != rec.Rate {
		t.Fatalf("rate at the result %v, recorded %g (%v)", r.Rate, rec.Rate, err)
	}
	if math.Abs(rec.Rate-0.5) > 0.15 {
		t.Errorf("calibrated rate %g far from 0.5", rec.Rate)
	}
	if _, err := CalibrateBox(f, 0.5, 0.05, s, 10, 20, 3); err == nil {
		t.Error("unbracketed target accepted")
	}
}

func TestF1Figure(t *testing.T) {
	traces, err := F1Traces(5, 2000, PaperAdam(), 50, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(traces) != 5 || math.Abs(traces[0].F[0]-autograd.F1.F([]float64{5})) > 1e-12 {
		t.Fatalf("traces start at %g", traces[0].F[0])
	}
	// The stall of the full gradient and the success of g_{x,1} are
	// properties of f₁ and Adam; whether the random selection escapes is
	// the paper's empirical claim, reported but not asserted.
	claims := F1Claims(traces)
	for _, c := range claims[:2] {
		if !c.Held {
			t.Errorf("%s: %s", c.Text, c.Detail)
		}
	}
	for _, c := range claims[2:] {
		t.Logf("%s: held=%v (%s)", c.Text, c.Held, c.Detail)
	}
	dir := t.TempDir()
	for _, name := range []string{"f1.png", "f1.svg"} {
		path := filepath.Join(dir, name)
		if err := PlotF1(path, "f1", traces); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Fatalf("no figure: %v", err)
		}
	}
	if _, err := F1Traces(5, 0, PaperAdam(), 50, true, 1); err == nil {
		t.Error("zero steps accepted")
	}
}

func TestF1Escapes(t *testing.T) {
	esc, err := F1Escapes(5, 300, PaperAdam(), 10, true, 1, 12, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	if len(esc) != 5 || esc[0].Runs != 1 || esc[1].Runs != 12 || esc[0].Below != 0 {
		t.Fatalf("escapes %+v", esc)
	}
	for _, e := range esc {
		if e.Global > e.Runs || e.Below > e.Runs {
			t.Fatalf("escape %+v", e)
		}
	}
	var buf bytes.Buffer
	if err := WriteEscapes(&buf, esc); err != nil || strings.Count(buf.String(), "\n") != 5 {
		t.Fatalf("%v\n%s", err, buf.String())
	}
}

func TestSpearman(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5}
	if r := spearman(x, []float64{2, 4, 6, 8, 100}); math.Abs(r-1) > 1e-12 {
		t.Errorf("monotone: %g", r)
	}
	if r := spearman(x, []float64{5, 4, 3, 2, 1}); math.Abs(r+1) > 1e-12 {
		t.Errorf("reversed: %g", r)
	}
	if r := spearman(x, []float64{1, 1, 1, 1, 1}); r != 0 {
		t.Errorf("constant: %g", r)
	}
}

func TestSweepPlotAndClaims(t *testing.T) {
	p, _ := LoadProtocol("calibrated")
	p.Sweep.KMax = []int{1, 10, 100}
	p.Runs, p.Steps = 10, 100
	cfgs := p.SweepConfigs()
	if len(cfgs) != 2*(1+2*(1+3)) {
		t.Fatalf("%d sweep configurations", len(cfgs))
	}
	excess, err := Run(cfgs, p.Settings())
	if err != nil {
		t.Fatal(err)
	}
	rates := Rates(cfgs, excess, 0.05)
	path := filepath.Join(t.TempDir(), "sweep.png")
	if err := PlotSweep(path, "Levi", 0.05, rates); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Fatalf("no figure: %v", err)
	}
	if claims := SweepClaims(rates); len(claims) != 8 {
		t.Errorf("%d sweep claims, want 8", len(claims))
	}
	if err := PlotSweep(path, "Ackley", 0.05, rates); err == nil {
		t.Error("plotted a function without rates")
	}
}
