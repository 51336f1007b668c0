package bench

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/spadlab/spad/train"
)

func TestFig8Axis(t *testing.T) {
	for i, n := range Fig8Axes {
		a, err := ParseFig8Axis(n)
		if err != nil || a != Fig8Axis(i) || a.String() != n {
			t.Errorf("ParseFig8Axis(%q) = %v, %v", n, a, err)
		}
	}
	if _, err := ParseFig8Axis("vram"); err == nil || err.Error() != `unknown Figure 8 memory axis "vram" (valid: train-heap, saved, rss)` {
		t.Errorf("error %v", err)
	}
	rec := func(setting string, heap uint64, saved int64, rss uint64) Line {
		return Line{Suite: "s", Setting: setting, Record: &train.Record{EstimatorMode: "baseline",
			TrainHeapBytes: heap, SavedBytesPeak: saved, PeakRSSBytes: rss, TestAccuracy: 0.5}}
	}
	lines := []Line{rec("baseline", 100, 40, 200), rec("baseline", 80, 40, 400), rec("rad", 50, 4, 100), rec("old", 60, 6, 0)}
	lines[2].Record.EstimatorMode = "rad"
	lines[3].Record.EstimatorMode = "rad"
	s, err := Summarize(lines)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Fig8Axis][]float64{
		AxisTrainHeap: {1, 0.8, 0.5, 0.6},
		AxisSaved:     {1, 1, 0.1, 0.15},
		AxisPeakRSS:   {0.5, 1, 0.25, math.NaN()},
	}
	for axis, w := range want {
		x := s.Fig8Memory(axis).x
		for i, l := range lines {
			got := x(l.Record)
			if !(got == w[i] || math.IsNaN(got) && math.IsNaN(w[i])) {
				t.Errorf("%v: run %d at %v, want %v", axis, i, got, w[i])
			}
		}
	}
	path := filepath.Join(t.TempDir(), "fig8-rss.png")
	if err := s.PlotFig8Axis(path, AxisPeakRSS); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("not a PNG: %v", err)
	}
}
