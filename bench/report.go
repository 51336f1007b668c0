package bench

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	"gonum.org/v1/gonum/stat"

	"github.com/spadlab/spad/train"
)

// Stat is the mean and sample standard deviation of one measure over a
// setting's repeats (standard deviation 0 for a single run).
type Stat struct {
	Mean, SD float64
}

func newStat(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{math.NaN(), math.NaN()}
	}
	if len(xs) == 1 {
		return Stat{xs[0], 0}
	}
	m, sd := stat.MeanStdDev(xs, nil)
	return Stat{m, sd}
}

// Group is the summary of one setting of a sweep.
type Group struct {
	Setting   string
	Estimator string // the record's estimator description
	Dropout   float64
	Batch     int
	Runs      []Line // in file order

	TestAccuracy, TestLoss, TrainLoss Stat
	PeakHeap, TrainHeap, SavedBytes   Stat // bytes
	TrainHeapFrac, SavedFrac          Stat // fractions of the baseline's largest
	MsPerIter                         Stat

	// From the learning curves: the iteration of the lowest test loss,
	// how far the test loss rises after it (final minus lowest), the best
	// test accuracy over the evaluations, and the final train loss and
	// accuracy on the fixed training subset (NaN when not measured).
	BestLossIter, LossRise, BestAccuracy Stat
	TrainEvalLoss, TrainEvalAccuracy     Stat
}

// curveFacts returns, for one run, the iteration of its lowest test loss,
// the rise of the test loss after it, and its best test accuracy.
func curveFacts(r *train.Record) (bestIter, rise, bestAcc float64) {
	if len(r.Curves) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	lo := r.Curves[0]
	for _, p := range r.Curves {
		if p.TestLoss < lo.TestLoss {
			lo = p
		}
		bestAcc = math.Max(bestAcc, p.TestAccuracy)
	}
	last := r.Curves[len(r.Curves)-1]
	return float64(lo.Iter), last.TestLoss - lo.TestLoss, bestAcc
}

// Summary is a sweep's runs grouped by setting.
type Summary struct {
	Suite    string
	Baseline string  // setting used as the memory reference
	RefHeap  float64 // largest train heap of the baseline runs, bytes
	RefSaved float64 // largest saved bytes of the baseline runs
	Groups   []*Group
	Machine  string // CPU, kernel path and threads of the first run
}

// Summarize groups lines by setting, in order of first appearance, and
// computes each measure's mean and standard deviation. Memory fractions
// are relative to the largest value among the runs of the setting named
// "baseline" (else the first setting without estimator and dropout),
// as in the paper's Figure 8.
func Summarize(lines []Line) (*Summary, error) {
	if len(lines) == 0 {
		return nil, errors.New("no runs")
	}
	s := &Summary{Suite: lines[0].Suite}
	idx := map[string]*Group{}
	for _, l := range lines {
		g := idx[l.Setting]
		if g == nil {
			g = &Group{Setting: l.Setting, Estimator: l.Record.Estimator, Dropout: l.Record.Dropout, Batch: l.Record.Batch}
			idx[l.Setting] = g
			s.Groups = append(s.Groups, g)
		}
		g.Runs = append(g.Runs, l)
	}
	var base *Group
	if g := idx["baseline"]; g != nil {
		base = g
	} else {
		for _, g := range s.Groups {
			if r := g.Runs[0].Record; r.EstimatorMode == "baseline" && r.Dropout == 0 {
				base = g
				break
			}
		}
	}
	if base != nil {
		s.Baseline = base.Setting
		for _, l := range base.Runs {
			s.RefHeap = math.Max(s.RefHeap, float64(l.Record.TrainHeapBytes))
			s.RefSaved = math.Max(s.RefSaved, float64(l.Record.SavedBytesPeak))
		}
	}
	r0 := lines[0].Record
	s.Machine = fmt.Sprintf("%s, %s kernels, %d thread(s) per run", r0.CPU, r0.KernelPath, r0.Threads)
	for _, g := range s.Groups {
		col := func(f func(r *train.Record) float64) Stat {
			xs := make([]float64, len(g.Runs))
			for i, l := range g.Runs {
				xs[i] = f(l.Record)
			}
			return newStat(xs)
		}
		g.TestAccuracy = col(func(r *train.Record) float64 { return r.TestAccuracy })
		g.TestLoss = col(func(r *train.Record) float64 { return r.TestLoss })
		g.TrainLoss = col(func(r *train.Record) float64 { return r.TrainLoss })
		g.PeakHeap = col(func(r *train.Record) float64 { return float64(r.PeakHeapBytes) })
		g.TrainHeap = col(func(r *train.Record) float64 { return float64(r.TrainHeapBytes) })
		g.SavedBytes = col(func(r *train.Record) float64 { return float64(r.SavedBytesPeak) })
		g.TrainHeapFrac = col(func(r *train.Record) float64 { return frac(float64(r.TrainHeapBytes), s.RefHeap) })
		g.SavedFrac = col(func(r *train.Record) float64 { return frac(float64(r.SavedBytesPeak), s.RefSaved) })
		g.MsPerIter = col(func(r *train.Record) float64 { return r.MsPerIter })
		g.BestLossIter = col(func(r *train.Record) float64 { it, _, _ := curveFacts(r); return it })
		g.LossRise = col(func(r *train.Record) float64 { _, d, _ := curveFacts(r); return d })
		g.BestAccuracy = col(func(r *train.Record) float64 { _, _, a := curveFacts(r); return a })
		lastEval := func(f func(p train.Point) float64) func(r *train.Record) float64 {
			return func(r *train.Record) float64 {
				if n := len(r.Curves); n > 0 && r.Curves[n-1].TrainEvalLoss != 0 {
					return f(r.Curves[n-1])
				}
				return math.NaN()
			}
		}
		g.TrainEvalLoss = col(lastEval(func(p train.Point) float64 { return p.TrainEvalLoss }))
		g.TrainEvalAccuracy = col(lastEval(func(p train.Point) float64 { return p.TrainEvalAccuracy }))
	}
	return s, nil
}

// csvHeader names the columns of summary.csv.
var csvHeader = []string{"setting", "estimator", "dropout", "batch", "runs",
	"test_accuracy_mean", "test_accuracy_sd", "test_loss_mean", "test_loss_sd",
	"train_loss_mean", "train_loss_sd",
	"peak_heap_bytes_mean", "peak_heap_bytes_sd", "train_heap_bytes_mean", "train_heap_bytes_sd",
	"train_heap_frac_mean", "train_heap_frac_sd",
	"saved_bytes_mean", "saved_bytes_sd", "saved_frac_mean", "saved_frac_sd",
	"ms_per_iter_mean", "ms_per_iter_sd",
	"best_test_loss_iter_mean", "best_test_loss_iter_sd", "test_loss_rise_mean", "test_loss_rise_sd",
	"best_test_accuracy_mean", "best_test_accuracy_sd",
	"train_eval_loss_mean", "train_eval_loss_sd", "train_eval_accuracy_mean", "train_eval_accuracy_sd"}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// CSV returns summary.csv: one row per setting, full precision.
func (s *Summary) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(csvHeader)
	for _, g := range s.Groups {
		row := []string{g.Setting, g.Estimator, fmtF(g.Dropout), strconv.Itoa(g.Batch), strconv.Itoa(len(g.Runs))}
		for _, st := range []Stat{g.TestAccuracy, g.TestLoss, g.TrainLoss, g.PeakHeap, g.TrainHeap, g.TrainHeapFrac, g.SavedBytes, g.SavedFrac, g.MsPerIter,
			g.BestLossIter, g.LossRise, g.BestAccuracy, g.TrainEvalLoss, g.TrainEvalAccuracy} {
			row = append(row, fmtF(st.Mean), fmtF(st.SD))
		}
		_ = w.Write(row)
	}
	w.Flush()
	return b.Bytes()
}

// Markdown returns summary.md: a table of mean ± standard deviation per
// setting.
func (s *Summary) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Summary of %s\n\n", s.Suite)
	fmt.Fprintf(&b, "Mean ± sample standard deviation over the repeats. Memory fractions are relative to the largest value among the `%s` runs (train heap %.2f MB, saved for backward %.2f MB). Train heap: peak heap in use above the data loaded before the network was built; peak heap: the whole process heap. Machine: %s.\n\n",
		s.Baseline, s.RefHeap/1e6, s.RefSaved/1e6, s.Machine)
	b.WriteString("| setting | runs | test accuracy (%) | test loss | train heap (MB) | train heap / baseline | saved (MB) | saved / baseline | peak heap (MB) | ms/iter |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	pm := func(st Stat, scale float64, prec int) string {
		if math.IsNaN(st.Mean) {
			return "–"
		}
		return fmt.Sprintf("%.*f ± %.*f", prec, st.Mean*scale, prec, st.SD*scale)
	}
	for _, g := range s.Groups {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			g.Setting, len(g.Runs), pm(g.TestAccuracy, 100, 2), pm(g.TestLoss, 1, 4),
			pm(g.TrainHeap, 1e-6, 2), pm(g.TrainHeapFrac, 1, 3), pm(g.SavedBytes, 1e-6, 2), pm(g.SavedFrac, 1, 3),
			pm(g.PeakHeap, 1e-6, 1), pm(g.MsPerIter, 1, 2))
	}
	b.WriteString("\nFrom the learning curves (evaluations at every `eval_every` iterations): the iteration of the lowest test loss, how far the test loss has risen from that minimum at the end (a sign of overfitting when clearly above 0), the best and the final test accuracy, and the final loss and accuracy on the fixed training subset when the runs measured one.\n\n")
	b.WriteString("| setting | lowest test loss at iteration | test loss rise after it | best test accuracy (%) | final test accuracy (%) | final train-subset loss | final train-subset accuracy (%) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, g := range s.Groups {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", g.Setting,
			pm(g.BestLossIter, 1, 0), pm(g.LossRise, 1, 4), pm(g.BestAccuracy, 100, 2), pm(g.TestAccuracy, 100, 2),
			pm(g.TrainEvalLoss, 1, 4), pm(g.TrainEvalAccuracy, 100, 2))
	}
	return b.Bytes()
}

// Report reads the finished runs of the sweep in dir (dir/runs and the
// legacy dir/runs.jsonl) and writes summary.csv, summary.md, fig8.png and
// curves.png (each figure also as SVG) into dir. It returns the summary and
// any warning about the files.
func Report(dir string) (*Summary, string, error) {
	return report(dir, false)
}

// ReportProgress is Report for a sweep still running: the finished runs
// and, from their checkpoints, the partial ones (labelled with the
// iteration they reached) go into progress.md and progress-curves.png
// (and .svg), leaving the final summary and figures alone.
func ReportProgress(dir string) (*Summary, string, error) {
	return report(dir, true)
}

func report(dir string, progress bool) (*Summary, string, error) {
	path := filepath.Join(dir, RunsFile)
	lines, warn, err := LoadLines(dir) // dir/runs and the legacy runs.jsonl
	lines = Latest(lines)
	if progress && isNoRuns(err) {
		err = nil
	}
	if err != nil {
		return nil, warn, err
	}
	if progress {
		part, perr := PartialLines(dir)
		if perr != nil {
			return nil, warn, perr
		}
		lines = append(lines, part...)
		if len(lines) == 0 {
			return nil, warn, fmt.Errorf("%s: no finished runs and no checkpoints yet", dir)
		}
		s, err := Summarize(lines)
		if err != nil {
			return nil, warn, err
		}
		s.Suite += " (in progress)"
		if err := train.WriteFileAtomic(filepath.Join(dir, "progress.md"), s.Markdown()); err != nil {
			return s, warn, err
		}
		return s, warn, s.PlotCurves(filepath.Join(dir, "progress-curves.png"))
	}
	s, err := Summarize(lines)
	if err != nil {
		return nil, warn, fmt.Errorf("%s: %v", path, err)
	}
	if err := train.WriteFileAtomic(filepath.Join(dir, "summary.csv"), s.CSV()); err != nil {
		return s, warn, err
	}
	if err := train.WriteFileAtomic(filepath.Join(dir, "summary.md"), s.Markdown()); err != nil {
		return s, warn, err
	}
	if err := s.PlotFig8(filepath.Join(dir, "fig8.png")); err != nil {
		return s, warn, err
	}
	if err := s.PlotCurves(filepath.Join(dir, "curves.png")); err != nil {
		return s, warn, err
	}
	return s, warn, nil
}
