package bench

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/spadlab/spad/train"
)

// TestReportNumbers checks summary.csv against values computed by hand from
// testdata/report/runs.jsonl: 4 settings, 1–2 repeats each, and a cut last
// line. Memory fractions are relative to the baseline's largest train heap
// (1600) and saved bytes (400). Standard deviations are sample ones:
// for two values a and b, |a−b|/√2.
func TestReportNumbers(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/report/runs.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, RunsFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, warn, err := Report(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn, "runs.jsonl:8: ignoring an incomplete last line") {
		t.Errorf("warning %q", warn)
	}
	if s.Baseline != "baseline" || s.RefHeap != 1600 || s.RefSaved != 400 {
		t.Errorf("reference %s %g %g", s.Baseline, s.RefHeap, s.RefSaved)
	}
	r2 := math.Sqrt2
	want := map[string]map[string]float64{
		"baseline": {
			"runs": 2, "batch": 150, "dropout": 0,
			"test_accuracy_mean": 0.625, "test_accuracy_sd": 0.125 * r2,
			"test_loss_mean": 2, "test_loss_sd": r2,
			"train_loss_mean": 1, "train_loss_sd": 0.5 * r2,
			"peak_heap_bytes_mean": 5200, "peak_heap_bytes_sd": 200 * r2,
			"train_heap_bytes_mean": 1300, "train_heap_bytes_sd": 300 * r2,
			"train_heap_frac_mean": 0.8125, "train_heap_frac_sd": 0.1875 * r2,
			"saved_bytes_mean": 400, "saved_bytes_sd": 0,
			"saved_frac_mean": 1, "saved_frac_sd": 0,
			"ms_per_iter_mean": 12, "ms_per_iter_sd": 2 * r2,
		},
		"rad": {
			"runs": 2, "batch": 150,
			"test_accuracy_mean": 0.375, "test_accuracy_sd": 0.125 * r2,
			"test_loss_mean": 3, "test_loss_sd": r2,
			"train_loss_mean": 1.5, "train_loss_sd": 0.5 * r2,
			"peak_heap_bytes_mean": 4600, "peak_heap_bytes_sd": 0,
			"train_heap_bytes_mean": 700, "train_heap_bytes_sd": 100 * r2,
			"train_heap_frac_mean": 0.4375, "train_heap_frac_sd": 0.0625 * r2,
			"saved_bytes_mean": 60, "saved_bytes_sd": 20 * r2,
			"saved_frac_mean": 0.15, "saved_frac_sd": 0.05 * r2,
			"ms_per_iter_mean": 8, "ms_per_iter_sd": 0,
		},
		"spad-big": {
			"runs": 1, "batch": 300,
			"test_accuracy_mean": 1, "test_accuracy_sd": 0,
			"train_heap_bytes_mean": 2000, "train_heap_frac_mean": 1.25, "train_heap_frac_sd": 0,
			"saved_bytes_mean": 200, "saved_frac_mean": 0.5, "ms_per_iter_mean": 20, "ms_per_iter_sd": 0,
		},
		"dropout": {
			"runs": 2, "dropout": 0.1,
			"test_accuracy_mean": 0.75, "test_accuracy_sd": 0.25 * r2,
			"train_heap_frac_mean": 1, "train_heap_frac_sd": 0,
			"saved_frac_mean": 2, "saved_frac_sd": 0,
			"ms_per_iter_mean": 14, "ms_per_iter_sd": 2 * r2,
		},
	}
	csvData, err := os.ReadFile(filepath.Join(dir, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(csvData)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		t.Errorf("header %v", rows[0])
	}
	var order []string
	for _, row := range rows[1:] {
		order = append(order, row[0])
		w, ok := want[row[0]]
		if !ok {
			t.Errorf("unexpected setting %q", row[0])
			continue
		}
		for i, col := range rows[0] {
			exp, ok := w[col]
			if !ok {
				continue
			}
			got, err := strconv.ParseFloat(row[i], 64)
			if err != nil {
				t.Errorf("%s %s = %q", row[0], col, row[i])
				continue
			}
			if math.Abs(got-exp) > 1e-12*math.Max(1, math.Abs(exp)) {
				t.Errorf("%s %s = %v, want %v", row[0], col, got, exp)
			}
		}
	}
	if strings.Join(order, " ") != "baseline rad spad-big dropout" {
		t.Errorf("settings in order %v, want file order", order)
	}
	if rows[2][1] != "rad(kind=project keep=0.1)" {
		t.Errorf("estimator column %q", rows[2][1])
	}

	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	for _, frag := range []string{
		"| baseline | 2 | 62.50 ± 17.68 | 2.0000 ± 1.4142 | 0.00 ± 0.00 | 0.812 ± 0.265 |",
		"| spad-big | 1 | 100.00 ± 0.00 |",
		"Machine: Test CPU, avx2 kernels, 1 thread(s) per run",
	} {
		if !bytes.Contains(md, []byte(frag)) {
			t.Errorf("summary.md lacks %q:\n%s", frag, md)
		}
	}
	for _, f := range []string{"fig8.png", "curves.png"} {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 200 {
			t.Errorf("%s is %v", f, b)
		}
	}
}

func TestReportErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Report(dir); err == nil || !strings.Contains(err.Error(), "no runs file") {
		t.Errorf("empty directory: %v", err)
	}
	os.WriteFile(filepath.Join(dir, RunsFile), nil, 0o644)
	if _, _, err := Report(dir); err == nil || !strings.Contains(err.Error(), "no runs") {
		t.Errorf("empty file: %v", err)
	}
}

// TestSummaryWithoutBaseline: with no baseline the fractions are unknown,
// and the report still works.
func TestSummaryWithoutBaseline(t *testing.T) {
	lines, _, _, err := ReadRuns("testdata/report/runs.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var rest []Line
	for _, l := range lines {
		if l.Setting == "rad" {
			rest = append(rest, l)
		}
	}
	s, err := Summarize(rest)
	if err != nil {
		t.Fatal(err)
	}
	if s.Baseline != "" || !math.IsNaN(s.Groups[0].TrainHeapFrac.Mean) {
		t.Errorf("baseline %q, fraction %v", s.Baseline, s.Groups[0].TrainHeapFrac)
	}
	if err := s.PlotFig8(filepath.Join(t.TempDir(), "f.png")); err != nil {
		t.Error(err)
	}
}

// curveFacts finds the lowest test loss, the rise after it and the best
// accuracy of a run's curves.
func TestCurveFacts(t *testing.T) {
	r := &train.Record{Curves: []train.Point{
		{Iter: 250, TestLoss: 1.5, TestAccuracy: 0.40},
		{Iter: 500, TestLoss: 1.2, TestAccuracy: 0.55},
		{Iter: 750, TestLoss: 1.1, TestAccuracy: 0.58},
		{Iter: 1000, TestLoss: 1.4, TestAccuracy: 0.60},
		{Iter: 1250, TestLoss: 1.6, TestAccuracy: 0.59},
	}}
	it, rise, acc := curveFacts(r)
	if it != 750 || math.Abs(rise-0.5) > 1e-12 || acc != 0.60 {
		t.Errorf("curveFacts = %v, %v, %v; want 750, 0.5, 0.60", it, rise, acc)
	}
	if it, _, _ := curveFacts(&train.Record{}); !math.IsNaN(it) {
		t.Errorf("no curves: iteration %v, want NaN", it)
	}
}

// The tick marker labels between four and eight round values on the
// ranges the figures have, in increasing order.
func TestNiceTicks(t *testing.T) {
	for _, r := range [][2]float64{{0, 1.1}, {43.8, 52.4}, {1.38, 1.95}, {0, 20000}, {0.0123, 0.0199}, {100, 500}} {
		var labels []float64
		for _, tk := range (niceTicker{6}).Ticks(r[0], r[1]) {
			if tk.Label != "" {
				if tk.Value < r[0]-1e-9 || tk.Value > r[1]+1e-9 {
					t.Errorf("%v: tick %v outside the range", r, tk.Value)
				}
				labels = append(labels, tk.Value)
			}
		}
		if len(labels) < 4 || len(labels) > 8 {
			t.Errorf("%v: %d labelled ticks %v, want 4..8", r, len(labels), labels)
		}
	}
	if got := thousands(20000); got != "20,000" {
		t.Errorf("thousands(20000) = %q", got)
	}
}

// The figures are written as PNG and SVG, titled with the model, the data
// set and the run length; with a training-subset evaluation the curves
// figure has the train accuracy panel.
func TestFiguresPNGAndSVG(t *testing.T) {
	mk := func(setting string, rep int, acc float64) Line {
		r := &train.Record{Model: "smallconv", Dataset: "cifar10", Iters: 1000, TrainEvalSize: 500, Bootstrap: rep,
			EstimatorMode: "baseline", TestAccuracy: acc, TrainHeapBytes: 1000, SavedBytesPeak: 500}
		if setting != "baseline" {
			r.EstimatorMode, r.TrainHeapBytes, r.SavedBytesPeak = "rad", 400, 100
		}
		for it := 250; it <= 1000; it += 250 {
			r.Curves = append(r.Curves, train.Point{Iter: it, TestLoss: 2 - float64(it)/1000 + 0.01*float64(rep),
				TestAccuracy: acc * float64(it) / 1000, TrainEvalLoss: 1.5, TrainEvalAccuracy: 0.5})
		}
		return Line{ID: setting, Suite: "s", Setting: setting, Repeat: rep, Record: r}
	}
	s, err := Summarize([]Line{mk("baseline", 1, 0.6), mk("baseline", 2, 0.62), mk("rad", 1, 0.58), mk("rad", 2, 0.57)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := s.PlotFig8(filepath.Join(dir, "fig8.png")); err != nil {
		t.Fatal(err)
	}
	if err := s.PlotCurves(filepath.Join(dir, "curves.png")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"fig8", "curves"} {
		b, err := os.ReadFile(filepath.Join(dir, f+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s.png: %v", f, err)
		}
		svg, err := os.ReadFile(filepath.Join(dir, f+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(svg, []byte("SmallConvNet on CIFAR-10, 1,000 iterations")) {
			t.Errorf("%s.svg lacks the heading", f)
		}
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "curves.svg"))
	if !bytes.Contains(svg, []byte("train accuracy (500-image training subset, ~37% out of bag)")) {
		t.Error("curves.svg has no train-subset accuracy panel")
	}
	svg, _ = os.ReadFile(filepath.Join(dir, "fig8.svg"))
	if !bytes.Contains(svg, []byte("better than baseline")) {
		t.Error("fig8.svg has no shaded better-than-baseline region")
	}
}

// The legend is laid out across the figure in as many columns as fit: the
// seven settings of cifar-fig9 with their progress labels fit the width of
// the one-panel Figure 8 (17 cm) in at most three rows, and a figure
// twice as wide puts them in fewer rows; nothing runs past the edge.
func TestLegendFitsTheWidth(t *testing.T) {
	var entries []legendEntry
	for i, name := range []string{"baseline", "dropout-0.1", "rad-project (at 5,000 of 20,000)",
		"spad-k10-m10 (at 2,000 of 20,000)", "rad-same-sample", "spad-k100-m10", "spad-k10-m10-b300"} {
		entries = append(entries, legendEntry{name: name, thumbs: []plot.Thumbnailer{
			&plotter.Line{LineStyle: lineStyle(i)}, &plotter.Scatter{GlyphStyle: glyphStyle(i)}}})
	}
	rows := func(w vg.Length) (int, legendLayout) {
		dc := draw.New(vgimg.New(w, 12*vg.Centimeter))
		lay := layoutLegend(dc, entries)
		if len(lay.cols) > 1 && lay.width > w {
			t.Errorf("legend %.0f pt wide on a %.0f pt canvas", lay.width, w)
		}
		return (len(entries) + len(lay.cols) - 1) / len(lay.cols), lay
	}
	narrow, lay := rows(17 * vg.Centimeter)
	if narrow > 3 || lay.height <= 0 {
		t.Errorf("17 cm: %d rows, height %v", narrow, lay.height)
	}
	if wide, _ := rows(34 * vg.Centimeter); wide >= narrow {
		t.Errorf("34 cm: %d rows, no fewer than at 17 cm (%d)", wide, narrow)
	}
	if n, _ := rows(2 * vg.Centimeter); n != len(entries) {
		t.Errorf("a canvas narrower than any entry: %d rows, want one column", n)
	}
}
