package train

import (
	"bytes"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
)

// MemMeter samples the heap in use (runtime.MemStats.HeapInuse, read through
// runtime/metrics so that sampling neither stops the world nor allocates)
// and keeps the largest value seen. It also keeps the largest Go runtime
// total seen (see RuntimeBytes).
type MemMeter struct {
	samples [4]metrics.Sample
	Peak    uint64 // largest heap in use sampled, in bytes
	Last    uint64 // most recent sample
	// PeakRuntime is the largest Go runtime total sampled, in bytes: all
	// memory the runtime has mapped (heap, stacks, GC metadata, profiling
	// and other runtime structures) less the heap pages it has returned to
	// the operating system.
	PeakRuntime uint64
}

// NewMemMeter returns a meter with no samples.
func NewMemMeter() *MemMeter {
	m := &MemMeter{}
	m.samples[0].Name = "/memory/classes/heap/objects:bytes"
	m.samples[1].Name = "/memory/classes/heap/unused:bytes"
	m.samples[2].Name = "/memory/classes/total:bytes"
	m.samples[3].Name = "/memory/classes/heap/released:bytes"
	return m
}

func sampleUint(s metrics.Sample) uint64 {
	if s.Value.Kind() == metrics.KindUint64 {
		return s.Value.Uint64()
	}
	return 0
}

// read refreshes the samples and returns the heap in use and the runtime
// total.
func (m *MemMeter) read() (heap, total uint64) {
	metrics.Read(m.samples[:])
	heap = sampleUint(m.samples[0]) + sampleUint(m.samples[1])
	total = sampleUint(m.samples[2])
	if rel := sampleUint(m.samples[3]); rel < total {
		total -= rel
	}
	return heap, total
}

// HeapInuse returns the current heap in use: live and dead objects plus
// the free space inside in-use spans, exactly runtime.MemStats.HeapInuse.
func (m *MemMeter) HeapInuse() uint64 {
	h, _ := m.read()
	return h
}

// RuntimeBytes returns the Go runtime's current total: the memory it has
// mapped for the heap, goroutine stacks, GC metadata and its other
// structures, less the heap pages released to the operating system. It is
// the part of the resident set the Go runtime accounts for; the rest is
// the program's code and data pages and the C library, if any.
func (m *MemMeter) RuntimeBytes() uint64 {
	_, t := m.read()
	return t
}

// Sample reads the heap in use and the runtime total and updates Peak and
// PeakRuntime. It does not allocate.
func (m *MemMeter) Sample() {
	h, t := m.read()
	m.Last = h
	if h > m.Peak {
		m.Peak = h
	}
	if t > m.PeakRuntime {
		m.PeakRuntime = t
	}
}

// ProcessMemory returns the resident set size of the process now and its
// peak since the process started (Linux: VmRSS and VmHWM of
// /proc/self/status, else getrusage's maxrss), in bytes. ok is false where
// the platform offers neither; a current size of 0 with ok true means only
// the peak is known. The figures include everything resident: the
// program's code, the Go runtime, the heap and memory-mapped file pages
// the process has touched.
func ProcessMemory() (cur, peak uint64, ok bool) { return processMemory() }

// GCSettings reports the garbage collector's current settings: the GOGC
// percentage (-1 when the collector is off) and the soft memory limit in
// bytes (math.MaxInt64 when there is none).
func GCSettings() (gogc int, limit int64) {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	gogc, limit = 100, math.MaxInt64
	if s[0].Value.Kind() == metrics.KindUint64 {
		// An "off" collector (GOGC=off, percentage -1) reads as a huge
		// unsigned value.
		if v := s[0].Value.Uint64(); v > math.MaxInt32 {
			gogc = -1
		} else {
			gogc = int(v)
		}
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		limit = int64(min(s[1].Value.Uint64(), math.MaxInt64))
	}
	return gogc, limit
}

// DefaultGCPercent is the GOGC cmd/train runs with unless told otherwise.
// After a network is built its live heap hardly changes: a step allocates
// nothing, and only loading, evaluation, progress output and checkpoints
// make garbage. GOGC=100 lets that garbage grow to the size of the live
// heap before a collection; at 10 the collector runs a dozen more cycles
// in a 1,000-iteration SmallFCNet run (about 1 ms of CPU each, none inside
// a step) and the peak resident set falls from 124.7 to 115.5 MB with the
// data in memory and from 22.9 to 22.1 MB streamed, with no step-time
// difference measurable (bench/RESULTS.md, "Process memory (peak RSS)").
const DefaultGCPercent = 10

// LeaveGC passed to SetMemoryBudget leaves GOGC as it is.
const LeaveGC = -2

// SetMemoryBudget applies a memory budget to the Go runtime: gcPercent as
// GOGC (-1: off, so that only the limit triggers collections; LeaveGC:
// leave it as the environment set it) and limit as the soft memory limit
// in bytes (0: leave it). It returns the settings in force afterwards.
func SetMemoryBudget(gcPercent int, limit int64) (gogc int, memLimit int64) {
	if gcPercent >= -1 {
		debug.SetGCPercent(gcPercent)
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	return GCSettings()
}

// recordProcessMemory sets the record's process and runtime memory fields.
func (r *Runner) recordProcessMemory(rec *Record) {
	r.Meter.Sample()
	if _, peak, ok := ProcessMemory(); ok {
		rec.PeakRSSBytes = peak
	}
	rec.GoRuntimeBytes = r.Meter.PeakRuntime
	rec.DataMode = dataMode(r.TrainData)
	var gogc int
	var limit int64
	gogc, limit = GCSettings()
	rec.GOGC = gogc
	if limit != math.MaxInt64 {
		rec.MemLimitBytes = limit
	}
}

// statusField parses a "Name:   1234 kB" line of /proc/self/status into
// bytes.
func statusField(status []byte, name string) (uint64, bool) {
	i := bytes.Index(status, []byte("\n"+name))
	if i < 0 {
		return 0, false
	}
	line := status[i+1+len(name):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := bytes.Fields(line)
	if len(f) != 2 || string(f[1]) != "kB" {
		return 0, false
	}
	v, err := strconv.ParseUint(string(f[0]), 10, 64)
	if err != nil {
		return 0, false
	}
	return v * 1024, true
}
