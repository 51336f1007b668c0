package train

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
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

// tempSuffix follows the name of a file being written atomically:
// ".<name>.tmp<random>" in the same directory.
const tempSuffix = ".tmp"

// createTemp creates a new temporary file for path in its directory. Unlike
// os.CreateTemp (mode 0600) it asks for mode 0666, so the file ends up
// with the permissions the umask gives every new file (0644 under umask
// 022).
func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Dir(path), "."+filepath.Base(path)+tempSuffix
	for try := 0; ; try++ {
		name := filepath.Join(dir, base+strconv.FormatUint(uint64(tempRand.Add(0x9E3779B97F4A7C15)>>32), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, os.ErrExist) && try < 100 {
			continue
		}
		return f, err
	}
}

var tempRand atomic.Uint64

func init() { tempRand.Store(uint64(time.Now().UnixNano()) ^ uint64(os.Getpid())<<32) }

// CleanTemps removes the temporary files that atomic writes of path left
// behind when their process was killed before the rename
// (".<name>.tmp…" in path's directory, regular files only) and returns
// how many it removed. Call it only while no other process writes path.
func CleanTemps(path string) int {
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+tempSuffix
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			if os.Remove(filepath.Join(dir, e.Name())) == nil {
				n++
			}
		}
	}
	return n
}

// writeAtomic is WriteFileAtomic for content produced by fill.
func writeAtomic(path string, fill func(w io.Writer) error) error {
	f, err := createTemp(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
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
// creating dir if needed. It replaces only files of its own (CheckOutDir).
func (rec *Record) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := CheckOutDir(dir); err != nil {
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

// nullable returns v, or nil when v is not finite: JSON has no NaN or
// infinity, so run records write null for them.
func nullable(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// MarshalJSON writes the point with null for the figures that are not
// finite (those of a diverged run).
func (p Point) MarshalJSON() ([]byte, error) {
	type plain Point
	if finite := func(vs ...float64) bool {
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
		return true
	}; finite(p.TrainLoss, p.TestLoss, p.TestAccuracy, p.LR, p.TrainEvalLoss, p.TrainEvalAccuracy) {
		return json.Marshal(plain(p))
	}
	orNil := func(v float64) *float64 {
		if v == 0 {
			return nil
		}
		return nullable(v)
	}
	return json.Marshal(struct {
		Iter              int      `json:"iter"`
		TrainLoss         *float64 `json:"train_loss"`
		TestLoss          *float64 `json:"test_loss"`
		TestAccuracy      *float64 `json:"test_accuracy"`
		LR                *float64 `json:"lr"`
		TrainEvalLoss     *float64 `json:"train_eval_loss,omitempty"`
		TrainEvalAccuracy *float64 `json:"train_eval_accuracy,omitempty"`
	}{p.Iter, nullable(p.TrainLoss), nullable(p.TestLoss), nullable(p.TestAccuracy), nullable(p.LR), orNil(p.TrainEvalLoss), orNil(p.TrainEvalAccuracy)})
}

// MarshalJSON writes the record with null for the final figures that are
// not finite (a diverged run's).
func (rec Record) MarshalJSON() ([]byte, error) {
	type plain Record
	return json.Marshal(struct {
		plain
		TestAccuracy *float64 `json:"test_accuracy"`
		TestLoss     *float64 `json:"test_loss"`
		TrainLoss    *float64 `json:"train_loss"`
	}{plain(rec), nullable(rec.TestAccuracy), nullable(rec.TestLoss), nullable(rec.TrainLoss)})
}

// CheckOutDir reports whether Save may write into dir: dir is a directory
// or does not exist yet, and run.json and curves.csv in it are absent or
// files this program wrote (a JSON object with a "model" field; a CSV file
// whose header starts with "iter,"). Anything else there is refused with
// an error naming it.
func CheckOutDir(dir string) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("%s exists and is not a directory", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	err := checkOwnFile(filepath.Join(dir, "run.json"), "a run record", func(head []byte) bool {
		return bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("{")) &&
			(bytes.Contains(head, []byte(`"format_version"`)) || bytes.Contains(head, []byte(`"model"`)))
	})
	if err != nil {
		return err
	}
	return checkOwnFile(filepath.Join(dir, "curves.csv"), "a curves file", func(head []byte) bool {
		return bytes.HasPrefix(head, []byte("iter,"))
	})
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
