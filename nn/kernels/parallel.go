package kernels

import "sync"

// Parallel2 runs a and b at the same time — a on the calling goroutine, b on
// a persistent helper goroutine — and returns when both are done. While they
// run, the GEMM and work teams are held, so a Sgemm, convolution or large
// element-wise kernel inside a or b computes on its own goroutine: two
// independent products (such as a layer's weight gradient and input
// gradient) then take one core each, with no synchronisation inside either
// product. The results are bitwise those of running a then b, since no
// kernel's result depends on its thread count. With one thread, or when
// another Parallel2 is running, a and b run one after the other.
// Neither a nor b may call Parallel2. Nothing is allocated per call.
func Parallel2(a, b func()) {
	if Threads() < 2 || !thePair.mu.TryLock() {
		a()
		b()
		return
	}
	defer thePair.mu.Unlock()
	thePair.start.Do(func() {
		thePair.wake = newSignal()
		thePair.done = newSignal()
		go thePair.loop()
	})
	theTeam.mu.Lock()
	defer theTeam.mu.Unlock()
	workTeam.mu.Lock()
	defer workTeam.mu.Unlock()
	seen := thePair.done.gen.Load()
	thePair.job = b
	thePair.wake.post()
	a()
	thePair.done.wait(seen)
	thePair.job = nil
}

// pairHelper is the helper goroutine of Parallel2.
type pairHelper struct {
	mu    sync.Mutex
	start sync.Once
	wake  signal
	done  signal
	job   func()
}

var thePair pairHelper

func (p *pairHelper) loop() {
	var seen uint32
	for {
		seen = p.wake.wait(seen)
		p.job()
		p.done.post()
	}
}
