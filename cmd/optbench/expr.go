package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spadlab/spad/autograd"
	"github.com/spadlab/spad/autograd/optbench"
)

// maxListing is the largest program whose SSA-SA listing -expr prints.
const maxListing = 60

// parseExpr parses and checks -expr and the flags that go with it.
func (o *options) parseExpr(set map[string]bool) error {
	e, err := autograd.ParseExpr(o.expr)
	if err != nil {
		var ee *autograd.ExprError
		if errors.As(err, &ee) {
			return fmt.Errorf("-expr %s: %v (here: %s)", strconv.Quote(o.expr), err, pointAt(o.expr, ee.Pos))
		}
		return fmt.Errorf("-expr: %v", err)
	}
	if len(e.Vars()) == 0 {
		return fmt.Errorf("-expr %s: no variable to minimise over", strconv.Quote(o.expr))
	}
	if _, err := e.Compile(); err != nil {
		return fmt.Errorf("-expr: %v", err)
	}
	if o.x0 != nil && len(o.x0) != len(e.Vars()) {
		return fmt.Errorf("-x0: %d values for %d variables (%s)", len(o.x0), len(e.Vars()), strings.Join(e.Vars(), ", "))
	}
	if set["target"] && (math.IsNaN(o.target) || math.IsInf(o.target, 0)) {
		return fmt.Errorf("-target: %g is not finite", o.target)
	}
	if !(o.halfWidth > 0) || math.IsInf(o.halfWidth, 0) {
		return fmt.Errorf("-half-width must be > 0 and finite, got %g", o.halfWidth)
	}
	if o.x0 != nil && set["half-width"] {
		return errors.New("-half-width applies without -x0 only")
	}
	if o.sweep || o.f1 || o.calibrate || o.tables && set["tables"] {
		return errors.New("-expr runs alone: drop -tables, -kmax-sweep, -f1 and -calibrate")
	}
	o.parsed = e
	return nil
}

// pointAt quotes up to 20 bytes of s around byte offset pos with a » mark
// at pos.
func pointAt(s string, pos int) string {
	lo, hi := max(0, pos-20), min(len(s), pos+20)
	return strconv.Quote(s[lo:pos] + "»" + s[pos:hi])
}

func runExpr(o options, w io.Writer) error {
	p := o.proto
	e := o.parsed
	vars := e.Vars()
	c, err := e.Compile()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nexpression %s\nparsed as  %s\n", o.expr, e)
	fmt.Fprintf(w, "variables (parameters, in order of first use): %s\n", strings.Join(vars, ", "))
	describeStructure(w, c, vars)
	if len(c.Instrs()) <= maxListing {
		fmt.Fprintf(w, "SSA-SA program (%d instructions):\n", len(c.Instrs()))
		for _, l := range strings.Split(strings.TrimSpace(c.String()), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	tf := autograd.TestFunction{Name: "expr", Dim: len(vars),
		Build: func(q *autograd.Program, x []autograd.Value) autograd.Value { return e.Build(q, x) }}
	box := optbench.Box{Center: make([]float64, len(vars)), HalfWidth: o.halfWidth}
	start := fmt.Sprintf("initial points uniform in [-%g, %g]^%d", o.halfWidth, o.halfWidth, len(vars))
	if o.x0 != nil {
		box = optbench.Box{Center: o.x0, HalfWidth: 0}
		start = fmt.Sprintf("from (%s) = (%s)", strings.Join(vars, ", "), joinFloats(o.x0))
	}
	if !math.IsNaN(o.target) {
		tf.Min = o.target
	}
	var cfgs []optbench.Config
	seen := map[string]bool{}
	for _, r := range p.ReadingList() {
		for _, est := range optbench.TableEstimators(r, p.RADScaled, p.KMax, p.M) {
			if !seen[est.String()] {
				seen[est.String()] = true
				cfgs = append(cfgs, optbench.Config{Function: tf, Estimator: est, Box: box})
			}
		}
	}
	s, done := settings(o, len(cfgs)*p.Runs, "expr")
	excess, err := optbench.Run(cfgs, s)
	done()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nMinimised with Adam (lr %g) for %d steps, %d runs %s, protocol %s\n", p.Adam.LR, p.Steps, p.Runs, start, p.ID())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "estimator\tmedian f(x_T)\tbest f(x_T)\tworst f(x_T)\tx_T of run 0\t")
	if !math.IsNaN(o.target) {
		for _, eps := range p.SuccessEps {
			fmt.Fprintf(tw, "ε-success, ε = %g\t", eps)
		}
	}
	fmt.Fprintln(tw)
	for i, cfg := range cfgs {
		finals := make([]float64, len(excess[i]))
		for r, d := range excess[i] {
			finals[r] = d + tf.Min
		}
		slices.SortFunc(finals, func(a, b float64) int {
			// NaN last.
			switch {
			case math.IsNaN(a) && math.IsNaN(b):
				return 0
			case math.IsNaN(a):
				return 1
			case math.IsNaN(b):
				return -1
			}
			return compare(a, b)
		})
		x, err := firstRun(cfg, s)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%.6g\t%.6g\t%.6g\t(%s)\t", cfg.Estimator, finals[len(finals)/2], finals[0], finals[len(finals)-1], joinFloats(x))
		if !math.IsNaN(o.target) {
			for _, eps := range p.SuccessEps {
				r := optbench.Rates(cfgs[i:i+1], excess[i:i+1], eps)[0]
				fmt.Fprintf(tw, "%.1f%% [%.1f, %.1f]\t", 100*r.Rate, 100*r.Low, 100*r.High)
			}
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func compare(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// firstRun repeats run 0 of cfg and returns its final point (Run returns
// values only).
func firstRun(cfg optbench.Config, s optbench.Settings) ([]float64, error) {
	one := s
	one.Runs, one.Workers, one.Progress = 1, 1, nil
	x := make([]float64, cfg.Function.Dim)
	optbench.InitialPoint(cfg.Function, cfg.Box, s.Seed, 0, x)
	c, err := cfg.Function.Compile()
	if err != nil {
		return nil, err
	}
	smp, err := autograd.NewSampler(c, cfg.Estimator)
	if err != nil {
		return nil, err
	}
	smp.Reset(optbench.SamplerKey(cfg, s.Seed, 0))
	opt := autograd.NewAdam(len(x))
	a := s.Adam
	if a == (optbench.AdamSettings{}) {
		a = optbench.PaperAdam()
	}
	opt.LR, opt.Beta1, opt.Beta2, opt.Eps = a.LR, a.Beta1, a.Beta2, a.Eps
	autograd.Minimize(smp, opt, x, make([]float64, len(x)), s.Steps, nil)
	return x, nil
}

func joinFloats(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatFloat(x, 'g', 6, 64)
	}
	return strings.Join(s, ", ")
}

// describeStructure prints the paths of each variable and the tupling nodes
// on them.
func describeStructure(w io.Writer, c *autograd.Compiled, vars []string) {
	fmt.Fprint(w, "paths to the output:")
	for q, v := range vars {
		fmt.Fprintf(w, " %s %d", v, c.NumPaths(q))
		if q < len(vars)-1 {
			fmt.Fprint(w, ",")
		}
	}
	fmt.Fprintln(w)
	bySlot := map[int]string{}
	for q, v := range vars {
		if s := c.ParamSlot(q); s >= 0 {
			bySlot[s] = v
		}
	}
	fmt.Fprintf(w, "tupling nodes on the paths: %d", c.NumTuples())
	for t := 0; t < c.NumTuples(); t++ {
		in := c.Instrs()[c.TupleInstr(t)]
		name, ok := bySlot[int(in.A)]
		if !ok {
			name = fmt.Sprintf("v%d", in.A)
		}
		fmt.Fprintf(w, "; %s → %d branches", name, in.K)
	}
	fmt.Fprintln(w)
	deepest := 0
	for q := range vars {
		for i := 0; i < c.NumPaths(q); i++ {
			deepest = max(deepest, len(c.PathChoices(q, i)))
		}
	}
	if deepest >= 2 {
		fmt.Fprintf(w, "nested tupling: a path meets up to %d tupling nodes, so the per-node and per-path readings differ here\n", deepest)
	} else {
		fmt.Fprintln(w, "no path meets two tupling nodes: the per-node and per-path readings coincide here")
	}
}
