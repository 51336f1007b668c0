package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// A large product runs on the package's team (team.go) as a gemmJob. A
// caller that finds the team busy computes its whole product on its own
// goroutine instead of waiting. Packing buffers belong to the team's
// goroutines (or come from a free list for callers without the team) and
// only grow, so the steady state allocates nothing.

// minParallelFlops is the product size (2·m·n·k) below which Sgemm stays on
// the calling goroutine: waking a worker costs a few microseconds.
const minParallelFlops = 3 << 20

// packBuf holds the packed blocks of A and B and an edge tile for one
// goroutine. Its slices only grow.
type packBuf struct {
	a, b []float32
	tile []float32
	pend []int32 // put-off B panels of the shared mode
}

// ensure grows the buffers to hold na, nb and nt elements.
func (p *packBuf) ensure(na, nb, nt int) {
	if len(p.a) < na {
		p.a = alignedFloats(na)
	}
	if len(p.b) < nb {
		p.b = alignedFloats(nb)
	}
	if len(p.tile) < nt {
		p.tile = alignedFloats(nt)
	}
}

// alignedFloats returns n zeroed float32s starting on a 64-byte boundary.
func alignedFloats(n int) []float32 {
	s := make([]float32, n+16)
	off := int((64 - uintptr(unsafe.Pointer(&s[0]))%64) % 64 / 4)
	return s[off : off+n : off+n]
}

// Free list of packing buffers for goroutines that compute without the
// team: the two halves of a Parallel2, and callers that find the team busy.
// Which goroutine gets which buffer depends on scheduling, so every buffer
// of the list is kept at the largest size any of them has needed
// (bufHigh): a buffer returned larger than the others makes them all grow
// at once, and a new buffer starts at that size. Once each product size
// has run, no buffer grows again, whichever goroutine takes it.
var (
	bufMu   sync.Mutex
	bufFree []*packBuf
	bufMade int     // buffers made, in the list or taken
	bufHigh bufSize // the size every buffer of the list has
)

// bufSize is the size of a packBuf: the lengths of a, b and tile and the
// capacity of pend.
type bufSize struct{ a, b, tile, pend int }

func (p *packBuf) size() bufSize { return bufSize{len(p.a), len(p.b), len(p.tile), cap(p.pend)} }

// grow grows p to at least size z.
func (p *packBuf) grow(z bufSize) {
	p.ensure(z.a, z.b, z.tile)
	if cap(p.pend) < z.pend {
		p.pend = make([]int32, 0, z.pend)
	}
}

// lockBufs takes bufMu without ever parking: the two halves of a
// Parallel2 take it at the same moments, and a goroutine that blocks on a
// lock can allocate (see signal). It is held for a few instructions,
// except while buffers grow before the steady state.
func lockBufs() {
	for !bufMu.TryLock() {
		runtime.Gosched()
	}
}

func getBuf() *packBuf {
	lockBufs()
	defer bufMu.Unlock()
	if n := len(bufFree); n > 0 {
		b := bufFree[n-1]
		bufFree[n-1] = nil
		bufFree = bufFree[:n-1]
		return b
	}
	return newBufLocked()
}

// newBufLocked makes a buffer of size bufHigh. The caller holds bufMu.
func newBufLocked() *packBuf {
	b := new(packBuf)
	b.grow(bufHigh)
	bufMade++
	if cap(bufFree) < bufMade {
		// Room for every buffer, so that putBuf never grows the list.
		free := make([]*packBuf, len(bufFree), 2*bufMade)
		copy(free, bufFree)
		bufFree = free
	}
	return b
}

func putBuf(b *packBuf) {
	lockBufs()
	defer bufMu.Unlock()
	z := b.size()
	if z.a > bufHigh.a || z.b > bufHigh.b || z.tile > bufHigh.tile || z.pend > bufHigh.pend {
		bufHigh = bufSize{max(z.a, bufHigh.a), max(z.b, bufHigh.b), max(z.tile, bufHigh.tile), max(z.pend, bufHigh.pend)}
		for _, f := range bufFree {
			f.grow(bufHigh)
		}
	}
	b.grow(bufHigh)
	bufFree = append(bufFree, b)
}

// reserveBufs makes sure n buffers exist, so that n goroutines computing
// at once (the halves of a Parallel2) never make a new one later.
func reserveBufs(n int) {
	lockBufs()
	defer bufMu.Unlock()
	for bufMade < n {
		bufFree = append(bufFree, newBufLocked())
	}
}

// gemmTask is the block of C one thread computes: rows [i0, i1), columns
// [j0, j1).
type gemmTask struct{ i0, i1, j0, j1 int }

// gemmJob is one product split over the team. In the static mode each
// part computes its own block of C (see splitC) with the packing buffers
// of the goroutine running it. In the shared mode, used when C has enough
// rows, the parts take row blocks of ub rows from an atomic counter until
// none is left, packing A privately; B is packed whole, once, into
// bshared, each micro-panel by whichever part needs it first (panel tracks
// panelEmpty → panelBusy → panelReady). The shared mode packs B once and
// balances the load when a thread is slowed down, without barriers.
type gemmJob struct {
	pp      *gemmParams
	g       gemmArgs
	shared  bool // shared mode
	ub      int  // rows per unit of work in the shared mode
	bshared []float32
	panel   []atomic.Uint32
	next    atomic.Int32 // next unit of work in the shared mode
	tasks   []gemmTask
}

// gemmCur is the product running on the team (guarded by theTeam.mu).
var gemmCur gemmJob

// States of a packed B micro-panel in the shared mode.
const (
	panelEmpty = iota
	panelBusy
	panelReady
)

// sharedUnitsPerThread and sharedMinTiles shape the units of work of the
// shared mode: about sharedUnitsPerThread units per thread, each at least
// sharedMinTiles micro-tiles high (measured on the SmallFCNet products:
// eight units of one tile or more beat four of four tiles by about 3 %).
var sharedUnitsPerThread, sharedMinTiles = 8, 1

// maxSharedB bounds the packed copy of B of the shared mode (elements).
const maxSharedB = 1 << 23

// runPart runs part tid's share of the current product.
func (t *gemmJob) runPart(tid, _ int, buf *packBuf) {
	if t.shared {
		t.sharedWork(buf)
		return
	}
	task := t.tasks[tid]
	gemmPiece(t.pp, buf, &t.g, task.i0, task.i1, task.j0, task.j1)
}

// sharedWork takes units of a shared-mode product until none is left.
func (t *gemmJob) sharedWork(buf *packBuf) {
	pp, g, ub := t.pp, &t.g, t.ub
	mr, nr := pp.mr, pp.nr
	kcb := kBlock(pp, g.k)
	np := (g.n + nr - 1) / nr
	npad := np * nr
	units := int32((g.m + ub - 1) / ub)
	buf.ensure(ub*kcb+packSlack, 0, mr*nr)
	if cap(buf.pend) < np {
		buf.pend = make([]int32, 0, np)
	}
	for {
		u := t.next.Add(1) - 1
		if u >= units {
			return
		}
		ic := int(u) * ub
		mc := min(ub, g.m-ic)
		for s, pc := 0, 0; pc < g.k; s, pc = s+1, pc+kcb {
			kc := min(kcb, g.k-pc)
			beta := g.beta
			if pc > 0 {
				beta = 1
			}
			packA(buf.a, g, pp, ic, mc, pc, kc)
			// Panels being packed by another thread are put off until
			// the others are done; the order of panels does not matter.
			pend := buf.pend[:0]
			for p := 0; p < np; p++ {
				off := pc*npad + p*nr*kc
				bp := t.bshared[off : off+nr*kc]
				cols := min(nr, g.n-p*nr)
				if !t.claimPanel(&t.panel[s*np+p], bp, pc, kc, p*nr, cols) {
					pend = append(pend, int32(p))
					continue
				}
				macroKernel(pp, buf.a, bp, buf.tile, g, ic, mc, p*nr, cols, kc, beta)
			}
			for _, p32 := range pend {
				p := int(p32)
				off := pc*npad + p*nr*kc
				bp := t.bshared[off : off+nr*kc]
				waitPanel(&t.panel[s*np+p])
				macroKernel(pp, buf.a, bp, buf.tile, g, ic, mc, p*nr, min(nr, g.n-p*nr), kc, beta)
			}
		}
	}
}

// claimPanel reports whether the B micro-panel bp (depths [pc, pc+kc),
// columns [j, j+cols)) is packed, packing it if no thread has started to:
// it returns false only while another thread is packing it.
func (t *gemmJob) claimPanel(st *atomic.Uint32, bp []float32, pc, kc, j, cols int) bool {
	switch st.Load() {
	case panelReady:
		return true
	case panelBusy:
		return false
	}
	if st.CompareAndSwap(panelEmpty, panelBusy) {
		packB(bp, &t.g, t.pp, pc, kc, j, cols)
		st.Store(panelReady)
		return true
	}
	return st.Load() == panelReady
}

// waitPanel waits until another thread has packed a B micro-panel.
func waitPanel(st *atomic.Uint32) {
	for i := 0; st.Load() != panelReady; i++ {
		if i >= 64 {
			runtime.Gosched()
		}
	}
}

// setup prepares the product g for nt parts.
func (t *gemmJob) setup(pp *gemmParams, g *gemmArgs, nt int) {
	t.pp = pp
	t.g = *g
	t.ub, t.shared = sharedRows(pp, g, nt)
	if t.shared {
		np := (g.n + pp.nr - 1) / pp.nr
		if len(t.bshared) < g.k*np*pp.nr {
			t.bshared = alignedFloats(g.k * np * pp.nr)
		}
		npanels := (g.k + kBlock(pp, g.k) - 1) / kBlock(pp, g.k) * np
		if len(t.panel) < npanels {
			t.panel = make([]atomic.Uint32, npanels)
		}
		for i := range t.panel[:npanels] {
			t.panel[i].Store(panelEmpty)
		}
		t.next.Store(0)
		return
	}
	if cap(t.tasks) < nt {
		t.tasks = make([]gemmTask, nt)
	}
	t.tasks = t.tasks[:nt]
	splitC(pp, g, t.tasks)
}

// sharedRows returns the rows per unit of work of the shared mode for
// product g on nt threads, and whether that mode applies: it aims at
// sharedUnitsPerThread units per thread (small units keep the threads
// finishing together), needs at least two units per thread of at least
// sharedMinTiles micro-tiles each, and a packed B of at most maxSharedB
// elements.
func sharedRows(pp *gemmParams, g *gemmArgs, nt int) (int, bool) {
	ub := (g.m + sharedUnitsPerThread*nt - 1) / (sharedUnitsPerThread * nt)
	ub = (ub + pp.mr - 1) / pp.mr * pp.mr
	ub = max(sharedMinTiles*pp.mr, min(ub, pp.mc))
	units := (g.m + ub - 1) / ub
	np := (g.n + pp.nr - 1) / pp.nr
	if units < 2*nt || g.k*np*pp.nr > maxSharedB {
		return ub, false
	}
	// The units are whole rows of tiles: when their number does not
	// divide among the threads, a grid of blocks (static mode) may give
	// the busiest thread clearly fewer tiles (by 5 % or more: the shared
	// mode packs B once and balances a slowed thread); take it then, as
	// for the 13 tile rows of a batch of 150 on two threads. Both modes
	// give the same bits.
	mt := (g.m + pp.mr - 1) / pp.mr
	ut := ub / pp.mr
	busiest := 0 // tiles of the busiest thread, units dealt in turn
	for t := 0; t < nt; t++ {
		rows := 0
		for u := t; u < units; u += nt {
			rows += min(ut, mt-u*ut)
		}
		busiest = max(busiest, rows*np)
	}
	return ub, 100*staticBusiest(pp, g, nt) > 95*busiest
}

// staticBusiest returns the micro-tiles of the largest block of the grid
// splitC chooses for nt threads.
func staticBusiest(pp *gemmParams, g *gemmArgs, nt int) int {
	var tasks [8]gemmTask
	if nt > len(tasks) {
		return 0 // many threads: keep the shared mode
	}
	splitC(pp, g, tasks[:nt])
	most := 0
	for _, t := range tasks[:nt] {
		rows := (t.i1 - t.i0 + pp.mr - 1) / pp.mr
		cols := (t.j1 - t.j0 + pp.nr - 1) / pp.nr
		most = max(most, rows*cols)
	}
	return most
}

// sgemmRun computes the checked product g, in parallel when it is large.
func sgemmRun(pp *gemmParams, g *gemmArgs) {
	nt := numThreads(pp, g)
	if t := tryTeam(nt); t != nil {
		gemmCur.setup(pp, g, nt)
		t.run(&gemmCur, nt)
		// Drop references to the caller's matrices.
		gemmCur.g.a, gemmCur.g.b, gemmCur.g.c = nil, nil, nil
		t.release()
		return
	}
	buf := getBuf()
	gemmPiece(pp, buf, g, 0, g.m, 0, g.n)
	putBuf(buf)
}

// numThreads returns how many threads product g should use.
func numThreads(pp *gemmParams, g *gemmArgs) int {
	flops := 2 * float64(g.m) * float64(g.n) * float64(g.k)
	if flops < minParallelFlops {
		return 1
	}
	nt := min(Threads(), int(flops/minParallelFlops)*2)
	tiles := ((g.m + pp.mr - 1) / pp.mr) * ((g.n + pp.nr - 1) / pp.nr)
	return max(1, min(nt, tiles))
}

// splitC divides C among len(tasks) threads as a grid of tm×tn blocks whose
// edges fall on micro-tile boundaries, choosing the grid that minimises the
// largest block's work (multiply-adds plus packing).
func splitC(pp *gemmParams, g *gemmArgs, tasks []gemmTask) {
	nt := len(tasks)
	mt := (g.m + pp.mr - 1) / pp.mr
	ntl := (g.n + pp.nr - 1) / pp.nr
	bestTm, bestCost := 0, 0.0
	for tm := 1; tm <= nt; tm++ {
		if nt%tm != 0 {
			continue
		}
		tn := nt / tm
		if tm > mt || tn > ntl {
			continue
		}
		rows := float64((mt + tm - 1) / tm * pp.mr)
		cols := float64((ntl + tn - 1) / tn * pp.nr)
		k := float64(g.k)
		cost := rows*cols*k + 8*(rows+cols)*k
		if bestTm == 0 || cost < bestCost {
			bestTm, bestCost = tm, cost
		}
	}
	if bestTm == 0 {
		// No grid fits (cannot happen: numThreads caps nt by the tile
		// count and nt ≤ 2 on this code's targets); fall back to one
		// block row per thread with empty tasks past the tiles.
		bestTm = nt
	}
	tm, tn := bestTm, nt/bestTm
	for r := 0; r < tm; r++ {
		i0 := min(g.m, r*mt/tm*pp.mr)
		i1 := min(g.m, (r+1)*mt/tm*pp.mr)
		for c := 0; c < tn; c++ {
			j0 := min(g.n, c*ntl/tn*pp.nr)
			j1 := min(g.n, (c+1)*ntl/tn*pp.nr)
			tasks[r*tn+c] = gemmTask{i0, i1, j0, j1}
		}
	}
}
