package bench

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/spadlab/spad/train"
)

// The figures are meant to be read in print: each setting has its own
// colour, dash pattern and marker, so that they stay apart in greyscale.

// palette gives each setting its own colour (10 before repeating), from
// light and dark tones so that neighbours differ in greyscale too.
var palette = []color.RGBA{
	{0, 0, 0, 255}, {230, 97, 1, 255}, {33, 102, 172, 255}, {27, 120, 55, 255},
	{178, 24, 43, 255}, {118, 42, 131, 255}, {140, 81, 10, 255}, {102, 102, 102, 255},
	{1, 133, 113, 255}, {197, 27, 125, 255},
}

func colorOf(i int) color.RGBA { return palette[i%len(palette)] }

// dashesOf gives each setting a dash pattern (solid first).
func dashesOf(i int) []vg.Length {
	p := vg.Points
	pats := [][]vg.Length{nil, {p(6), p(3)}, {p(2), p(2)}, {p(8), p(2), p(2), p(2)},
		{p(4), p(4)}, {p(1), p(3)}, {p(10), p(3), p(1), p(3), p(1), p(3)}}
	return pats[i%len(pats)]
}

// glyphOf gives each setting a marker shape.
func glyphOf(i int) draw.GlyphDrawer {
	gs := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
		draw.PyramidGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}}
	return gs[i%len(gs)]
}

func glyphStyle(i int) draw.GlyphStyle {
	return draw.GlyphStyle{Color: colorOf(i), Radius: vg.Points(3.5), Shape: glyphOf(i)}
}

func lineStyle(i int) draw.LineStyle {
	return draw.LineStyle{Color: colorOf(i), Width: vg.Points(1.6), Dashes: dashesOf(i)}
}

// niceTicker labels about n round values on an axis (the default labels
// as few as two or three).
type niceTicker struct{ n int }

// Ticks returns major ticks at multiples of 1, 2, 2.5 or 5 times a power
// of ten — the widest such step that still labels at least four values —
// with unlabelled minor ticks halfway.
func (t niceTicker) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) || math.IsNaN(hi-lo) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	count := func(step float64) int { return int(math.Floor(hi/step+1e-9) - math.Ceil(lo/step-1e-9) + 1) }
	base := math.Floor(math.Log10(hi - lo))
	step := 0.0
	for e := base + 1; e >= base-3; e-- {
		for _, m := range []float64{5, 2.5, 2, 1} {
			st := m * math.Pow(10, e)
			if n := count(st); n >= 4 && n <= max(8, t.n+2) {
				step = st
				break
			}
		}
		if step != 0 {
			break
		}
	}
	if step == 0 {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	prec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if m := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9)); math.Abs(m-2.5) < 1e-9 && step < 10 {
		prec++
	}
	var ticks []plot.Tick
	k0 := math.Ceil(lo/step - 1e-9)
	for k := k0 - 1; k*step <= hi+step*1e-9; k++ {
		v := k * step
		if v >= lo-step*1e-9 {
			ticks = append(ticks, plot.Tick{Value: v, Label: formatTick(v, prec)})
		}
		if h := v + step/2; h >= lo && h <= hi {
			ticks = append(ticks, plot.Tick{Value: h})
		}
	}
	return ticks
}

func formatTick(v float64, prec int) string {
	if math.Abs(v) < 1e-12 {
		v = 0
	}
	if math.Abs(v) >= 1e3 && v == math.Trunc(v) {
		return thousands(int64(math.Round(v)))
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// newPlot returns a plot with the house style: grid, round ticks on both
// axes, readable fonts.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(10)
		a.Tick.Label.Font.Size = vg.Points(9)
	}
	p.X.Tick.Marker = niceTicker{6}
	p.Y.Tick.Marker = niceTicker{6}
	p.Add(plotter.NewGrid())
	return p
}

// prettyModel names a model and data set as the paper does.
func prettyModel(model, dataset string) string {
	names := map[string]string{"smallconv": "SmallConvNet", "smallfc": "SmallFCNet", "cifar10": "CIFAR-10", "mnist": "MNIST"}
	get := func(s string) string {
		if n, ok := names[s]; ok {
			return n
		}
		return s
	}
	return get(model) + " on " + get(dataset)
}

// heading is a figure's title: model, data set, run length and repeats.
func (s *Summary) heading() string {
	r := s.Groups[0].Runs[0].Record
	iters, reps := 0, 0
	for _, g := range s.Groups {
		reps = max(reps, len(g.Runs))
		for _, l := range g.Runs {
			iters = max(iters, l.Record.Iters)
		}
	}
	rep := "1 run per setting"
	if reps > 1 {
		rep = fmt.Sprintf("mean ± sd over up to %d repeats", reps)
	}
	return fmt.Sprintf("%s, %s iterations (suite %s, %s)", prettyModel(r.Model, r.Dataset), thousands(int64(iters)), s.Suite, rep)
}

// legendEntry is one setting of a figure's legend: its name and the line
// and marker that draw it.
type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

// newLegend lists the settings with their line and marker (line) or
// marker alone.
func newLegend(s *Summary, line bool) []legendEntry {
	var out []legendEntry
	for i, g := range s.Groups {
		sc := &plotter.Scatter{XYs: plotter.XYs{}, GlyphStyle: glyphStyle(i)}
		e := legendEntry{name: g.Setting, thumbs: []plot.Thumbnailer{sc}}
		if line {
			ln := &plotter.Line{XYs: plotter.XYs{}, LineStyle: lineStyle(i)}
			e.thumbs = []plot.Thumbnailer{ln, sc}
		}
		out = append(out, e)
	}
	return out
}

// legendColumns lays the entries out in cols columns, read row by row
// (entry i in column i mod cols), one plot.Legend per column.
func legendColumns(entries []legendEntry, cols int) []*plot.Legend {
	out := make([]*plot.Legend, cols)
	for c := range out {
		l := plot.NewLegend()
		l.Top, l.Left = true, true
		l.TextStyle.Font.Size = vg.Points(10)
		l.ThumbnailWidth = vg.Points(30)
		out[c] = &l
	}
	for i, e := range entries {
		out[i%cols].Add(e.name, e.thumbs...)
	}
	return out
}

// legendGap separates the legend's columns.
const legendGap = vg.Millimeter * 8

// legendLayout is the legend laid out in columns: each column's legend and
// width, and the whole block's width and height.
type legendLayout struct {
	cols          []*plot.Legend
	widths        []vg.Length
	width, height vg.Length
}

// layoutLegend lays the entries out in as many columns as fit the width of
// dc (one entry per column if they all fit in one row; one column if even
// two do not fit).
func layoutLegend(dc draw.Canvas, entries []legendEntry) legendLayout {
	var lay legendLayout
	for n := len(entries); n >= 1; n-- {
		lay = legendLayout{cols: legendColumns(entries, n)}
		for _, l := range lay.cols {
			r := l.Rectangle(dc)
			lay.widths = append(lay.widths, r.Max.X-r.Min.X)
			lay.width += r.Max.X - r.Min.X
			lay.height = max(lay.height, r.Max.Y-r.Min.Y)
		}
		lay.width += legendGap * vg.Length(n-1)
		if lay.width <= dc.Max.X-dc.Min.X {
			break
		}
	}
	return lay
}

// render draws a grid of panels with a heading on top and, under it, the
// legend across the width: as many columns as fit, centred, so that no
// margin is left empty beside the panels.
func render(dc draw.Canvas, heading string, grid [][]*plot.Plot, legend []legendEntry) {
	pad := vg.Millimeter * 3
	dc.Min.X += pad
	dc.Max.X -= pad
	dc.Min.Y += pad
	dc.Max.Y -= pad
	if heading != "" {
		sty := grid[0][0].Title.TextStyle
		sty.Font.Size = vg.Points(13)
		sty.XAlign = draw.XCenter
		sty.YAlign = draw.YTop
		h := sty.Height(heading)
		dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y}, heading)
		dc.Max.Y -= h + 2*pad
	}
	if len(legend) > 0 {
		lay := layoutLegend(dc, legend)
		x := (dc.Min.X + dc.Max.X - lay.width) / 2
		for i, l := range lay.cols {
			lc := dc
			lc.Min.X, lc.Max.X = x, x+lay.widths[i]
			l.Draw(lc)
			x += lay.widths[i] + legendGap
		}
		dc.Max.Y -= lay.height + pad
	}
	tiles := draw.Tiles{Rows: len(grid), Cols: len(grid[0]), PadX: vg.Millimeter * 8, PadY: vg.Millimeter * 6}
	cs := plot.Align(grid, tiles, dc)
	for i, row := range grid {
		for j, p := range row {
			if p != nil {
				p.Draw(cs[i][j])
			}
		}
	}
}

// saveFigure writes the figure as path (PNG) and, beside it, the same
// figure as SVG (path with .svg).
func saveFigure(path string, w, h vg.Length, heading string, grid [][]*plot.Plot, legend []legendEntry) error {
	png := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(150))
	render(draw.New(png), heading, grid, legend)
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: png}).WriteTo(&b); err != nil {
		return err
	}
	if err := train.WriteFileAtomic(path, b.Bytes()); err != nil {
		return err
	}
	svg := vgsvg.New(w, h)
	render(draw.New(svg), heading, grid, legend)
	b.Reset()
	if _, err := svg.WriteTo(&b); err != nil {
		return err
	}
	return train.WriteFileAtomic(strings.TrimSuffix(path, filepath.Ext(path))+".svg", b.Bytes())
}

// memoryAxis is one memory measure Figure 8 can put on its x axis.
type memoryAxis struct {
	title, label string
	x            func(r *train.Record) float64 // the fraction of the baseline's
}

// PlotFig8 draws the paper's Figure 8: test accuracy against memory as a
// fraction of the baseline's largest, in one panel per memory measure
// (peak train heap; bytes saved for backward; the process's peak RSS when
// the records have it). Each setting is one marker
// at its mean, with standard-deviation error bars when it has repeats;
// the region of settings strictly better than the baseline (more
// accurate with less memory) is shaded. It writes path (PNG) and the
// same figure as SVG beside it.
func (s *Summary) PlotFig8(path string) error {
	axes := []memoryAxis{s.Fig8Memory(AxisTrainHeap), s.Fig8Memory(AxisSaved)}
	if s.hasRSS() {
		axes = append(axes, s.Fig8Memory(AxisPeakRSS))
	}
	var row []*plot.Plot
	for _, ax := range axes {
		p, err := s.fig8Panel(ax)
		if err != nil {
			return err
		}
		row = append(row, p)
	}
	// The panels share the accuracy axis.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range row {
		lo, hi = math.Min(lo, p.Y.Min), math.Max(hi, p.Y.Max)
	}
	span := math.Max(hi-lo, 0.5)
	for _, p := range row {
		p.Y.Min, p.Y.Max = lo-0.08*span, hi+0.08*span
		p.X.Min, p.X.Max = 0, math.Max(1.1, p.X.Max*1.05)
	}
	return saveFigure(path, vg.Length(len(row))*13*vg.Centimeter, 12*vg.Centimeter,
		s.heading()+": test accuracy vs memory", [][]*plot.Plot{row}, newLegend(s, false))
}

func (s *Summary) fig8Panel(ax memoryAxis) (*plot.Plot, error) {
	p := newPlot(ax.title, ax.label, "test accuracy (%)")
	type pt struct{ x, y, sx, sy float64 }
	pts := make([]pt, len(s.Groups))
	for i, g := range s.Groups {
		var xs, ys []float64
		for _, l := range g.Runs {
			x := ax.x(l.Record)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			xs, ys = append(xs, x), append(ys, 100*l.Record.TestAccuracy)
		}
		if len(xs) == 0 {
			pts[i] = pt{math.NaN(), math.NaN(), 0, 0}
			continue
		}
		mx, my := newStat(xs), newStat(ys)
		pts[i] = pt{mx.Mean, my.Mean, mx.SD, my.SD}
	}
	// The baseline's mean marks the quadrant of strictly better settings.
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, q := range pts {
		if !math.IsNaN(q.y) {
			ylo, yhi = math.Min(ylo, q.y-q.sy), math.Max(yhi, q.y+q.sy)
		}
	}
	if math.IsInf(ylo, 0) {
		return p, nil
	}
	for i, g := range s.Groups {
		if g.Setting != s.Baseline || math.IsNaN(pts[i].x) {
			continue
		}
		b := pts[i]
		top := yhi + 0.5*math.Max(yhi-ylo, 1)
		poly, err := plotter.NewPolygon(plotter.XYs{{X: 0, Y: b.y}, {X: b.x, Y: b.y}, {X: b.x, Y: top}, {X: 0, Y: top}})
		if err != nil {
			return nil, err
		}
		poly.Color = color.NRGBA{R: 27, G: 120, B: 55, A: 38}
		poly.LineStyle.Width = 0
		p.Add(poly)
		lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: []plotter.XY{{X: 0.02 * b.x, Y: yhi + 0.1*math.Max(yhi-ylo, 1)}},
			Labels: []string{"better than baseline"}})
		if err != nil {
			return nil, err
		}
		lbl.TextStyle[0].Font.Size = vg.Points(8)
		lbl.TextStyle[0].Color = color.RGBA{27, 120, 55, 255}
		p.Add(lbl)
	}
	for i := range s.Groups {
		q := pts[i]
		if math.IsNaN(q.x) {
			continue
		}
		e := errPoint{q.x, q.y, q.sx, q.sy}
		if q.sx > 0 || q.sy > 0 {
			xb, err := plotter.NewXErrorBars(e)
			if err != nil {
				return nil, err
			}
			xb.LineStyle.Color = colorOf(i)
			yb, err := plotter.NewYErrorBars(e)
			if err != nil {
				return nil, err
			}
			yb.LineStyle.Color = colorOf(i)
			p.Add(xb, yb)
		}
		sc, err := plotter.NewScatter(plotter.XYs{{X: q.x, Y: q.y}})
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = glyphStyle(i)
		sc.GlyphStyle.Radius = vg.Points(4.5)
		p.Add(sc)
	}
	p.Y.Min, p.Y.Max = ylo, yhi+0.15*math.Max(yhi-ylo, 1)
	return p, nil
}

// errPoint is one point with symmetric errors, for the error bars.
type errPoint struct{ x, y, sx, sy float64 }

// Len, XY, XError and YError make errPoint an XYer, XErrorer and YErrorer.
func (e errPoint) Len() int                       { return 1 }
func (e errPoint) XY(int) (float64, float64)      { return e.x, e.y }
func (e errPoint) XError(int) (low, high float64) { return e.sx, e.sx }
func (e errPoint) YError(int) (low, high float64) { return e.sy, e.sy }

// frac is v as a fraction of ref (NaN without a reference).
func frac(v, ref float64) float64 {
	if ref <= 0 {
		return math.NaN()
	}
	return v / ref
}

// bandCurve is a group's learning curve: at each iteration the mean over
// the repeats with an evaluation there, and the standard deviation.
func bandCurve(g *Group, y func(p train.Point) float64) (mean plotter.XYs, sd []float64) {
	vals := map[int][]float64{}
	for _, l := range g.Runs {
		for _, p := range l.Record.Curves {
			v := y(p)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			vals[p.Iter] = append(vals[p.Iter], v)
		}
	}
	its := make([]int, 0, len(vals))
	for it := range vals {
		its = append(its, it)
	}
	sort.Ints(its)
	mean = make(plotter.XYs, len(its))
	sd = make([]float64, len(its))
	for i, it := range its {
		st := newStat(vals[it])
		mean[i] = plotter.XY{X: float64(it), Y: st.Mean}
		sd[i] = st.SD
	}
	return mean, sd
}

// curvePanel is one panel of the learning-curve figure.
type curvePanel struct {
	title, ylabel string
	y             func(p train.Point) float64
}

// hasTrainEval reports whether the runs evaluated a fixed training subset.
func (s *Summary) hasTrainEval() bool {
	for _, g := range s.Groups {
		for _, l := range g.Runs {
			for _, p := range l.Record.Curves {
				if p.TrainEvalLoss != 0 {
					return true
				}
			}
		}
	}
	return false
}

// PlotCurves draws the learning curves of every setting, as in the
// paper's Figures 9 and 12: train and test loss and accuracy against
// iteration, one line per setting (its mean over the repeats, with a band
// of ± one standard deviation when there are repeats). Train loss and
// accuracy are those of the fixed training subset when the runs measured
// one; otherwise the train loss is the mean batch loss since the previous
// evaluation and there is no train accuracy panel. It writes path (PNG)
// and the same figure as SVG beside it.
func (s *Summary) PlotCurves(path string) error {
	acc := func(f func(p train.Point) float64) func(p train.Point) float64 {
		return func(p train.Point) float64 { return 100 * f(p) }
	}
	var grid [][]*plot.Plot
	var specs [][]curvePanel
	if s.hasTrainEval() {
		n, boot := 0, true
		for _, g := range s.Groups {
			for _, l := range g.Runs {
				n = max(n, l.Record.TrainEvalSize)
				boot = boot && l.Record.Bootstrap > 0
			}
		}
		sub := "training subset"
		if n > 0 {
			sub = fmt.Sprintf("%s-image training subset", thousands(int64(n)))
		}
		if boot {
			// A bootstrap resample leaves out about 1/e of the training
			// set: the subset mixes trained-on and unseen images.
			sub += ", ~37% out of bag"
		}
		specs = [][]curvePanel{
			{{"train loss (" + sub + ")", "cross-entropy", func(p train.Point) float64 { return p.TrainEvalLoss }},
				{"test loss (test set)", "cross-entropy", func(p train.Point) float64 { return p.TestLoss }}},
			{{"train accuracy (" + sub + ")", "accuracy (%)", acc(func(p train.Point) float64 { return p.TrainEvalAccuracy })},
				{"test accuracy (test set)", "accuracy (%)", acc(func(p train.Point) float64 { return p.TestAccuracy })}},
		}
	} else {
		specs = [][]curvePanel{{
			{"train loss (mean of batches since last evaluation)", "cross-entropy", func(p train.Point) float64 { return p.TrainLoss }},
			{"test loss", "cross-entropy", func(p train.Point) float64 { return p.TestLoss }},
			{"test accuracy", "accuracy (%)", acc(func(p train.Point) float64 { return p.TestAccuracy })},
		}}
	}
	for _, row := range specs {
		var ps []*plot.Plot
		for _, sp := range row {
			p, err := s.curvesPanel(sp)
			if err != nil {
				return err
			}
			ps = append(ps, p)
		}
		grid = append(grid, ps)
	}
	w, h := 30*vg.Centimeter, 20*vg.Centimeter
	if len(grid) == 1 {
		w, h = 36*vg.Centimeter, 11*vg.Centimeter
	}
	return saveFigure(path, w, h, s.heading()+": learning curves", grid, newLegend(s, true))
}

func (s *Summary) curvesPanel(sp curvePanel) (*plot.Plot, error) {
	p := newPlot(sp.title, "iteration", sp.ylabel)
	for i, g := range s.Groups {
		xys, sd := bandCurve(g, sp.y)
		if len(xys) == 0 {
			continue
		}
		if len(g.Runs) > 1 {
			band := make(plotter.XYs, 0, 2*len(xys))
			for k, q := range xys {
				band = append(band, plotter.XY{X: q.X, Y: q.Y + sd[k]})
			}
			for k := len(xys) - 1; k >= 0; k-- {
				band = append(band, plotter.XY{X: xys[k].X, Y: xys[k].Y - sd[k]})
			}
			poly, err := plotter.NewPolygon(band)
			if err != nil {
				return nil, err
			}
			c := colorOf(i)
			poly.Color = color.NRGBA{R: c.R, G: c.G, B: c.B, A: 40}
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
		ln, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		ln.LineStyle = lineStyle(i)
		p.Add(ln)
		// Markers on about eight points of each line, staggered between
		// settings so that they do not sit on one another.
		step := max(1, len(xys)/8)
		var marks plotter.XYs
		for k := (i * step / max(1, len(s.Groups))) % step; k < len(xys); k += step {
			marks = append(marks, xys[k])
		}
		if len(marks) > 0 {
			sc, err := plotter.NewScatter(marks)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = glyphStyle(i)
			p.Add(sc)
		}
	}
	return p, nil
}

// hasRSS reports whether every run recorded its process's peak RSS.
func (s *Summary) hasRSS() bool {
	for _, g := range s.Groups {
		for _, l := range g.Runs {
			if l.Record.PeakRSSBytes == 0 {
				return false
			}
		}
	}
	return true
}
