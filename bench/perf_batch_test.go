package bench

import (
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// A huge --batch of the step benchmarks is an error before anything is
// allocated for it, never a makeslice panic or an out-of-memory crash.
func TestPerfStepHugeBatch(t *testing.T) {
	o := PerfOptions{MinTime: time.Nanosecond, Threads: []int{1}, Models: []string{"smallfc"}, ConvN: 1}
	o.Batch = 1 << 40
	if _, err := PerfStep(o); err == nil || !strings.Contains(err.Error(), "exceeds the largest batch, 65536") {
		t.Errorf("batch 2^40: %v", err)
	}
	// Within the bound but beyond the memory available (a 32 MiB limit).
	old := debug.SetMemoryLimit(32 << 20)
	defer debug.SetMemoryLimit(old)
	o.Batch = 60000
	if _, err := PerfStep(o); err == nil || !strings.Contains(err.Error(), "more than the") {
		t.Errorf("batch 60000 under a 32 MiB limit: %v", err)
	}
}
