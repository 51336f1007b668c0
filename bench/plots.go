package bench

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/spadlab/spad/train"
)

// palette gives each setting its own colour (10 before repeating).
var palette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

func colorOf(i int) color.Color { return palette[i%len(palette)] }

// glyphOf gives each setting a marker shape, so that settings stay
// distinguishable without colour.
func glyphOf(i int) draw.GlyphDrawer {
	gs := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
		draw.PyramidGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}}
	return gs[i%len(gs)]
}

// savePanels draws plots side by side in one row (nil entries hold the
// legend) and writes a PNG to path.
func savePanels(path string, w, h vg.Length, panels []*plot.Plot, legend *plot.Legend) error {
	cols := len(panels)
	if legend != nil {
		cols++
	}
	img := vgimg.New(w, h)
	dc := draw.New(img)
	// The legend column is narrower than the plots.
	legendW := vg.Length(0)
	if legend != nil {
		legendW = w * 0.17
		lc := dc
		lc.Min.X = dc.Max.X - legendW
		legend.Draw(lc)
		dc.Max.X -= legendW
	}
	row := [][]*plot.Plot{panels}
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Millimeter * 6, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	cs := plot.Align(row, tiles, dc)
	for i, p := range panels {
		p.Draw(cs[0][i])
	}
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&b); err != nil {
		return err
	}
	return train.WriteFileAtomic(path, b.Bytes())
}

func newLegend(s *Summary, line bool) *plot.Legend {
	l := plot.NewLegend()
	l.Top = true
	l.Left = true
	l.TextStyle.Font.Size = vg.Points(9)
	for i, g := range s.Groups {
		if line {
			ln := &plotter.Line{XYs: plotter.XYs{}}
			ln.LineStyle.Color = colorOf(i)
			ln.LineStyle.Width = vg.Points(2)
			l.Add(g.Setting, ln)
		} else {
			sc := &plotter.Scatter{XYs: plotter.XYs{}}
			sc.GlyphStyle = draw.GlyphStyle{Color: colorOf(i), Radius: vg.Points(3.5), Shape: glyphOf(i)}
			l.Add(g.Setting, sc)
		}
	}
	return &l
}

// PlotFig8 draws the paper's Figure 8: test accuracy of every run against
// its memory as a fraction of the baseline's largest, once with the train
// heap (left) and once with the bytes saved for backward (right).
func (s *Summary) PlotFig8(path string) error {
	mk := func(title, xlabel string, x func(g *Group, r *train.Record) float64) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = xlabel
		p.Y.Label.Text = "test accuracy (%)"
		p.Add(plotter.NewGrid())
		for i, g := range s.Groups {
			xys := make(plotter.XYs, 0, len(g.Runs))
			for _, l := range g.Runs {
				v := x(g, l.Record)
				if math.IsNaN(v) || math.IsInf(v, 0) {
					continue
				}
				xys = append(xys, plotter.XY{X: v, Y: 100 * l.Record.TestAccuracy})
			}
			if len(xys) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: colorOf(i), Radius: vg.Points(3.5), Shape: glyphOf(i)}
			p.Add(sc)
		}
		p.X.Min = 0
		return p, nil
	}
	left, err := mk(fmt.Sprintf("%s: accuracy vs peak train heap", s.Suite), "peak train heap / baseline's",
		func(g *Group, r *train.Record) float64 { return frac(float64(r.TrainHeapBytes), s.RefHeap) })
	if err != nil {
		return err
	}
	right, err := mk("accuracy vs bytes saved for backward", "saved for backward (peak) / baseline's",
		func(g *Group, r *train.Record) float64 { return frac(float64(r.SavedBytesPeak), s.RefSaved) })
	if err != nil {
		return err
	}
	// Both panels share the accuracy axis.
	lo := math.Min(left.Y.Min, right.Y.Min)
	hi := math.Max(left.Y.Max, right.Y.Max)
	left.Y.Min, right.Y.Min, left.Y.Max, right.Y.Max = lo, lo, hi, hi
	return savePanels(path, 30*vg.Centimeter, 11*vg.Centimeter, []*plot.Plot{left, right}, newLegend(s, false))
}

func frac(v, ref float64) float64 {
	if ref <= 0 {
		return math.NaN()
	}
	return v / ref
}

// meanCurve averages a group's learning curves point by point over the
// repeats that have an evaluation at that iteration.
func meanCurve(g *Group, y func(p train.Point) float64) plotter.XYs {
	sum := map[int]float64{}
	cnt := map[int]int{}
	for _, l := range g.Runs {
		for _, p := range l.Record.Curves {
			v := y(p)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			sum[p.Iter] += v
			cnt[p.Iter]++
		}
	}
	its := make([]int, 0, len(sum))
	for it := range sum {
		its = append(its, it)
	}
	sort.Ints(its)
	xys := make(plotter.XYs, len(its))
	for i, it := range its {
		xys[i] = plotter.XY{X: float64(it), Y: sum[it] / float64(cnt[it])}
	}
	return xys
}

// PlotCurves draws the learning curves of every setting (mean over the
// repeats): train loss, test loss and test accuracy against iteration,
// as in the paper's Figures 9, 11 and 12.
func (s *Summary) PlotCurves(path string) error {
	type panel struct {
		title, ylabel string
		y             func(p train.Point) float64
	}
	specs := []panel{
		{"train loss (mean since last evaluation)", "cross-entropy", func(p train.Point) float64 { return p.TrainLoss }},
		{"test loss", "cross-entropy", func(p train.Point) float64 { return p.TestLoss }},
		{"test accuracy", "accuracy (%)", func(p train.Point) float64 { return 100 * p.TestAccuracy }},
	}
	var ps []*plot.Plot
	for _, sp := range specs {
		p := plot.New()
		p.Title.Text = sp.title
		p.X.Label.Text = "iteration"
		p.Y.Label.Text = sp.ylabel
		p.Add(plotter.NewGrid())
		for i, g := range s.Groups {
			xys := meanCurve(g, sp.y)
			if len(xys) == 0 {
				continue
			}
			ln, err := plotter.NewLine(xys)
			if err != nil {
				return err
			}
			ln.LineStyle.Color = colorOf(i)
			ln.LineStyle.Width = vg.Points(1.5)
			p.Add(ln)
		}
		ps = append(ps, p)
	}
	ps[0].Title.Text = s.Suite + ": " + ps[0].Title.Text
	return savePanels(path, 40*vg.Centimeter, 11*vg.Centimeter, ps, newLegend(s, true))
}
