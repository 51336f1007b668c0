package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spadlab/spad/nn/kernels"
)

// TestPerfTable runs every part of the performance suite once on the
// smallest setting and checks the table's shape, not its timings.
func TestPerfTable(t *testing.T) {
	o := PerfOptions{MinTime: time.Nanosecond, Threads: []int{1}, Models: []string{"smallfc"}, Batch: 8, ConvN: 1,
		Paths: []kernels.Path{kernels.Active()}}
	rows := PerfGEMM(o)
	if len(rows) != len(gemmCases) {
		t.Fatalf("%d gemm rows", len(rows))
	}
	if rows[0].Path != kernels.Active().String() {
		t.Fatalf("gemm row on path %q, want %q", rows[0].Path, kernels.Active())
	}
	// Every available path is measured, side by side, by default.
	o2 := o
	o2.Paths = nil
	if n := len(PerfGEMM(o2)); n != len(gemmCases)*len(kernels.AvailablePaths()) {
		t.Fatalf("%d gemm rows on %d paths", n, len(kernels.AvailablePaths()))
	}
	rows = append(rows, PerfConv(o)...)
	step, err := PerfStep(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(step) != len(StepEstimators) {
		t.Fatalf("%d step rows", len(step))
	}
	for _, r := range step {
		if r.SavedMB <= 0 || r.Ms <= 0 {
			t.Errorf("%s: %+v", r.Case, r)
		}
	}
	rows = append(rows, step...)
	var b bytes.Buffer
	if err := WritePerfTable(&b, Machine(), rows); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, frag := range []string{"machine: ", "GFLOP/s", "gemm  ", "conv4 32→32 16×16 backward filter ×1", "smallfc spad-k10-m10"} {
		if !strings.Contains(out, frag) {
			t.Errorf("table lacks %q:\n%s", frag, out)
		}
	}
	if n := strings.Count(out, "\n"); n != len(rows)+3 {
		t.Errorf("%d lines for %d rows:\n%s", n, len(rows), out)
	}
}
