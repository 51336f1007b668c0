package optbench

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/spadlab/spad/autograd"
	"github.com/spadlab/spad/nn/rng"
)

// DefaultKMaxes are the k_max values of the Figure 7 sweep.
var DefaultKMaxes = []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000}

var palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255},
	color.RGBA{R: 214, G: 39, B: 40, A: 255},
	color.RGBA{R: 44, G: 160, B: 44, A: 255},
	color.RGBA{A: 255},
	color.RGBA{R: 148, G: 103, B: 189, A: 255},
	color.RGBA{R: 255, G: 127, B: 14, A: 255},
}

func faded(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 50}
}

// band adds to p a line through pts with a shaded band between lo and hi;
// style 0 is a solid line with points, 1 a dashed line, 2 a thin dotted
// line with points (drawn over a solid one it stays visible).
func band(p *plot.Plot, name string, xs, ys, lo, hi []float64, c color.Color, style int) error {
	poly := make(plotter.XYs, 0, 2*len(xs))
	for i := range xs {
		poly = append(poly, plotter.XY{X: xs[i], Y: hi[i]})
	}
	for i := len(xs) - 1; i >= 0; i-- {
		poly = append(poly, plotter.XY{X: xs[i], Y: lo[i]})
	}
	pg, err := plotter.NewPolygon(poly)
	if err != nil {
		return err
	}
	pg.Color = faded(c)
	pg.LineStyle.Width = 0
	pts := make(plotter.XYs, len(xs))
	for i := range xs {
		pts[i] = plotter.XY{X: xs[i], Y: ys[i]}
	}
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	l.Color, s.Color = c, c
	switch style {
	case 1:
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		s.Radius = 0
	case 2:
		l.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
		s.Shape = draw.CrossGlyph{}
	default:
		l.Width = vg.Points(2)
	}
	p.Add(pg, l, s)
	p.Legend.Add(name, l)
	return nil
}

// PlotSweep draws Figure 7 for function fn: the ε-success rate of practical
// SPAD against k_max (log axis) under each reading present in rates, with
// 95% Wilson bands, and the baseline and RAD rates (per reading) as dashed
// lines with their bands. rates are those of Run over a protocol's
// SweepConfigs. It writes the figure to path (PNG or SVG by extension).
func PlotSweep(path, fn string, eps float64, rates []Rate) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: ε-success (ε = %g) against k_max, 95%% Wilson bands", fn, eps)
	p.X.Label.Text = "k_max"
	p.Y.Label.Text = "ε-success rate (%)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	type series struct{ xs, ys, lo, hi []float64 }
	spad := map[string]*series{}
	var flat []Rate
	kmin, kmax := math.Inf(1), math.Inf(-1)
	for _, r := range rates {
		if r.Function != fn {
			continue
		}
		if r.Est.Kind == autograd.SPADPractical {
			s := spad[r.Reading]
			if s == nil {
				s = &series{}
				spad[r.Reading] = s
			}
			k := float64(r.Est.KMax)
			s.xs, s.ys = append(s.xs, k), append(s.ys, 100*r.Rate)
			s.lo, s.hi = append(s.lo, 100*r.Low), append(s.hi, 100*r.High)
			kmin, kmax = math.Min(kmin, k), math.Max(kmax, k)
		} else {
			flat = append(flat, r)
		}
	}
	if len(spad) == 0 {
		return fmt.Errorf("optbench: no SPAD rate for %s", fn)
	}
	readings := make([]string, 0, len(spad))
	for r := range spad {
		readings = append(readings, r)
	}
	sort.Strings(readings)
	ci := 1
	for i, rd := range readings {
		s := spad[rd]
		if err := band(p, "SPAD "+rd, s.xs, s.ys, s.lo, s.hi, palette[ci%len(palette)], 2*min(i, 1)); err != nil {
			return err
		}
		ci++
	}
	for _, r := range flat {
		name := r.Estimator
		if r.Reading != "" {
			name += " " + r.Reading
		}
		two := func(v float64) []float64 { return []float64{v, v} }
		c := palette[0]
		if r.Est.Kind != autograd.Baseline {
			c = palette[ci%len(palette)]
			ci++
		}
		if err := band(p, name, []float64{kmin, kmax}, two(100*r.Rate), two(100*r.Low), two(100*r.High), c, 1); err != nil {
			return err
		}
	}
	top := 0.0
	for _, r := range rates {
		if r.Function == fn {
			top = math.Max(top, 100*r.High)
		}
	}
	p.Y.Min, p.Y.Max = 0, math.Min(100, 1.4*top+1) // room for the legend at the top
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}

// Trace is one curve of Figure 3: f₁(θ_t) for t = 0..T along a run.
type Trace struct {
	Label     string
	Estimator autograd.Estimator
	F         []float64 // F[t] = f₁(x_t), t = 0..T
	X         float64   // final x_T
}

// F1Estimators returns the gradients of the paper's Figure 3 and the labels
// of their curves: the full gradient, the random selection under both
// readings (a branch drawn afresh at every step; a branch drawn every hold
// steps and held), and the static selections g_{x,1} and g_{x,2}. f₁ has a
// single tupling node, so the per-node and per-path readings coincide.
func F1Estimators(hold int, scaled bool) ([]string, []autograd.Estimator) {
	return []string{"full gradient", "random, fresh each step", fmt.Sprintf("random, held %d steps", hold),
			"g_{x,1} only", "g_{x,2} only"},
		[]autograd.Estimator{
			{Kind: autograd.Baseline},
			{Kind: autograd.RAD, Normalize: scaled},
			{Kind: autograd.RAD, Normalize: scaled, KMax: hold},
			{Kind: autograd.FixedPath, Path: 0},
			{Kind: autograd.FixedPath, Path: 1},
		}
}

func f1Key(seed uint64, e autograd.Estimator, draw uint64) rng.Key {
	return rng.Key{Seed: seed, Stream: hash("f1/" + e.String()), Draw: draw}
}

// f1Setup checks the steps and Adam settings of f₁ runs and returns the
// compiled f₁ and the labels and gradients of F1Estimators(hold, scaled).
func f1Setup(steps int, adam AdamSettings, hold int, scaled bool) (*autograd.Compiled, []string, []autograd.Estimator, error) {
	if steps < 1 || steps > MaxSteps {
		return nil, nil, nil, fmt.Errorf("optbench: f1 steps must be in [1, %d], got %d", MaxSteps, steps)
	}
	if err := adam.validate(); err != nil {
		return nil, nil, nil, err
	}
	c, err := autograd.F1.Compile()
	if err != nil {
		return nil, nil, nil, err
	}
	labels, ests := F1Estimators(hold, scaled)
	return c, labels, ests, nil
}

// F1Traces minimises f₁ with Adam (settings adam) from x0 for steps steps
// with each gradient of F1Estimators(hold, scaled), the random ones drawn
// from seed.
func F1Traces(x0 float64, steps int, adam AdamSettings, hold int, scaled bool, seed uint64) ([]Trace, error) {
	c, labels, ests, err := f1Setup(steps, adam, hold, scaled)
	if err != nil {
		return nil, err
	}
	traces := make([]Trace, len(ests))
	for i, e := range ests {
		s, err := autograd.NewSampler(c, e)
		if err != nil {
			return nil, err
		}
		s.Reset(f1Key(seed, e, 0))
		theta, grad := []float64{x0}, []float64{0}
		f := make([]float64, steps+1)
		f[steps] = autograd.Minimize(s, adam.new(1), theta, grad, steps, f[:steps])
		traces[i] = Trace{Label: labels[i], Estimator: e, F: f, X: theta[0]}
	}
	return traces, nil
}

// Escape is the outcome of one f₁ gradient over many seeds.
type Escape struct {
	Label string
	LR    float64
	// Global counts the runs ending at the global minimum (f₁(x_T) <
	// the success ε); Below those ending below the full gradient's final
	// value; Runs the seeds.
	Global, Below, Runs int
	// MedianF is the median of f₁(x_T).
	MedianF float64
}

// F1Escapes runs every gradient of F1Estimators(hold, scaled) from x0 for
// steps steps under seeds seeds (seed s drawn from key (seed, s)) and
// counts the runs that reach the global minimum (f₁ < successEps) and that
// end below the full gradient (which is deterministic).
func F1Escapes(x0 float64, steps int, adam AdamSettings, hold int, scaled bool, seed uint64, seeds int, successEps float64) ([]Escape, error) {
	c, labels, ests, err := f1Setup(steps, adam, hold, scaled)
	if err != nil {
		return nil, err
	}
	out := make([]Escape, len(ests))
	full := math.NaN()
	for i, e := range ests {
		s, err := autograd.NewSampler(c, e)
		if err != nil {
			return nil, err
		}
		n := seeds
		if e.Kind == autograd.Baseline || e.Kind == autograd.FixedPath {
			n = 1 // deterministic
		}
		finals := make([]float64, n)
		opt := adam.new(1)
		theta, grad := []float64{0}, []float64{0}
		for r := 0; r < n; r++ {
			theta[0] = x0
			opt.Reset()
			s.Reset(f1Key(seed, e, uint64(r)))
			finals[r] = autograd.Minimize(s, opt, theta, grad, steps, nil)
		}
		if i == 0 {
			full = finals[0]
		}
		esc := Escape{Label: labels[i], LR: adam.LR, Runs: n}
		for _, f := range finals {
			if f < successEps {
				esc.Global++
			}
			if f < full-1e-9 {
				esc.Below++
			}
		}
		sort.Float64s(finals)
		esc.MedianF = finals[n/2]
		if n%2 == 0 {
			esc.MedianF = (finals[n/2-1] + finals[n/2]) / 2
		}
		out[i] = esc
	}
	return out, nil
}

// WriteEscapes prints escape counts with their 95% Wilson intervals.
func WriteEscapes(w io.Writer, es []Escape) error {
	for _, e := range es {
		glo, ghi := Wilson(e.Global, e.Runs)
		blo, bhi := Wilson(e.Below, e.Runs)
		if _, err := fmt.Fprintf(w, "  lr %-6g %-26s global minimum %4d/%-4d %5.1f%% [%.1f, %.1f]   below full gradient %4d/%-4d %5.1f%% [%.1f, %.1f]   median f1(x_T) %.4g\n",
			e.LR, e.Label, e.Global, e.Runs, 100*float64(e.Global)/float64(e.Runs), 100*glo, 100*ghi,
			e.Below, e.Runs, 100*float64(e.Below)/float64(e.Runs), 100*blo, 100*bhi, e.MedianF); err != nil {
			return err
		}
	}
	return nil
}

// F1Claims checks the behaviour described for Figure 3 on traces from
// F1Traces: the full gradient stalls in a local minimum (its final value is
// above 0.05 and varies by less than 1e-3 over the last tenth of the run),
// g_{x,1} alone reaches the global minimum (f₁ < 1e-3), and the random
// selection (both readings, this seed) ends lower than the full gradient.
func F1Claims(traces []Trace) []Claim {
	full, g1 := traces[0], traces[3]
	n := len(full.F) - 1
	tail := full.F[n-n/10:]
	spread := 0.0
	for _, v := range tail {
		spread = math.Max(spread, math.Abs(v-full.F[n]))
	}
	claims := []Claim{
		{
			Text:   "f1: the full gradient stalls in a local minimum",
			Held:   full.F[n] > 0.05 && spread < 1e-3,
			Detail: fmt.Sprintf("final x %.4g, f1 %.4g; f1 varies by %.2g over the last tenth", full.X, full.F[n], spread),
		},
		{
			Text:   "f1: g_{x,1} alone reaches the global minimum 0",
			Held:   g1.F[n] < 1e-3,
			Detail: fmt.Sprintf("final x %.4g, f1 %.4g", g1.X, g1.F[n]),
		},
	}
	for _, r := range traces[1:3] {
		claims = append(claims, Claim{
			Text:   fmt.Sprintf("f1: the random selection (%s) escapes, this seed (ends below the full gradient)", r.Label),
			Held:   r.F[n] < full.F[n],
			Detail: fmt.Sprintf("final x %.4g, f1 %.4g vs %.4g", r.X, r.F[n], full.F[n]),
		})
	}
	return claims
}

// WriteF1 prints the start and end of each trace of Figure 3.
func WriteF1(w io.Writer, traces []Trace) error {
	for _, t := range traces {
		n := len(t.F) - 1
		if _, err := fmt.Fprintf(w, "  %-26s f1(x_0) = %-8.4g f1(x_%d) = %-10.4g x_%d = %.4g\n",
			t.Label, t.F[0], n, t.F[n], n, t.X); err != nil {
			return err
		}
	}
	return nil
}

// PlotF1 draws Figure 3, f₁(x_t) against the iteration t for each trace,
// and writes it to path (PNG or SVG by extension).
func PlotF1(path, title string, traces []Trace) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "iteration"
	p.Y.Label.Text = "f1(x)"
	p.Legend.Top = true
	colors := []color.Color{palette[0], palette[1], palette[5], palette[2], palette[3]}
	for i, t := range traces {
		pts := make(plotter.XYs, len(t.F))
		for k, v := range t.F {
			pts[k] = plotter.XY{X: float64(k), Y: v}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = colors[i%len(colors)]
		l.Width = vg.Points(1.5)
		if i == len(traces)-1 {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		p.Legend.Add(t.Label, l)
	}
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}

// spearman returns Spearman's rank correlation of xs and ys (average ranks
// on ties).
func spearman(xs, ys []float64) float64 {
	rank := func(v []float64) []float64 {
		idx := make([]int, len(v))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
		r := make([]float64, len(v))
		for i := 0; i < len(idx); {
			j := i
			for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
				j++
			}
			for k := i; k <= j; k++ {
				r[idx[k]] = float64(i+j)/2 + 1
			}
			i = j + 1
		}
		return r
	}
	rx, ry := rank(xs), rank(ys)
	n := float64(len(xs))
	var mx, my float64
	for i := range rx {
		mx += rx[i] / n
		my += ry[i] / n
	}
	var sxy, sxx, syy float64
	for i := range rx {
		sxy += (rx[i] - mx) * (ry[i] - my)
		sxx += (rx[i] - mx) * (rx[i] - mx)
		syy += (ry[i] - my) * (ry[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

// SweepClaims checks the claims of Figure 7 on the rates of a k_max sweep,
// per reading: on Beale and on Levi, SPAD with the best k_max of the sweep
// beats both the baseline and RAD (a higher rate; the Detail says whether
// the intervals separate, and the best of many k_max is favoured by
// chance); on Beale the rate increases with k_max and on Levi it decreases
// (Spearman's ρ between k_max and the rate has that sign with |ρ| ≥ 0.6,
// about the two-sided 5 % critical value for 11 points).
func SweepClaims(rates []Rate) []Claim {
	var claims []Claim
	readings := map[string]bool{}
	for _, r := range rates {
		if r.Reading != "" {
			readings[r.Reading] = true
		}
	}
	var rs []string
	for r := range readings {
		rs = append(rs, r)
	}
	sort.Strings(rs)
	for _, rd := range rs {
		for _, fc := range []struct {
			fn   string
			sign float64
			word string
		}{{"Beale", 1, "increases"}, {"Levi", -1, "decreases"}} {
			base, ok1 := find(rates, fc.fn, isKind(autograd.Baseline))
			rad, ok2 := find(rates, fc.fn, func(e autograd.Estimator) bool {
				return e.Kind == autograd.RAD && e.Reading.String() == rd
			})
			var ks, ys []float64
			var best Rate
			for _, r := range rates {
				if r.Function == fc.fn && r.Reading == rd && r.Est.Kind == autograd.SPADPractical {
					ks, ys = append(ks, float64(r.Est.KMax)), append(ys, r.Rate)
					if len(ks) == 1 || r.Rate > best.Rate {
						best = r
					}
				}
			}
			if !ok1 || !ok2 || len(ks) == 0 {
				continue
			}
			claims = append(claims, Claim{
				Text: fmt.Sprintf("%s (%s): SPAD with the appropriate k_max outperforms the baseline and RAD", fc.fn, rd),
				Held: best.Rate > base.Rate && best.Rate > rad.Rate,
				Detail: fmt.Sprintf("best SPAD k_max=%d %s, baseline %s (%s), RAD %s (%s)", best.Est.KMax, pct(best),
					pct(base), separation(best, base), pct(rad), separation(best, rad)),
			})
			rho := spearman(ks, ys)
			claims = append(claims, Claim{
				Text:   fmt.Sprintf("%s (%s): the ε-success rate %s with k_max", fc.fn, rd, fc.word),
				Held:   len(ks) >= 3 && fc.sign*rho >= 0.6,
				Detail: fmt.Sprintf("Spearman ρ = %+.2f over %d k_max values", rho, len(ks)),
			})
		}
	}
	return claims
}

// PlotSideBySide draws each cell's rate against the paper's value (95%
// Wilson error bars, one colour per column, the diagonal where they agree)
// and writes it to path (PNG or SVG by extension).
func PlotSideBySide(path, title string, cells []Cell) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "paper (%)"
	p.Y.Label.Text = "project (%), 95% Wilson interval"
	p.Legend.Top, p.Legend.Left = true, true
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 100, Y: 100}})
	if err != nil {
		return err
	}
	diag.Color = color.Gray{Y: 160}
	diag.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(diag)
	for i, col := range PaperColumns {
		var pts plotter.XYs
		var errs plotter.YErrors
		for _, c := range cells {
			if c.Estimator == col {
				pts = append(pts, plotter.XY{X: 100 * c.Paper, Y: 100 * c.Rate.Rate})
				errs = append(errs, struct{ Low, High float64 }{100 * (c.Rate.Rate - c.Low), 100 * (c.High - c.Rate.Rate)})
			}
		}
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.Color = palette[i%len(palette)]
		sc.Shape = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.CrossGlyph{}}[i%4]
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{pts, errs})
		if err != nil {
			return err
		}
		eb.Color = sc.Color
		p.Add(sc, eb)
		p.Legend.Add(col, sc)
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 100, 0, 100
	return p.Save(5.5*vg.Inch, 5.5*vg.Inch, path)
}
