package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Every parallel kernel — GEMM, direct convolution, the large element-wise
// and pooling passes, the per-sample work layers hand to Split, and the two
// halves of Parallel2 — runs on one team of persistent worker goroutines.
//
// A job is divided into parts numbered 0 … parts−1 by a rule fixed by the
// job and the thread count alone, so the same inputs and thread count give
// the same bits whoever runs a part. The calling goroutine runs part 0;
// worker i runs part i. A caller that has finished its own part takes back
// the parts whose worker has not started yet (a worker the operating
// system has not scheduled never delays a job) and runs them itself.
//
// The team serves one job at a time. A caller takes it with TryLock and
// never waits for it: a caller that finds the team busy — another network
// training in another goroutine, or a kernel called inside a Parallel2
// half — runs its whole job on its own goroutine, which gives the same
// result. Nothing blocks on the team, so concurrent callers cannot
// deadlock, and the state of a job (a package-level value guarded by the
// team, or a pointer the caller owns) is never shared between two callers.
// Workers wait for work on signals that poll for a while before parking,
// so that a job that follows another microseconds later starts without a
// wake-up through the operating system. Nothing is allocated per job once
// the team has grown to the thread count.

// threads is the number of threads set by SetThreads; 0 means
// runtime.GOMAXPROCS(0) at call time.
var threads atomic.Int32

// SetThreads sets the number of threads parallel kernels use; n < 1 means
// runtime.GOMAXPROCS(0). Results do not depend on it.
func SetThreads(n int) {
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	threads.Store(int32(n))
}

// Threads returns the number of threads parallel kernels use.
func Threads() int {
	if t := threads.Load(); t > 0 {
		return int(t)
	}
	return runtime.GOMAXPROCS(0)
}

// teamJob is work the team runs: runPart does part part of parts, with
// buf as the packing buffers of the goroutine running it.
type teamJob interface {
	runPart(part, parts int, buf *packBuf)
}

// worker is one persistent goroutine of the team.
type worker struct {
	id    int // the part it runs (≥ 1; the caller takes part 0)
	buf   packBuf
	wake  signal
	state atomic.Int32 // workerIdle, workerPosted or workerStarted
}

// Worker states. The caller posts a worker with workerPosted; the worker
// claims its part by moving it to workerStarted; a caller that has finished
// its own part revokes a worker that has not started (workerPosted →
// workerIdle) and runs that part itself.
const (
	workerIdle = iota
	workerPosted
	workerStarted
)

// team is the worker team. Its fields are owned by the goroutine holding
// mu, and read by workers between their wake-up and their report.
type team struct {
	mu      sync.Mutex
	workers []*worker
	buf     packBuf // the caller's packing buffers
	job     teamJob
	parts   int
	pending atomic.Int32
	done    signal

	// Job values of the package's kernels, guarded by mu, so that
	// starting a job allocates nothing.
	split splitJob
	pair  pairJob
}

var theTeam team

// tryTeam returns the team, locked, when a job in parts parts should use
// it: parts ≥ 2 and no other job is running. Otherwise it returns nil and
// the caller runs the whole job itself.
func tryTeam(parts int) *team {
	if parts < 2 || !theTeam.mu.TryLock() {
		return nil
	}
	return &theTeam
}

// release unlocks the team after a job.
func (t *team) release() { t.mu.Unlock() }

// grow starts workers until the team has n of them.
func (t *team) grow(n int) {
	if len(t.workers) < n && !t.done.ready() {
		t.done.init()
	}
	for len(t.workers) < n {
		w := &worker{id: len(t.workers) + 1}
		w.wake.init()
		t.workers = append(t.workers, w)
		go t.loop(w)
	}
}

// loop is the body of a worker goroutine.
func (t *team) loop(w *worker) {
	var seen uint32
	for {
		seen = w.wake.wait(seen)
		if !w.state.CompareAndSwap(workerPosted, workerStarted) {
			continue // revoked: the caller ran this part
		}
		t.job.runPart(w.id, t.parts, &w.buf)
		w.state.Store(workerIdle)
		if t.pending.Add(-1) == 0 {
			t.done.post()
		}
	}
}

// run runs job in parts parts (≥ 2) and returns when all are done. The
// caller holds t.mu.
func (t *team) run(job teamJob, parts int) {
	t.grow(parts - 1)
	t.job, t.parts = job, parts
	t.pending.Store(int32(parts - 1))
	seen := t.done.gen.Load()
	ws := t.workers[:parts-1]
	for _, w := range ws {
		w.state.Store(workerPosted)
		w.wake.post()
	}
	job.runPart(0, parts, &t.buf)
	finished := false
	for _, w := range ws {
		if w.state.CompareAndSwap(workerPosted, workerIdle) {
			// The worker will not touch its buffers before its next
			// post: running its part on them keeps each part on the
			// same buffers whoever runs it, so which buffers grow does
			// not depend on scheduling.
			job.runPart(w.id, parts, &w.buf)
			if t.pending.Add(-1) == 0 {
				finished = true // every started worker has reported
			}
		}
	}
	if !finished {
		t.done.wait(seen)
	}
	t.job = nil
}

// parallelMinFloats is the size (elements touched) below which an
// element-wise kernel or a Split stays on the calling goroutine.
const parallelMinFloats = 1 << 14

// partRange returns the items [i0, i1) of part part of parts over items.
func partRange(part, parts, items int) (i0, i1 int) {
	return part * items / parts, (part + 1) * items / parts
}

// sizedParts returns how many parts a job touching size elements over items
// indivisible pieces should run in.
func sizedParts(size, items int) int {
	if size < parallelMinFloats {
		return 1
	}
	return min(Threads(), items)
}

// Splitter is work that can be divided into parts: RunPart(part, parts)
// does part part of parts (0 ≤ part < parts). The parts of one call may run
// at the same time on different goroutines, or one after the other on one.
type Splitter interface {
	RunPart(part, parts int)
}

// splitJob runs a Splitter on the team.
type splitJob struct{ s Splitter }

func (j *splitJob) runPart(part, parts int, _ *packBuf) { j.s.RunPart(part, parts) }

// Split runs s on the team in up to min(Threads(), items) parts, the
// calling goroutine taking part 0, when size (the elements the work
// touches) makes that worth it; otherwise, or when the team is busy (for
// example inside another Split or a Parallel2), it calls s.RunPart(0, 1).
// It returns when every part is done. Split allocates nothing when s is a
// pointer. Layers use it for per-sample work such as drawing dropout masks.
func Split(s Splitter, items, size int) {
	parts := sizedParts(size, items)
	t := tryTeam(parts)
	if t == nil {
		s.RunPart(0, 1)
		return
	}
	t.split.s = s
	t.run(&t.split, parts)
	t.split.s = nil
	t.release()
}

// pairJob runs the two functions of Parallel2 as parts 0 and 1.
type pairJob struct{ a, b func() }

func (j *pairJob) runPart(part, _ int, _ *packBuf) {
	if part == 0 {
		j.a()
	} else {
		j.b()
	}
}

// Parallel2 runs a and b at the same time — a on the calling goroutine, b on
// a worker of the team — and returns when both are done. While they run
// the team is held, so a Sgemm, convolution or large element-wise kernel
// inside a or b computes on its own goroutine: two independent products
// (such as a layer's weight gradient and input gradient) then take one
// core each, with no synchronisation inside either product. The results
// are bitwise those of running a then b, since no kernel's result depends
// on its thread count. With one thread, or when the team is busy (another
// caller's job, or a Parallel2 inside a or b), a and b run one after the
// other on the calling goroutine. Nothing is allocated per call.
func Parallel2(a, b func()) {
	t := tryTeam(min(Threads(), 2))
	if t == nil {
		a()
		b()
		return
	}
	reserveBufs(2)
	t.pair = pairJob{a, b}
	t.run(&t.pair, 2)
	t.pair = pairJob{}
	t.release()
}

// spinLimit bounds how many times a waiting goroutine yields before it
// parks: workers keep polling for a short while after a job so that the
// next one, typically microseconds later in a training step, starts at once.
const spinLimit = 2000

// spinPolls is the number of polls between two yields of a waiting
// goroutine.
const spinPolls = 64

// signal is a wake-up event: post advances a generation counter, wait
// returns once the counter differs from the value the waiter last saw. The
// waiter first polls (yielding the processor between polls), then parks;
// posts never block. One goroutine at a time waits on a signal.
//
// Where the system has pipes the waiter parks reading a pipe of its own
// (see parker): a goroutine blocked on a channel or a lock holds a record
// from the runtime's per-processor caches, which migrate between
// processors and are emptied by garbage collections, so parking on them
// allocates now and then even in a steady state; the network poller parks
// a goroutine without one. Elsewhere it parks on a channel.
type signal struct {
	gen    atomic.Uint32
	parked atomic.Bool
	p      parker        // when open
	ch     chan struct{} // when p could not be opened
}

// init prepares s for use; it is called once, before s is used.
func (s *signal) init() {
	if !s.p.open() {
		s.ch = make(chan struct{}, 1)
	}
}

// ready reports whether init has been called.
func (s *signal) ready() bool { return s.ch != nil || s.p.isOpen() }

// sleep parks until a matching wake.
func (s *signal) sleep() {
	if s.ch != nil {
		<-s.ch
		return
	}
	s.p.park()
}

// wake ends one sleep, now or when it starts.
func (s *signal) wake() {
	if s.ch != nil {
		s.ch <- struct{}{}
		return
	}
	s.p.unpark()
}

func (s *signal) post() {
	s.gen.Add(1)
	if s.parked.CompareAndSwap(true, false) {
		s.wake()
	}
}

// wait blocks until the generation differs from last and returns it.
func (s *signal) wait(last uint32) uint32 {
	for i := 0; i < spinLimit; i++ {
		// Poll a few times between yields: each yield goes through the
		// scheduler's global lock, which the other goroutines also take.
		for j := 0; j < spinPolls; j++ {
			if g := s.gen.Load(); g != last {
				return g
			}
		}
		runtime.Gosched()
	}
	for {
		s.parked.Store(true)
		if g := s.gen.Load(); g != last {
			if !s.parked.CompareAndSwap(true, false) {
				s.sleep() // a post saw us parked and woke us; consume it
			}
			return g
		}
		s.sleep()
		if g := s.gen.Load(); g != last {
			return g
		}
	}
}
