package train

import (
	"math"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/inject"
)

func TestStatusField(t *testing.T) {
	st := []byte("Name:\ttrain\nVmPeak:\t  200 kB\nVmHWM:\t   1234 kB\nVmRSS:\t  512 kB\nBad:\t12 MB\n")
	if v, ok := statusField(st, "VmHWM:"); !ok || v != 1234*1024 {
		t.Errorf("VmHWM = %d, %v; want %d", v, ok, 1234*1024)
	}
	if v, ok := statusField(st, "VmRSS:"); !ok || v != 512*1024 {
		t.Errorf("VmRSS = %d, %v; want %d", v, ok, 512*1024)
	}
	for _, name := range []string{"Bad:", "Missing:", "Name:"} {
		if v, ok := statusField(st, name); ok {
			t.Errorf("%s parsed as %d", name, v)
		}
	}
}

func TestProcessMemory(t *testing.T) {
	cur, peak, ok := ProcessMemory()
	if !ok {
		if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
			t.Fatalf("no process memory on %s", runtime.GOOS)
		}
		t.Skip("no process memory on", runtime.GOOS)
	}
	if peak == 0 || (cur > 0 && cur > peak) {
		t.Fatalf("current RSS %d, peak %d", cur, peak)
	}
	// Touching 32 MiB of fresh memory raises the peak by about as much.
	buf := make([]byte, 32<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	_, peak2, _ := ProcessMemory()
	if peak2 < peak || peak2 < 32<<20 {
		t.Errorf("peak RSS %d after touching 32 MiB (before: %d)", peak2, peak)
	}
	runtime.KeepAlive(buf)
}

func TestMemMeterRuntime(t *testing.T) {
	m := NewMemMeter()
	m.Sample()
	if m.Peak == 0 || m.PeakRuntime < m.Peak {
		t.Fatalf("heap peak %d, runtime peak %d: the runtime total holds the heap", m.Peak, m.PeakRuntime)
	}
	if a := testing.AllocsPerRun(100, m.Sample); a != 0 {
		t.Errorf("Sample allocates %v times", a)
	}
}

func TestSetMemoryBudget(t *testing.T) {
	oldGC := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	defer func() {
		debug.SetGCPercent(oldGC)
		debug.SetMemoryLimit(oldLimit)
	}()
	if g, l := SetMemoryBudget(25, 300<<20); g != 25 || l != 300<<20 {
		t.Errorf("budget (25, 300 MiB) reads back as (%d, %d)", g, l)
	}
	if g, l := SetMemoryBudget(LeaveGC, 0); g != 25 || l != 300<<20 {
		t.Errorf("an empty budget changed the settings to (%d, %d)", g, l)
	}
	if g, _ := SetMemoryBudget(-1, 0); g != -1 {
		t.Errorf("GOGC off reads as %d", g)
	}
}

func TestSummaryProcessLine(t *testing.T) {
	rec := &Record{PeakRSSBytes: 80e6, GoRuntimeBytes: 50e6, DataMode: "stream", GOGC: 25, MemLimitBytes: 200e6}
	s := rec.Summary()
	want := "process peak RSS 80.00 MB (Go runtime 50.00 MB, data stream; GOGC 25, limit 200 MB)"
	if !strings.Contains(s, want) {
		t.Errorf("summary lacks %q:\n%s", want, s)
	}
	if s := (&Record{}).Summary(); strings.Contains(s, "RSS") {
		t.Errorf("summary of a record without process figures mentions RSS:\n%s", s)
	}
}

// A run on streamed data ends bit-identical to the same run on data held
// in memory: the same batches (here a bootstrap resample of a subset),
// hence the same parameters and curves; the record says which mode ran.
func TestStreamRunMatchesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	c := tinyConfig(inject.Estimator{Mode: inject.RAD, Kind: inject.Project, Keep: 0.2}, 0)
	c.Bootstrap, c.Iters = 2, 12
	mem := newRunner(t, c)
	c.Data.Mode, c.Data.CacheDir = datasets.Stream, t.TempDir()
	str := newRunner(t, c)
	if mem.Train.Streamed() || !str.Train.Streamed() || !str.Test.Streamed() {
		t.Fatal("wrong data modes")
	}
	rm, err := mem.Run()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := str.Run()
	if err != nil {
		t.Fatal(err)
	}
	pm, ps := paramsOf(mem), paramsOf(str)
	for i := range pm {
		for j := range pm[i] {
			if math.Float32bits(pm[i][j]) != math.Float32bits(ps[i][j]) {
				t.Fatalf("parameter %d[%d]: %v in memory, %v streamed", i, j, pm[i][j], ps[i][j])
			}
		}
	}
	for i := range rm.Curves {
		if rm.Curves[i] != rs.Curves[i] {
			t.Fatalf("curve point %d: %+v in memory, %+v streamed", i, rm.Curves[i], rs.Curves[i])
		}
	}
	if rm.DataMode != "memory" || rs.DataMode != "stream" {
		t.Errorf("data modes recorded as %q and %q", rm.DataMode, rs.DataMode)
	}
	if rs.DataBytes >= rm.DataBytes/100 {
		t.Errorf("streamed run holds %d data bytes, in memory %d", rs.DataBytes, rm.DataBytes)
	}
}

// BenchmarkStepDataMode times training steps of SmallFCNet (MNIST) and
// SmallConvNet (CIFAR-10) on one kernel thread with the data held in
// memory and streamed from disk; the ratio of the two is what streaming
// costs a step. Besides wall time it reports the process's CPU time per
// step (where the platform tells it), which the scheduling of other
// programs on a shared machine disturbs far less. Skipped where the data
// sets are not on the machine.
func BenchmarkStepDataMode(b *testing.B) {
	cache := b.TempDir()
	for _, model := range []string{"smallfc", "smallconv"} {
		for _, mode := range []datasets.Mode{datasets.Memory, datasets.Stream} {
			b.Run(model+"/"+mode.String(), func(b *testing.B) {
				r, err := NewRunner(Config{Model: model, Iters: 1_000_000, Seed: 1, Threads: 1,
					Data: datasets.Options{NoDownload: true, Mode: mode, CacheDir: cache}})
				if err != nil && strings.Contains(err.Error(), "not found") {
					b.Skip(err)
				}
				if err != nil {
					b.Fatal(err)
				}
				defer r.Train.Close()
				defer r.Test.Close()
				r.Step() // first touches of every buffer
				cpu0 := processCPU()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					r.Step()
				}
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/step")
				if cpu := processCPU() - cpu0; cpu > 0 {
					b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/step")
				}
			})
		}
	}
}
