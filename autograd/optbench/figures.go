package optbench

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/spadlab/spad/autograd"
	"github.com/spadlab/spad/nn/rng"
)

// DefaultKMaxes are the k_max values of the Figure 7 sweep.
var DefaultKMaxes = []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000}

// SweepEstimators returns the estimators of the Figure 7 sweep: the baseline
// and RAD as references, then practical SPAD with m candidates for each
// k_max.
func SweepEstimators(kmaxes []int, m int) []autograd.Estimator {
	ests := []autograd.Estimator{{Kind: autograd.Baseline}, {Kind: autograd.RAD, Normalize: true}}
	for _, k := range kmaxes {
		ests = append(ests, autograd.Estimator{Kind: autograd.SPADPractical, KMax: k, M: m})
	}
	return ests
}

var palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255},
	color.RGBA{R: 214, G: 39, B: 40, A: 255},
	color.RGBA{R: 44, G: 160, B: 44, A: 255},
	color.RGBA{A: 255},
}

// PlotSweep draws Figure 7 for function fn: the ε-success rate of SPAD
// against k_max (log axis) with 95% Wilson error bars, and the baseline and
// RAD rates as horizontal lines. rates are those of Run over
// Grid(..., SweepEstimators(kmaxes, m)). It writes a PNG to path.
func PlotSweep(path, fn string, eps float64, rates []Rate, kmaxes []int, m int) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: ε-success (ε = %g) against k_max", fn, eps)
	p.X.Label.Text = "k_max"
	p.Y.Label.Text = "ε-success rate (%)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	var pts plotter.XYs
	var errs plotter.YErrors
	for _, k := range kmaxes {
		est := autograd.Estimator{Kind: autograd.SPADPractical, KMax: k, M: m}.String()
		r, ok := find(rates, fn, est)
		if !ok {
			return fmt.Errorf("optbench: no rate for %s with %s", fn, est)
		}
		pts = append(pts, plotter.XY{X: float64(k), Y: 100 * r.Rate})
		errs = append(errs, struct{ Low, High float64 }{100 * (r.Rate - r.Low), 100 * (r.High - r.Rate)})
	}
	line, scatter, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	line.Color, scatter.Color = palette[1], palette[1]
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYs
		plotter.YErrors
	}{pts, errs})
	if err != nil {
		return err
	}
	eb.Color = palette[1]
	p.Add(line, scatter, eb)
	p.Legend.Add("SPAD", line, scatter)
	lo, hi := float64(kmaxes[0]), float64(kmaxes[len(kmaxes)-1])
	for i, name := range []string{"baseline", "RAD"} {
		r, ok := find(rates, fn, name)
		if !ok {
			return fmt.Errorf("optbench: no rate for %s with %s", fn, name)
		}
		l, err := plotter.NewLine(plotter.XYs{{X: lo, Y: 100 * r.Rate}, {X: hi, Y: 100 * r.Rate}})
		if err != nil {
			return err
		}
		l.Color = palette[[]int{0, 2}[i]]
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(l)
		p.Legend.Add(name, l)
	}
	p.Y.Min = 0
	return p.Save(6*vg.Inch, 4*vg.Inch, path)
}

// Trace is one curve of Figure 3: f₁(θ_t) for t = 0..T along a run.
type Trace struct {
	Label     string
	Estimator autograd.Estimator
	F         []float64 // F[t] = f₁(x_t), t = 0..T
	X         float64   // final x_T
}

// F1Traces minimises f₁ with Adam from x0 for steps steps with the four
// gradients of the paper's Figure 3: the full gradient, a uniformly random
// path at each step (RAD), and the static paths g_{x,1} and g_{x,2}.
func F1Traces(x0 float64, steps int, seed uint64) ([]Trace, error) {
	if steps < 1 {
		return nil, fmt.Errorf("optbench: steps must be ≥ 1, got %d", steps)
	}
	c, err := autograd.F1.Compile()
	if err != nil {
		return nil, err
	}
	traces := []Trace{
		{Label: "full gradient", Estimator: autograd.Estimator{Kind: autograd.Baseline}},
		{Label: "random path (RAD)", Estimator: autograd.Estimator{Kind: autograd.RAD}},
		{Label: "g_{x,1} only", Estimator: autograd.Estimator{Kind: autograd.FixedPath, Path: 0}},
		{Label: "g_{x,2} only", Estimator: autograd.Estimator{Kind: autograd.FixedPath, Path: 1}},
	}
	for i := range traces {
		s, err := autograd.NewSampler(c, traces[i].Estimator)
		if err != nil {
			return nil, err
		}
		s.Reset(rng.Key{Seed: seed, Stream: hash("f1/" + traces[i].Estimator.String())})
		theta, grad := []float64{x0}, []float64{0}
		traces[i].F = make([]float64, steps+1)
		traces[i].F[steps] = autograd.Minimize(s, autograd.NewAdam(1), theta, grad, steps, traces[i].F[:steps])
		traces[i].X = theta[0]
	}
	return traces, nil
}

// F1Claims checks the behaviour described for Figure 3 on traces from
// F1Traces: the full gradient stalls in a local minimum (its final value is
// above 0.05 and it moved less than 0.01 in x over the last tenth of the
// run's values), g_{x,1} alone reaches the global minimum (f₁ < 1e-3), and
// the random selection ends lower than the full gradient.
func F1Claims(traces []Trace) []Claim {
	full, rnd, g1 := traces[0], traces[1], traces[2]
	n := len(full.F) - 1
	tail := full.F[n-n/10:]
	spread := 0.0
	for _, v := range tail {
		spread = math.Max(spread, math.Abs(v-full.F[n]))
	}
	return []Claim{
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
		{
			Text:   "f1: the random path selection escapes (ends below the full gradient)",
			Held:   rnd.F[n] < full.F[n],
			Detail: fmt.Sprintf("final x %.4g, f1 %.4g vs %.4g", rnd.X, rnd.F[n], full.F[n]),
		},
	}
}

// WriteF1 prints the start and end of each trace of Figure 3.
func WriteF1(w io.Writer, traces []Trace) error {
	for _, t := range traces {
		n := len(t.F) - 1
		if _, err := fmt.Fprintf(w, "  %-20s f1(x_0) = %-8.4g f1(x_%d) = %-10.4g x_%d = %.4g\n",
			t.Label, t.F[0], n, t.F[n], n, t.X); err != nil {
			return err
		}
	}
	return nil
}

// PlotF1 draws Figure 3, f₁(x_t) against the iteration t for each trace,
// and writes a PNG to path.
func PlotF1(path string, traces []Trace) error {
	p := plot.New()
	p.Title.Text = "Minimisation of f1(x) = x²(2 + cos 4x) with Adam from x = 5"
	p.X.Label.Text = "iteration"
	p.Y.Label.Text = "f1(x)"
	p.Legend.Top = true
	for i, t := range traces {
		pts := make(plotter.XYs, len(t.F))
		for k, v := range t.F {
			pts[k] = plotter.XY{X: float64(k), Y: v}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		if i == 3 {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		p.Legend.Add(t.Label, l)
	}
	return p.Save(6*vg.Inch, 4*vg.Inch, path)
}
