package train

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// WriteFileAtomic writes data to path through a temporary file in the same
// directory that is synced and renamed over path, so a crash never leaves a
// half-written file.
func WriteFileAtomic(path string, data []byte) error {
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic is WriteFileAtomic for content produced by fill.
func writeAtomic(path string, fill func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 1<<16)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Save writes rec as dir/run.json and its curves as dir/curves.csv,
// creating dir if needed.
func (rec *Record) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, "run.json"), append(js, '\n')); err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, "curves.csv"), curvesCSV(rec.Curves))
}

func curvesCSV(ps []Point) []byte {
	var b bytesBuffer
	w := csv.NewWriter(&b)
	trainEval := false
	for _, p := range ps {
		trainEval = trainEval || p.TrainEvalLoss != 0
	}
	head := []string{"iter", "train_loss", "test_loss", "test_accuracy", "lr"}
	if trainEval {
		head = append(head, "train_eval_loss", "train_eval_accuracy")
	}
	_ = w.Write(head)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for _, p := range ps {
		row := []string{strconv.Itoa(p.Iter), f(p.TrainLoss), f(p.TestLoss), f(p.TestAccuracy), f(p.LR)}
		if trainEval {
			row = append(row, f(p.TrainEvalLoss), f(p.TrainEvalAccuracy))
		}
		_ = w.Write(row)
	}
	w.Flush()
	return b.data
}

type bytesBuffer struct{ data []byte }

func (b *bytesBuffer) Write(p []byte) (int, error) { b.data = append(b.data, p...); return len(p), nil }

// Summary formats the record's headline figures for people, one per line.
func (rec *Record) Summary() string {
	mb := func(b float64) string { return fmt.Sprintf("%.2f MB", b/1e6) }
	return fmt.Sprintf(`model         %s on %s, estimator %s
iterations    %d × batch %d, %.3f ms/iter (%d threads, %s kernels)
test accuracy %.2f%%
test loss     %.4f
train loss    %.4f
peak heap     %s (%s above the %s of data and buffers present before the network was built)
saved for backward (peak) %s; transient work buffers %s
`+rec.processLine(),
		rec.Model, rec.Dataset, rec.Estimator,
		rec.Iters, rec.Batch, rec.MsPerIter, rec.Threads, rec.KernelPath,
		100*rec.TestAccuracy, rec.TestLoss, rec.TrainLoss,
		mb(float64(rec.PeakHeapBytes)), mb(float64(rec.TrainHeapBytes)), mb(float64(rec.BaseHeapBytes)),
		mb(float64(rec.SavedBytesPeak)), mb(float64(rec.WorkBytes)))
}

// processLine formats what the operating system sees: the process's peak
// resident set and the Go runtime's part of it.
func (rec *Record) processLine() string {
	if rec.PeakRSSBytes == 0 && rec.GoRuntimeBytes == 0 {
		return ""
	}
	rss := "unknown on this platform"
	if rec.PeakRSSBytes > 0 {
		rss = fmt.Sprintf("%.2f MB", float64(rec.PeakRSSBytes)/1e6)
	}
	data := ""
	if rec.DataMode != "" {
		data = ", data " + rec.DataMode
	}
	gc := fmt.Sprintf("GOGC %d", rec.GOGC)
	if rec.GOGC < 0 {
		gc = "GOGC off"
	}
	if rec.MemLimitBytes > 0 {
		gc += fmt.Sprintf(", limit %.0f MB", float64(rec.MemLimitBytes)/1e6)
	}
	return fmt.Sprintf("process peak RSS %s (Go runtime %.2f MB%s; %s)\n",
		rss, float64(rec.GoRuntimeBytes)/1e6, data, gc)
}
