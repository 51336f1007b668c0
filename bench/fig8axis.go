package bench

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/spadlab/spad/train"
)

// Fig8Axis selects the memory measure on Figure 8's horizontal axis, each
// as a fraction of the largest value among the baseline's runs.
type Fig8Axis int

const (
	// AxisTrainHeap is the peak heap in use above the data loaded before
	// the network was built (Record.TrainHeapBytes).
	AxisTrainHeap Fig8Axis = iota
	// AxisSaved is the peak of the bytes saved for backward
	// (Record.SavedBytesPeak).
	AxisSaved
	// AxisPeakRSS is the process's peak resident set, what the operating
	// system sees (Record.PeakRSSBytes).
	AxisPeakRSS
)

// Fig8Axes lists the names ParseFig8Axis accepts, in the order of the
// constants.
var Fig8Axes = []string{"train-heap", "saved", "rss"}

// String returns the axis's name.
func (a Fig8Axis) String() string {
	if a >= 0 && int(a) < len(Fig8Axes) {
		return Fig8Axes[a]
	}
	return fmt.Sprintf("Fig8Axis(%d)", int(a))
}

// ParseFig8Axis parses an axis name: train-heap, saved or rss.
func ParseFig8Axis(s string) (Fig8Axis, error) {
	for i, n := range Fig8Axes {
		if strings.EqualFold(s, n) {
			return Fig8Axis(i), nil
		}
	}
	return 0, fmt.Errorf("unknown Figure 8 memory axis %q (valid: %s)", s, strings.Join(Fig8Axes, ", "))
}

// Fig8Memory returns the chosen memory measure as a Figure 8 axis: its
// title and label, and the value of a record as a fraction of the largest
// among the baseline setting's runs (NaN when there is no baseline or the
// measure is missing, as for records written before the process's RSS was
// recorded).
func (s *Summary) Fig8Memory(axis Fig8Axis) memoryAxis {
	ax := memoryAxis{"accuracy vs peak train heap", "peak train heap / baseline's",
		func(r *train.Record) float64 { return float64(r.TrainHeapBytes) }}
	switch axis {
	case AxisSaved:
		ax = memoryAxis{"accuracy vs bytes saved for backward", "bytes saved for backward / baseline's",
			func(r *train.Record) float64 { return float64(r.SavedBytesPeak) }}
	case AxisPeakRSS:
		ax = memoryAxis{"accuracy vs process peak RSS", "process peak RSS / baseline's",
			func(r *train.Record) float64 { return float64(r.PeakRSSBytes) }}
	}
	measure, ref := ax.x, 0.0
	for _, g := range s.Groups {
		if g.Setting != s.Baseline {
			continue
		}
		for _, l := range g.Runs {
			ref = math.Max(ref, measure(l.Record))
		}
	}
	ax.x = func(r *train.Record) float64 {
		v := measure(r)
		if v <= 0 {
			return math.NaN()
		}
		return frac(v, ref)
	}
	return ax
}

// PlotFig8Axis draws Figure 8 with one panel, on the memory measure axis
// selects (same markers, error bars and shading as PlotFig8); runs without
// the measure are left out. It writes path (PNG) and an SVG beside it.
func (s *Summary) PlotFig8Axis(path string, axis Fig8Axis) error {
	p, err := s.fig8Panel(s.Fig8Memory(axis))
	if err != nil {
		return err
	}
	p.X.Min, p.X.Max = 0, math.Max(1.1, p.X.Max*1.05)
	return saveFigure(path, 17*vg.Centimeter, 12*vg.Centimeter,
		s.heading()+": test accuracy vs memory", [][]*plot.Plot{{p}}, newLegend(s, false))
}
