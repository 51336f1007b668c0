package kernels

import (
	"sync"
	"sync/atomic"
)

// The work team runs the parallel kernels other than GEMM: the direct
// convolution, the large element-wise passes (ReLU, masks, pooling,
// channel sums, copies) and the per-sample work layers hand to Split. Its persistent workers wait on signals (poll, then park),
// like the GEMM team's, so that a kernel that follows another microseconds
// later starts without a wake-up through the operating system.
//
// A job runs on the team by taking workTeam.mu with TryLock and calling
// runLocked with a pointer that is already off the stack (the package's
// kernels keep their job in a package-level variable; Split's callers pass
// a pointer they own), so nothing is allocated; a caller that finds the
// team busy computes the whole job on its own goroutine instead.

// parallelMinFloats is the size (elements touched) below which an
// element-wise kernel stays on the calling goroutine.
const parallelMinFloats = 1 << 16

// Splitter is work that can be divided into parts: RunPart(part, parts)
// does part part of parts (0 ≤ part < parts). The parts of one call may run
// at the same time on different goroutines.
type Splitter interface {
	RunPart(part, parts int)
}

// Split runs s on the work team in up to min(Threads(), items) parts, the
// calling goroutine taking part 0, when size (the elements the work
// touches) makes that worth it; otherwise, or when the team is busy (for
// example inside another Split or a Parallel2), it calls s.RunPart(0, 1).
// It returns when every part is done. Split allocates nothing when s is a
// pointer. Layers use it for per-sample work such as drawing dropout masks.
func Split(s Splitter, items, size int) {
	parts := teamParts(size, items)
	if parts < 2 {
		s.RunPart(0, 1)
		return
	}
	runLocked(s, parts)
	workTeam.mu.Unlock()
}

// workTeam is the team of the direct convolution and element-wise kernels.
var workTeam struct {
	mu      sync.Mutex
	job     Splitter
	parts   int
	wake    []*signal
	pending atomic.Int32
	done    signal
}

// workWorker is the body of the team's worker id (≥ 1).
func workWorker(id int, wake *signal) {
	var seen uint32
	for {
		seen = wake.wait(seen)
		workTeam.job.RunPart(id, workTeam.parts)
		if workTeam.pending.Add(-1) == 0 {
			workTeam.done.post()
		}
	}
}

// runLocked runs job in parts parts, part 0 on the calling goroutine, and
// returns when all are done. The caller holds workTeam.mu; parts ≥ 2.
func runLocked(job Splitter, parts int) {
	t := &workTeam
	if t.done.ch == nil {
		t.done = newSignal()
	}
	for len(t.wake) < parts-1 {
		w := new(signal)
		*w = newSignal()
		t.wake = append(t.wake, w)
		go workWorker(len(t.wake), w)
	}
	t.job, t.parts = job, parts
	t.pending.Store(int32(parts - 1))
	seen := t.done.gen.Load()
	for _, w := range t.wake[:parts-1] {
		w.post()
	}
	job.RunPart(0, parts)
	t.done.wait(seen)
	t.job = nil
}

// teamParts returns how many parts a job of the given size (elements
// touched) and items (indivisible pieces) should run in, having taken
// workTeam.mu when the answer is above 1.
func teamParts(size, items int) int {
	parts := min(Threads(), items)
	if parts < 2 || size < parallelMinFloats || !workTeam.mu.TryLock() {
		return 1
	}
	return parts
}

// partRange returns the items [i0, i1) of part part of parts over items.
func partRange(part, parts, items int) (i0, i1 int) {
	return part * items / parts, (part + 1) * items / parts
}

// Element-wise jobs.
const (
	ewRelu = iota
	ewReluMask
	ewMaskMul
	ewPoolFwd
	ewPoolBwd
	ewSumChannels
	ewCopy
)

// ewJob is one element-wise kernel call split over the team.
type ewJob struct {
	op                    int
	x, y                  []float32
	mask                  []uint64
	scale                 float32
	c, h, w, k, stride, n int // pooling; n, c, h (as hw) for channel sums
}

// ewCur is the element-wise job running on the team (guarded by
// workTeam.mu).
var ewCur ewJob

// RunPart implements Splitter.
func (j *ewJob) RunPart(part, parts int) {
	switch j.op {
	case ewRelu:
		n := len(j.x)
		i0, i1 := partRange(part, parts, (n+63)/64)
		a, b := 64*i0, min(64*i1, n)
		reluSerial(j.y[a:b], j.x[a:b])
	case ewReluMask:
		n := len(j.x)
		i0, i1 := partRange(part, parts, (n+63)/64)
		a, b := 64*i0, min(64*i1, n)
		reluMaskSerial(j.y[a:b], j.x[a:b], j.mask[i0:i1])
	case ewMaskMul:
		n := len(j.x)
		i0, i1 := partRange(part, parts, (n+63)/64)
		a, b := 64*i0, min(64*i1, n)
		maskMulSerial(j.y[a:b], j.x[a:b], j.mask[i0:i1], j.scale)
	case ewPoolFwd, ewPoolBwd:
		oh, ow := AvgPoolOutSize(j.h, j.w, j.k, j.stride)
		p0, p1 := partRange(part, parts, j.n*j.c)
		in, out := j.h*j.w, oh*ow
		if j.op == ewPoolFwd {
			avgPoolFwdPlanes(j.h, j.w, j.k, j.stride, p1-p0, j.x[p0*in:p1*in], j.y[p0*out:p1*out])
		} else {
			avgPoolBwdPlanes(j.h, j.w, j.k, j.stride, p1-p0, j.x[p0*out:p1*out], j.y[p0*in:p1*in])
		}
	case ewCopy:
		a, b := partRange(part, parts, len(j.x))
		copy(j.y[a:b], j.x[a:b])
	case ewSumChannels:
		c0, c1 := partRange(part, parts, j.c)
		hw := j.h
		for s := 0; s < j.n; s++ {
			// Channels [c0, c1) of sample s are contiguous: one call per
			// sample keeps the summation order of the serial kernel.
			sumChannelsSerial(j.y[c0:c1], j.x[(s*j.c+c0)*hw:(s*j.c+c1)*hw], 1, c1-c0, hw)
		}
	}
}

// runEW runs the element-wise job j on the team, or serially when it is
// small or the team is busy.
func runEW(j ewJob, size, items int) {
	parts := teamParts(size, items)
	if parts < 2 {
		j.RunPart(0, 1)
		return
	}
	ewCur = j
	runLocked(&ewCur, parts)
	ewCur = ewJob{}
	workTeam.mu.Unlock()
}
