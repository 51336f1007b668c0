package bench

import (
	"strings"
	"testing"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/inject"
)

func TestBuiltinSuites(t *testing.T) {
	names := SuiteNames()
	if len(names) < 2 {
		t.Fatalf("built-in suites %v, want mnist-fig8 and cifar-fig8", names)
	}
	for _, n := range names {
		s, err := LoadSuite(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for _, quick := range []bool{false, true} {
			for _, j := range s.Jobs(quick, datasets.Options{}) {
				cfg, err := j.Config.Defaults()
				if err == nil {
					err = cfg.Validate()
				}
				if err != nil {
					t.Errorf("%s: %v", j.ID, err)
				}
			}
		}
	}
	if _, err := LoadSuite("nope"); err == nil || !strings.Contains(err.Error(), "mnist-fig8") {
		t.Errorf("unknown suite error %v should list the valid names", err)
	}
}

// TestMNISTSuite checks the protocol of the MNIST suite against the issue
// and the paper: tuned rates, 20,000 iterations, 5 repeats, the SPAD grid.
func TestMNISTSuite(t *testing.T) {
	s, err := LoadSuite("mnist-fig8")
	if err != nil {
		t.Fatal(err)
	}
	jobs := s.Jobs(false, datasets.Options{})
	if want := len(s.Settings) * 5; len(jobs) != want {
		t.Fatalf("%d jobs, want %d", len(jobs), want)
	}
	byName := map[string]Job{}
	for _, j := range jobs {
		if j.Config.Bootstrap != j.Repeat || j.Config.Seed != uint64(j.Repeat) {
			t.Errorf("%s: bootstrap %d seed %d, want the repeat %d", j.ID, j.Config.Bootstrap, j.Config.Seed, j.Repeat)
		}
		if j.Config.Iters != 20000 || j.Config.LRFactor != 0.6 || j.Config.LRSteps != 10 || j.Config.Optimizer != "adam" {
			t.Errorf("%s: iters %d, decay %g×%d, %s", j.ID, j.Config.Iters, j.Config.LRFactor, j.Config.LRSteps, j.Config.Optimizer)
		}
		if j.Repeat == 1 {
			byName[j.Setting] = j
		}
	}
	for name, lrwd := range map[string][2]float64{
		"baseline": {1.35e-3, 4.07e-7}, "rad-project": {5.27e-4, 1.01e-3},
		"rad-same-sample": {4.52e-4, 4.06e-6}, "rad-diff-sample": {9.34e-4, 1.25e-6},
	} {
		j, ok := byName[name]
		if !ok {
			t.Fatalf("no setting %s", name)
		}
		if j.Config.LR != lrwd[0] || j.Config.WD != lrwd[1] || j.Config.Batch != 150 {
			t.Errorf("%s: lr %g wd %g batch %d", name, j.Config.LR, j.Config.WD, j.Config.Batch)
		}
	}
	for _, km := range [][2]int{{10, 10}, {100, 10}, {1000, 10}} {
		found := false
		for _, j := range byName {
			e := j.Config.Estimator
			if e.Mode == inject.SPAD && e.KMax == km[0] && e.M == km[1] && j.Config.Batch == 150 {
				found = true
			}
		}
		if !found {
			t.Errorf("no SPAD setting with (k_max, m) = %v", km)
		}
	}
	if j := byName["spad-k10-m10-b300"]; j.Config.Batch != 300 {
		t.Errorf("big-batch SPAD has batch %d", j.Config.Batch)
	}
	if j := byName["dropout-0.1"]; j.Config.Dropout != 0.1 {
		t.Errorf("dropout setting has dropout %g", j.Config.Dropout)
	}
	q := s.Jobs(true, datasets.Options{})
	if q[0].Config.Iters >= 1000 || q[0].Config.TrainSize == 0 || !strings.HasPrefix(q[0].ID, "mnist-fig8-quick/") {
		t.Errorf("quick job %+v is not shrunk or not labelled quick", q[0])
	}
}

func TestParseSuiteErrors(t *testing.T) {
	const ok = `{"name":"s","model":"smallfc","iters":10,"repeats":1,"settings":[%s]}`
	base := `{"name":"a","estimator":"baseline","lr":1e-3}`
	for _, c := range []struct{ in, want string }{
		{``, "x.json: empty file"},
		{`{"name":"s",`, "x.json: unexpected end of file"},
		{"{\n  \"name\": \"s\",\n  \"iters\": x\n}", "x.json: line 3, column 12: invalid character 'x'"},
		{`{"name":"s","iters":"ten"}`, `x.json: line 1, column 25: field "iters": cannot use a JSON string as int`},
		{`{"name":"s","itres":10}`, `x.json: unknown field "itres"`},
		{`{"name":"s","model":"smallfc","iters":10,"repeats":1,"settings":[]}`, "x.json: no settings"},
		{`{"name":"s","model":"big","iters":10,"repeats":1,"settings":[` + base + `]}`, `x.json: unknown model "big"`},
		{`{"name":"s","model":"smallfc","iters":0,"repeats":1,"settings":[` + base + `]}`, "x.json: iters must be in [1, 1000000000], got 0"},
		{`{"name":"s","model":"smallfc","iters":9223372036854775807,"repeats":1,"settings":[` + base + `]}`, "x.json: iters must be in [1, 1000000000], got 9223372036854775807"},
		{`{"name":"s","model":"smallfc","iters":10,"batch":100000000,"repeats":1,"settings":[` + base + `]}`, "x.json: batch must be in [0, 65536], got 100000000"},
		{strings.Replace(ok, "%s", `{"name":"r","estimator":"baseline","lr":1,"batch":9223372036854775807}`, 1), `setting 1 ("r"): batch must be in [0, 65536], got 9223372036854775807`},
		{strings.Replace(ok, "%s", `{"name":"r","estimator":"baseline","keep":0.5,"lr":1}`, 1), `setting 1 ("r"): keep 0.5: needs estimator rad or spad (baseline does not use it)`},
		{`{"name":"a b","model":"smallfc","iters":1,"repeats":1,"settings":[` + base + `]}`, `x.json: suite name "a b" must be`},
		{strings.Replace(ok, "%s", base+","+base, 1), `x.json: setting 2: duplicate name "a"`},
		{strings.Replace(ok, "%s", `{"name":"r","estimator":"rad","kind":"blur","keep":0.1,"lr":1}`, 1), `x.json: setting 1 ("r"): kind "blur": unknown projection kind (valid: project, same-sample, diff-sample)`},
		{strings.Replace(ok, "%s", `{"name":"r","estimator":"rad","keep":1.5,"lr":1}`, 1), `x.json: setting 1 ("r"): keep 1.5: must be in (0, 1]`},
		{strings.Replace(ok, "%s", `{"name":"r","estimator":"rad","keep":0.1,"kmax":3,"lr":1}`, 1), `setting 1 ("r"): kmax 3: needs estimator spad (rad does not use it)`},
		{strings.Replace(ok, "%s", `{"name":"r","estimator":"spad","keep":0.1,"kmax":0,"m":2,"lr":1}`, 1), `setting 1 ("r"): kmax 0: must be ≥ 1`},
		{strings.Replace(ok, "%s", `{"name":"r","estimator":"baseline","lr":0}`, 1), `lr must be a positive number, got 0`},
		{strings.Replace(ok, "%s", `{"name":"r","estimator":"sgd","lr":1}`, 1), `setting 1 ("r"): estimator "sgd": unknown estimator (valid: baseline, rad, spad)`},
		{strings.Replace(ok, "%s", base, 1) + `{}`, `unexpected data after the suite object`},
	} {
		_, err := ParseSuite("x.json", []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSuite(%q) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
}

func TestSuiteFile(t *testing.T) {
	s, err := LoadSuiteFile("testdata/tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	jobs := s.Jobs(false, datasets.Options{})
	if len(jobs) != 6 || jobs[0].ID != "tiny/baseline/r1" || jobs[5].ID != "tiny/spad/r2" {
		t.Errorf("jobs %v", jobs)
	}
	if e := jobs[4].Config.Estimator; e.Kind != inject.Project || e.Variant != inject.Practical {
		t.Errorf("defaults of kind and variant: %+v", e)
	}
	if _, err := LoadSuiteFile("testdata/none.json"); err == nil {
		t.Error("missing file: no error")
	}
}

// FuzzSuite feeds arbitrary bytes to ParseSuite: it must never panic, and a
// suite it accepts must expand into valid training configurations.
func FuzzSuite(f *testing.F) {
	for _, n := range SuiteNames() {
		data, _ := suiteFS.ReadFile("suites/" + n + ".json")
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSuite("fuzz.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if s.Repeats > 1000 || s.Iters > 1<<30 {
			return
		}
		jobs := s.Jobs(true, datasets.Options{})
		jobs = append(jobs, s.Jobs(false, datasets.Options{})...)
		for _, j := range jobs {
			cfg, err := j.Config.Defaults()
			if err == nil {
				err = cfg.Validate()
			}
			if err != nil {
				t.Fatalf("accepted suite gives invalid run %s: %v", j.ID, err)
			}
		}
	})
}
