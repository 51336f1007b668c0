package optbench

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/spadlab/spad/autograd"
)

// ProtocolVersion is the version of the protocol format this package reads.
const ProtocolVersion = 1

// Protocol is every choice of the optimisation experiments that the paper
// leaves open (or states), as data. It is read from and written to JSON; a
// result records the protocol that produced it (Name and Hash).
type Protocol struct {
	// Version is the format version, ProtocolVersion.
	Version int `json:"version"`
	// Name identifies the protocol in outputs.
	Name string `json:"name"`
	// Note says where the protocol's choices come from.
	Note string `json:"note,omitempty"`
	// Runs per configuration and Steps (T) per run; Seed is the master
	// seed of initial points and estimator draws.
	Runs  int    `json:"runs"`
	Steps int    `json:"steps"`
	Seed  uint64 `json:"seed"`
	// Adam is the optimiser's setting.
	Adam AdamSettings `json:"adam"`
	// SuccessEps are the ε of the ε-success rate, one table each (the
	// paper: 0.05 for Table 1, 0.01 for Table 2).
	SuccessEps []float64 `json:"success_eps"`
	// KMax are the SPAD columns of the tables.
	KMax []int `json:"kmax"`
	// M is SPAD's number of candidates at a selection; 0 means all of
	// them (per node: m = b, the paper's choice).
	M int `json:"m"`
	// SPADExactEps adds, for each k_max and each ε listed, an exact SPAD
	// column (Algorithm 1: exploration ε with the 1/p factor) to the
	// tables; the paper has no such column. Empty by default.
	SPADExactEps []float64 `json:"spad_exact_eps,omitempty"`
	// Readings are the estimator readings run: "per-node" (one branch
	// per tupling node, the paper's wording) and/or "per-path".
	Readings []string `json:"readings"`
	// RADScaled scales RAD's sampled path or branch by 1/p (unbiased).
	RADScaled bool `json:"rad_scaled"`
	// Functions are the table's rows: how each function is written and
	// where its initial points are drawn.
	Functions []FunctionSpec `json:"functions"`
	// Sweep is Figure 7's k_max sweep.
	Sweep SweepSpec `json:"sweep"`
	// F1 is Figure 3's experiment.
	F1 F1Spec `json:"f1"`
	// Calibration records how the initial boxes were found (informative;
	// not read by the runs).
	Calibration []CalibrationRecord `json:"calibration,omitempty"`
}

// FunctionSpec is one function of the tables.
type FunctionSpec struct {
	// Name is the function (autograd.FunctionByName).
	Name string `json:"name"`
	// Formulation is how the function is written, which fixes its
	// tupling structure. "textbook" is the built-in program
	// (autograd.TestFunction.Build), which writes each function as the
	// paper's Appendix B prints it: every parameter meets one tupling node.
	// "expr:" followed by an expression (autograd.ParseExpr) over x (and
	// y) writes it as that expression: bindings used several times give
	// nested tupling nodes. The expression must compute the function (it is
	// checked against the built-in one at 64 points of the initial box).
	Formulation string `json:"formulation"`
	// Init is the initial-point distribution.
	Init InitSpec `json:"init"`
}

// InitSpec is an initial-point distribution: each coordinate uniform in
// [Center[i] − HalfWidth, Center[i] + HalfWidth).
type InitSpec struct {
	Dist      string    `json:"dist"` // "uniform-box"
	Center    []float64 `json:"center"`
	HalfWidth float64   `json:"half_width"`
}

// SweepSpec is the k_max sweep of Figure 7.
type SweepSpec struct {
	Functions []string `json:"functions"`
	KMax      []int    `json:"kmax"`
	// SuccessEps is the ε of its ε-success rate (the paper: 0.05).
	SuccessEps float64 `json:"success_eps"`
}

// F1Spec is the f₁ experiment of Figure 3.
type F1Spec struct {
	X0    float64   `json:"x0"`
	Steps int       `json:"steps"`
	LRs   []float64 `json:"lrs"`
	// Seeds is the number of seeds of the escape-rate count.
	Seeds int `json:"seeds"`
	// Hold is k_max of the "held" reading of random selection: a branch
	// drawn every Hold steps and kept in between.
	Hold int `json:"hold"`
	// SuccessEps: a run reaches the global minimum when f₁(x_T) < it.
	SuccessEps float64 `json:"success_eps"`
}

// CalibrationRecord records the calibration of one function's box.
type CalibrationRecord struct {
	Function   string  `json:"function"`
	Target     float64 `json:"target"`
	Rate       float64 `json:"rate"`
	HalfWidth  float64 `json:"half_width"`
	Iterations int     `json:"iterations"`
	Runs       int     `json:"runs"`
	Steps      int     `json:"steps"`
	Seed       uint64  `json:"seed"`
}

//go:embed protocols/*.json
var protocolFiles embed.FS

// BuiltinProtocols returns the names of the protocols shipped with the
// package (protocols/NAME.json).
func BuiltinProtocols() []string {
	ents, _ := protocolFiles.ReadDir("protocols")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}

// DefaultProtocolName is the protocol cmd/optbench runs by default: the
// initial boxes calibrated on the paper's baseline column.
const DefaultProtocolName = "calibrated"

// LoadProtocol reads the protocol named by arg: a built-in name (see
// BuiltinProtocols) or the path of a JSON file.
func LoadProtocol(arg string) (Protocol, error) {
	var data []byte
	var err error
	if !strings.ContainsAny(arg, "/.") {
		data, err = protocolFiles.ReadFile(path.Join("protocols", arg+".json"))
		if err != nil {
			return Protocol{}, fmt.Errorf("no built-in protocol %q (built in: %s; or give a .json file)",
				arg, strings.Join(BuiltinProtocols(), ", "))
		}
	} else if data, err = os.ReadFile(arg); err != nil {
		return Protocol{}, err
	}
	p, err := ParseProtocol(data)
	if err != nil {
		return p, fmt.Errorf("protocol %s: %w", arg, err)
	}
	return p, nil
}

// ParseProtocol decodes and validates a JSON protocol. Unknown keys,
// trailing data and bad values are errors; every error is one line.
func ParseProtocol(data []byte) (Protocol, error) {
	var p Protocol
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, oneLine(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, errors.New("trailing data after the protocol object")
	}
	return p, p.Validate()
}

func oneLine(err error) error {
	return errors.New(strings.ReplaceAll(err.Error(), "\n", " "))
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Validate reports the first bad value of p, naming its field.
func (p Protocol) Validate() error {
	switch {
	case p.Version != ProtocolVersion:
		return fmt.Errorf("version: %d, this program reads version %d", p.Version, ProtocolVersion)
	case p.Name == "" || strings.ContainsAny(p.Name, ",\n\r\""):
		return fmt.Errorf("name: %q must be non-empty, without commas, quotes or newlines", p.Name)
	case p.Runs < 1 || p.Runs > MaxRuns:
		return fmt.Errorf("runs: %d not in [1, %d]", p.Runs, MaxRuns)
	case p.Steps < 1 || p.Steps > MaxSteps:
		return fmt.Errorf("steps: %d not in [1, %d]", p.Steps, MaxSteps)
	case len(p.SuccessEps) == 0:
		return errors.New("success_eps: empty")
	case len(p.Readings) == 0:
		return errors.New("readings: empty")
	case p.M < 0:
		return fmt.Errorf("m: %d < 0", p.M)
	case len(p.Functions) == 0:
		return errors.New("functions: empty")
	}
	if err := p.Adam.validate(); err != nil {
		return fmt.Errorf("adam: %s", strings.TrimPrefix(err.Error(), "optbench: Adam "))
	}
	for _, e := range p.SuccessEps {
		if !(e > 0) || !finite(e) {
			return fmt.Errorf("success_eps: %g must be > 0 and finite", e)
		}
	}
	if err := checkKMax("kmax", p.KMax, false); err != nil {
		return err
	}
	for _, e := range p.SPADExactEps {
		if !(e > 0 && e <= 1) {
			return fmt.Errorf("spad_exact_eps: %g not in (0, 1]", e)
		}
	}
	seen := map[string]bool{}
	for _, r := range p.Readings {
		if _, err := autograd.ParseReading(r); err != nil {
			return fmt.Errorf("readings: %q is not per-node or per-path", r)
		}
		if seen[r] {
			return fmt.Errorf("readings: %q twice", r)
		}
		seen[r] = true
	}
	seen = map[string]bool{}
	for i, f := range p.Functions {
		if err := f.validate(); err != nil {
			return fmt.Errorf("functions[%d]: %w", i, err)
		}
		if seen[f.Name] {
			return fmt.Errorf("functions[%d]: %s twice", i, f.Name)
		}
		seen[f.Name] = true
	}
	for _, name := range p.Sweep.Functions {
		if _, err := p.Function(name); err != nil {
			return fmt.Errorf("sweep.functions: %w", err)
		}
	}
	if err := checkKMax("sweep.kmax", p.Sweep.KMax, len(p.Sweep.Functions) == 0); err != nil {
		return err
	}
	if !(p.Sweep.SuccessEps > 0) || !finite(p.Sweep.SuccessEps) {
		return fmt.Errorf("sweep.success_eps: %g must be > 0 and finite", p.Sweep.SuccessEps)
	}
	f := p.F1
	switch {
	case !finite(f.X0):
		return fmt.Errorf("f1.x0: %g not finite", f.X0)
	case f.Steps < 1 || f.Steps > MaxSteps:
		return fmt.Errorf("f1.steps: %d not in [1, %d]", f.Steps, MaxSteps)
	case len(f.LRs) == 0:
		return errors.New("f1.lrs: empty")
	case f.Seeds < 1 || f.Seeds > MaxRuns:
		return fmt.Errorf("f1.seeds: %d not in [1, %d]", f.Seeds, MaxRuns)
	case f.Hold < 1:
		return fmt.Errorf("f1.hold: %d < 1", f.Hold)
	case !(f.SuccessEps > 0) || !finite(f.SuccessEps):
		return fmt.Errorf("f1.success_eps: %g must be > 0 and finite", f.SuccessEps)
	}
	for _, lr := range f.LRs {
		if !(lr > 0) || !finite(lr) {
			return fmt.Errorf("f1.lrs: %g must be > 0 and finite", lr)
		}
	}
	return nil
}

func checkKMax(field string, ks []int, emptyOK bool) error {
	if len(ks) == 0 && !emptyOK {
		return fmt.Errorf("%s: empty", field)
	}
	for _, k := range ks {
		if k < 1 {
			return fmt.Errorf("%s: %d < 1", field, k)
		}
	}
	return nil
}

func (f FunctionSpec) validate() error {
	tf, ok := autograd.FunctionByName(f.Name)
	if !ok {
		return fmt.Errorf("unknown function %q", f.Name)
	}
	in := f.Init
	switch {
	case in.Dist != "uniform-box":
		return fmt.Errorf("%s: init.dist %q (want uniform-box)", f.Name, in.Dist)
	case len(in.Center) != tf.Dim:
		return fmt.Errorf("%s: init.center has %d coordinates, want %d", f.Name, len(in.Center), tf.Dim)
	case !(in.HalfWidth > 0) || !finite(in.HalfWidth):
		return fmt.Errorf("%s: init.half_width %g must be > 0 and finite", f.Name, in.HalfWidth)
	}
	for _, c := range in.Center {
		if !finite(c) {
			return fmt.Errorf("%s: init.center %v not finite", f.Name, in.Center)
		}
	}
	if f.Formulation == "textbook" {
		return nil
	}
	src, ok := strings.CutPrefix(f.Formulation, "expr:")
	if !ok {
		return fmt.Errorf("%s: unknown formulation %q (want textbook or expr:EXPRESSION)", f.Name, f.Formulation)
	}
	e, err := autograd.ParseExpr(src)
	if err != nil {
		return fmt.Errorf("%s: formulation: %w", f.Name, err)
	}
	names := paramNames(tf.Dim)
	for _, v := range e.Vars() {
		if !slices.Contains(names, v) {
			return fmt.Errorf("%s: formulation uses %s; the variables are %s", f.Name, v, strings.Join(names, ", "))
		}
	}
	etf := f.TestFunction()
	c, err := etf.Compile()
	if err != nil {
		return fmt.Errorf("%s: formulation: %w", f.Name, err)
	}
	ws := c.NewWorkspace()
	x := make([]float64, tf.Dim)
	for r := 0; r < 64; r++ {
		InitialPoint(tf, f.Box(), 99, r, x)
		got, want := ws.Eval(x), tf.F(x)
		if !(math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))) {
			return fmt.Errorf("%s: formulation gives %g at %v where %s is %g", f.Name, got, x, f.Name, want)
		}
	}
	return nil
}

// paramNames returns the parameter names of a function of dim variables:
// x, y (or x0, x1, ... beyond two), as autograd.TestFunction.Compile names
// them.
func paramNames(dim int) []string {
	names := make([]string, dim)
	for i := range names {
		if dim > 2 {
			names[i] = fmt.Sprintf("x%d", i)
		} else {
			names[i] = string(rune('x' + i))
		}
	}
	return names
}

// Function returns the spec of the function called name.
func (p Protocol) Function(name string) (FunctionSpec, error) {
	for _, f := range p.Functions {
		if f.Name == name {
			return f, nil
		}
	}
	return FunctionSpec{}, fmt.Errorf("function %q is not among the protocol's functions", name)
}

// TestFunction returns the function of the spec, written as its
// Formulation says (the spec must be valid).
func (f FunctionSpec) TestFunction() autograd.TestFunction {
	tf, _ := autograd.FunctionByName(f.Name)
	src, ok := strings.CutPrefix(f.Formulation, "expr:")
	if !ok {
		return tf
	}
	e, err := autograd.ParseExpr(src)
	if err != nil {
		return tf
	}
	names := paramNames(tf.Dim)
	tf.Build = func(p *autograd.Program, x []autograd.Value) autograd.Value {
		vars := make([]autograd.Value, 0, len(e.Vars()))
		for _, v := range e.Vars() {
			vars = append(vars, x[slices.Index(names, v)])
		}
		return e.Build(p, vars)
	}
	return tf
}

// Box returns the spec's initial box.
func (f FunctionSpec) Box() Box {
	return Box{Center: append([]float64(nil), f.Init.Center...), HalfWidth: f.Init.HalfWidth}
}

// ReadingList returns the protocol's readings.
func (p Protocol) ReadingList() []autograd.Reading {
	var rs []autograd.Reading
	for _, s := range p.Readings {
		r, _ := autograd.ParseReading(s)
		rs = append(rs, r)
	}
	return rs
}

// Settings returns the run settings of the protocol.
func (p Protocol) Settings() Settings {
	return Settings{Runs: p.Runs, Steps: p.Steps, Seed: p.Seed, Adam: p.Adam}
}

// TableConfigs returns the configurations of the tables: every function
// with the baseline once and, for each reading, RAD and SPAD at each k_max.
func (p Protocol) TableConfigs() []Config {
	var cfgs []Config
	for _, f := range p.Functions {
		seen := map[string]bool{}
		for _, r := range p.ReadingList() {
			ests := TableEstimators(r, p.RADScaled, p.KMax, p.M)
			for _, k := range p.KMax {
				for _, eps := range p.SPADExactEps {
					ests = append(ests, autograd.Estimator{Kind: autograd.SPADExact, KMax: k, M: p.M, Eps: eps, Reading: r})
				}
			}
			for _, e := range ests {
				if seen[e.String()] {
					continue
				}
				seen[e.String()] = true
				cfgs = append(cfgs, Config{Function: f.TestFunction(), Estimator: e, Box: f.Box()})
			}
		}
	}
	return cfgs
}

// SweepConfigs returns the configurations of the k_max sweep: for each
// sweep function, the baseline, and for each reading RAD and SPAD at each
// sweep k_max.
func (p Protocol) SweepConfigs() []Config {
	var cfgs []Config
	for _, name := range p.Sweep.Functions {
		f, _ := p.Function(name)
		seen := map[string]bool{}
		for _, r := range p.ReadingList() {
			for _, e := range TableEstimators(r, p.RADScaled, p.Sweep.KMax, p.M) {
				if !seen[e.String()] {
					seen[e.String()] = true
					cfgs = append(cfgs, Config{Function: f.TestFunction(), Estimator: e, Box: f.Box()})
				}
			}
		}
	}
	return cfgs
}

// JSON returns the protocol as indented JSON, ending with a newline.
func (p Protocol) JSON() []byte {
	b, _ := json.MarshalIndent(p, "", "  ")
	return append(b, '\n')
}

// Hash returns the first 12 hex digits of the SHA-256 of p.JSON(): two runs
// with the same hash ran the same protocol.
func (p Protocol) Hash() string {
	h := sha256.Sum256(p.JSON())
	return hex.EncodeToString(h[:6])
}

// ID returns "name@hash", the protocol's identity recorded in outputs.
func (p Protocol) ID() string { return p.Name + "@" + p.Hash() }
