package kernels

import "math"

// The direct convolution path. For stride-1 convolutions whose output rows
// are a whole number of vectors (8 floats on the AVX2 path, 16 on the
// AVX-512 path; on the NEON path, rows of a multiple of 8 floats in vectors
// of 4; see convKernels), the forward pass (and the data
// gradient, a forward convolution with flipped filters) and the filter
// gradient run as implicit GEMMs on the zero-padded input: a table gives,
// for every lowered row (c, i, j), the offset c·hp·wp + i·wp + j of its
// window in the padded sample, so the tile kernels read the lowered
// matrix straight from the padded input and nothing is unfolded or packed
// per output. The work of a chunk is split over Threads() goroutines of the
// team (team.go; a call that finds the team busy runs on its own
// goroutine).

// convDirect enables the direct path (tests and benchmarks turn it off to
// exercise or measure the lowered path).
var convDirect = true

// ConvDirectGroup is the number of samples the direct path pads and
// processes together; scratch holds that many padded samples. It is read by
// ConvScratchSize, so change it only before sizing scratch.
var ConvDirectGroup = 16

// convKernels describes the direct path's tile kernels of one kernel path:
// they work on vectors of lanes floats, and their meanings are
// convFwdTileRef, convFilterTilesRef and convFilterTile26Ref with that lane
// width. The kernels are called directly (convFwdTileAsm and the others,
// which select them by lane width), not through function values: the
// filter kernels write to arrays on the caller's stack, which an indirect
// call would move to the heap.
type convKernels struct {
	lanes int // floats per vector
	vecs  int // vectors per forward tile (at most convMaxVecs)
	small int // vectors of a narrower tile ending a sample's row of tiles (0: none)
	frows int // lowered rows per filter tile (3 or 6) when there are that many
}

// filterRows returns the lowered rows per filter-gradient tile of ck for
// geometry g.
func (ck *convKernels) filterRows(g convGeom) int {
	if g.rows() >= ck.frows {
		return ck.frows
	}
	return 3
}

// convMaxVecs is the largest number of vectors of a forward tile.
const convMaxVecs = 6

// convTable holds the direct path's kernels of each path; nil entries (the
// generic path, and every path of a pure-Go build) have no direct path.
// Assembly builds fill it at start-up.
var convTable [numPaths]*convKernels

// convKernelsFor returns the direct path's kernels for geometry g on the
// active path, or nil if g does not run on the direct path. Output rows
// that are not a whole number of the active path's vectors run on the
// narrower AVX2 kernels when they fit those. On every path output rows
// must be a multiple of 8 floats, the rows for which ConvScratchSize sizes
// the direct path's scratch (fwdSize), even where vectors are narrower
// (NEON's four floats).
func convKernelsFor(g convGeom) *convKernels {
	if !convDirect || g.st != 1 || g.ow%8 != 0 {
		return nil
	}
	ck := convTable[active]
	if ck != nil && g.ow%ck.lanes != 0 && active == AVX512 {
		ck = convTable[AVX2]
	}
	if ck == nil || g.ow%ck.lanes != 0 {
		return nil
	}
	return ck
}

// convDirectFwdOK reports whether the forward convolution of geometry g
// runs on the direct path.
func convDirectFwdOK(g convGeom) bool { return convKernelsFor(g) != nil }

// convDirectFilterOK reports whether the filter gradient of geometry g runs
// on the direct path.
func convDirectFilterOK(g convGeom) bool {
	return convKernelsFor(g) != nil && convDirectFilterShapeOK(g)
}

// convDirectFilterShapeOK reports whether the filter gradient of geometry
// g fits the direct path's tiles.
func convDirectFilterShapeOK(g convGeom) bool {
	if g.st != 1 || g.ow%8 != 0 {
		return false
	}
	return convUse26(g) || (g.kout >= 4 && g.rows() >= 3)
}

// convFilter26 selects the filter-gradient tiles of two channels by six
// lowered rows for every shape they fit. By default they serve only layers
// with two or three output channels: the four-by-three tiles need fewer
// unaligned loads per multiply-add and measured as fast or faster.
var convFilter26 = false

// convUse26 reports whether the filter gradient of g uses the 2×6 tiles.
func convUse26(g convGeom) bool {
	return (convFilter26 || g.kout < 4) && g.kout >= 2 && g.rows() >= 6
}

// convFilterItems is the number of tiles of the filter gradient with
// tiles of four channels by np lowered rows (or the 2×6 tiles).
func convFilterItems(g convGeom, np int) int {
	if convUse26(g) {
		return ((g.kout + 1) / 2) * ((g.rows() + 5) / 6)
	}
	return ((g.kout + 3) / 4) * ((g.rows() + np - 1) / np)
}

// convKTile returns the first channel of the four-channel tile covering
// channel k: tiles start at multiples of four, the last one moved back to
// end at kout (kout >= 4).
func convKTile(kout, k int) int { return min(k, kout-4) }

// convPackedSize is the size of the packed filters of the direct forward
// path.
func convPackedSize(g convGeom) int { return (max(g.kout, 4) + 3) * g.rows() }

// directFwdScratch is the scratch of convDirectFwd for n samples.
func (g convGeom) directFwdScratch(n int) int {
	sz := convPackedSize(g) + g.rows() + max(g.kout, 4)
	if g.padded() {
		sz += min(n, ConvDirectGroup) * g.padSize()
	}
	if g.kout < 4 {
		sz += min(n, ConvDirectGroup) * 4 * g.p()
	}
	return sz
}

// directFilterScratch is the scratch of convDirectFilter for n samples.
func (g convGeom) directFilterScratch(n int) int {
	sz := g.rows()
	if g.padded() {
		sz += min(n, ConvDirectGroup) * g.padSize()
	}
	return sz
}

// convOffsets fills offs with the offsets of the lowered rows in a padded
// sample of width wp and height hp, stored as int32 bit patterns.
func convOffsets(offs []float32, g convGeom, hp, wp int) {
	r := 0
	for c := 0; c < g.cin; c++ {
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				offs[r] = math.Float32frombits(uint32(int32(c*hp*wp + i*wp + j)))
				r++
			}
		}
	}
}

// convDirectFwd computes y = wm·col(x) + bias for geometry g on the direct
// path; wm is the kout×rows filter matrix and bias may be nil.
func convDirectFwd(g convGeom, n int, x, wm, bias, y, scratch []float32) {
	rows, p := g.rows(), g.p()
	// Fewer than four output channels run as four, the extra channels
	// with zero filters and written to a staging buffer.
	kt := max(g.kout, 4)
	wpk := scratch[:convPackedSize(g)]
	offs := scratch[len(wpk) : len(wpk)+rows]
	bz := scratch[len(wpk)+rows : len(wpk)+rows+kt]
	xp := scratch[len(wpk)+rows+kt:]
	grp := min(n, ConvDirectGroup)
	var stage []float32
	if g.kout < 4 {
		stage = xp[:grp*4*p]
		xp = xp[grp*4*p:]
	}
	off := 0
	for k := 0; k < kt; k += 4 {
		k0 := convKTile(kt, k)
		for q := 0; q < rows; q++ {
			for i := 0; i < 4; i++ {
				var v float32
				if k0+i < g.kout {
					v = wm[(k0+i)*rows+q]
				}
				wpk[off+q*4+i] = v
			}
		}
		off += 4 * rows
	}
	clear(bz)
	if bias != nil {
		copy(bz, bias[:g.kout])
	}
	hp, wp := g.h, g.w
	if g.padded() {
		hp, wp = g.hp(), g.wp()
	}
	convOffsets(offs, g, hp, wp)
	inSz := g.cin * g.h * g.w
	gt := g
	gt.kout = kt
	for s0 := 0; s0 < n; s0 += grp {
		gs := min(grp, n-s0)
		t := convTask{kind: convTaskFwd, ck: convKernelsFor(g), g: gt, gs: gs, wpk: wpk, offs: offs, bias: bz, hp: hp, wp: wp}
		if stage != nil {
			t.y = stage[:gs*4*p]
		} else {
			t.y = y[s0*g.kout*p : (s0+gs)*g.kout*p]
		}
		if g.padded() {
			t.src = x[s0*inSz : (s0+gs)*inSz]
			t.xp = xp[:gs*g.padSize()]
			t.kind = convTaskPad
			convRun(&t, gs)
			t.kind = convTaskFwd
		} else {
			t.xp = x[s0*inSz : (s0+gs)*inSz]
		}
		convRun(&t, gs*convFwdTiles(g, t.ck))
		for j := 0; stage != nil && j < gs; j++ {
			copy(y[(s0+j)*g.kout*p:(s0+j+1)*g.kout*p], stage[j*4*p:])
		}
	}
}

// convFwdTiles is the number of position tiles (ck.vecs vectors of
// ck.lanes floats) of one sample.
func convFwdTiles(g convGeom, ck *convKernels) int {
	return (g.p()/ck.lanes + ck.vecs - 1) / ck.vecs
}

// convDirectFilter accumulates the filter gradient dw += dy·col(x)ᵀ of
// shape s on the direct path.
func convDirectFilter(s ConvShape, n int, x, dy, dw, scratch []float32) {
	g := s.convGeom()
	rows := g.rows()
	offs := scratch[:rows]
	xp := scratch[rows:]
	hp, wp := g.h, g.w
	if g.padded() {
		hp, wp = g.hp(), g.wp()
	}
	convOffsets(offs, g, hp, wp)
	inSz, outSz := s.InSize(), s.OutSize()
	grp := min(n, ConvDirectGroup)
	ck := convKernelsFor(g)
	items := convFilterItems(g, ck.filterRows(g))
	for s0 := 0; s0 < n; s0 += grp {
		gs := min(grp, n-s0)
		t := convTask{kind: convTaskFilter, ck: ck, g: g, gs: gs, offs: offs, hp: hp, wp: wp,
			dy: dy[s0*outSz : (s0+gs)*outSz], dw: dw}
		if g.padded() {
			t.src = x[s0*inSz : (s0+gs)*inSz]
			t.xp = xp[:gs*g.padSize()]
			t.kind = convTaskPad
			convRun(&t, gs)
			t.kind = convTaskFilter
		} else {
			t.xp = x[s0*inSz : (s0+gs)*inSz]
		}
		convRun(&t, items)
	}
}

const (
	convTaskPad = iota
	convTaskFwd
	convTaskFilter
)

// convTask is one parallel step of the direct path over a group of gs
// samples.
type convTask struct {
	kind   int
	ck     *convKernels // fwd, filter: the tile kernels
	g      convGeom
	gs     int
	hp, wp int       // padded height and width of xp's samples
	src    []float32 // pad: the group's unpadded input
	xp     []float32 // the group's (padded) input
	wpk    []float32 // fwd: packed filters
	offs   []float32 // lowered-row offsets (int32 bits)
	bias   []float32 // fwd: bias (or zeros)
	y      []float32 // fwd: the group's output
	dy, dw []float32 // filter: the group's output gradient; the filter gradient
	items  int       // size of the work list (set by convRun)
}

// run executes part part of parts of the task: the items
// [part·items/parts, (part+1)·items/parts) of its work list (samples to
// pad for convTaskPad).
func (t *convTask) run(part, parts, items int) {
	i0, i1 := part*items/parts, (part+1)*items/parts
	switch t.kind {
	case convTaskPad:
		g := t.g
		inSz, padSz := g.cin*g.h*g.w, g.padSize()
		for j := i0; j < i1; j++ {
			convPadCopy(t.xp[j*padSz:(j+1)*padSz], t.src[j*inSz:(j+1)*inSz], g.cin, g.h, g.w, g.ph, g.pw)
		}
	case convTaskFwd:
		t.fwd(i0, i1)
	case convTaskFilter:
		t.filter(i0, i1)
	}
}

// convFwdBlock is the number of position tiles the forward pass runs
// through one channel tile before moving to the next, so that the tile's
// filters stay in L1 while the block's input is reused from L1/L2.
const convFwdBlock = 8

// convFwdRows is the number of lowered rows (filter taps) a forward tile
// sums before its partial result is stored and the next rows are added,
// so that a tile's filters and input window stay in L1.
var convFwdRows = 400

// fwd computes the position tiles [i0, i1) (sample-major) for every
// output channel.
func (t *convTask) fwd(i0, i1 int) {
	g := t.g
	rows, p := g.rows(), g.p()
	lanes, vecs := t.ck.lanes, t.ck.vecs
	nv := p / lanes
	ntr := (nv + vecs - 1) / vecs
	sampleSz := g.cin * t.hp * t.wp
	outSz := g.kout * p
	// Split the rows evenly into blocks of at most convFwdRows.
	nrb := (rows + convFwdRows - 1) / convFwdRows
	// The last tile of a sample has the vectors left over; when they are
	// few it runs the narrower kernel (ck.small vectors) instead of
	// repeating vectors.
	lastVecs := vecs
	if r := nv - vecs*(ntr-1); t.ck.small > 0 && r <= t.ck.small {
		lastVecs = t.ck.small
	}
	var xs, ys [convFwdBlock][convMaxVecs]int // the block's x and y (channel 0) indices
	var yk [convFwdBlock][convMaxVecs]int     // the y indices at the current channel tile
	var nvs [convFwdBlock]int                 // the block's vectors per tile
	lastOff := convOff(t.offs, rows-1)        // offsets increase
	for b0 := i0; b0 < i1; b0 += convFwdBlock {
		b1 := min(b0+convFwdBlock, i1)
		xm, ym := 0, 0
		for it := b0; it < b1; it++ {
			j, tr := it/ntr, it%ntr
			nvs[it-b0] = vecs
			if tr == ntr-1 {
				nvs[it-b0] = lastVecs
			}
			for v := range nvs[it-b0] {
				pos := lanes * min(vecs*tr+v, nv-1)
				xs[it-b0][v] = j*sampleSz + (pos/g.ow)*t.wp + pos%g.ow
				ys[it-b0][v] = j*outSz + pos
				xm, ym = max(xm, xs[it-b0][v]), max(ym, ys[it-b0][v])
			}
		}
		// The bounds of every tile of the block, checked once (indices are
		// not negative by construction): the kernels below read x up to
		// the largest index plus the last row's offset and write y up to
		// the last channel's row of the largest index.
		_ = t.xp[xm+lastOff+lanes-1]
		_ = t.y[ym+(g.kout-1)*p+lanes-1]
		off := 0
		for k := 0; k < g.kout; k += 4 {
			// The row blocks of a channel tile run back to back: the last
			// tile may overlap the previous one, and rewriting the shared
			// channels from the bias must precede adding the later blocks.
			k0 := convKTile(g.kout, k)
			bias := t.bias[k0 : k0+4]
			kp := k0 * p
			for b := range b1 - b0 {
				for v := range nvs[b] {
					yk[b][v] = ys[b][v] + kp
				}
			}
			for rb := 0; rb < nrb; rb++ {
				r0, r1 := rb*rows/nrb, (rb+1)*rows/nrb
				w := t.wpk[off+4*r0 : off+4*r1]
				offs := t.offs[r0:r1]
				for b := range b1 - b0 {
					convFwdTileAsm(t.ck, nvs[b], r1-r0, w, offs, t.xp, &xs[b], bias, t.y, &yk[b], p, rb > 0)
				}
			}
			off += 4 * rows
		}
	}
}

// convFilterPositions is the number of output positions (whole samples)
// the filter gradient sweeps with every tile before moving on, so that the
// output gradient and the input they touch stay in L2.
var convFilterPositions = 1024

// filter computes the (channel tile, lowered-row tile) items [i0, i1)
// (channel-tile-major) of the filter gradient over the group's samples.
func (t *convTask) filter(i0, i1 int) {
	g := t.g
	rows, p := g.rows(), g.p()
	sampleSz := g.cin * t.hp * t.wp
	sg := max(1, convFilterPositions/p)
	ck := t.ck
	nv := g.ow / ck.lanes
	np := ck.filterRows(g)
	npt := (rows + np - 1) / np
	var out [24]float32
	if convUse26(g) {
		npt := (rows + 5) / 6
		var offs [6]int
		for sb := 0; sb < t.gs; sb += sg {
			ns := min(sg, t.gs-sb)
			xs := t.xp[sb*sampleSz:]
			dys := t.dy[sb*g.kout*p:]
			for it := i0; it < i1; it++ {
				ki, pi := it/npt, it%npt
				k0 := min(2*ki, g.kout-2)
				p0 := min(6*pi, rows-6)
				for j := range offs {
					offs[j] = convOff(t.offs, p0+j)
				}
				convFilterTile26(ck, ns, xs, sampleSz, offs[:], dys[k0*p:], g.kout*p, p, g.oh, nv, t.wp, out[:])
				addEdgeTile(t.dw, rows, out[:], 2, 6, k0, p0, 2*ki, 6*pi)
			}
		}
		return
	}
	for sb := 0; sb < t.gs; sb += sg {
		ns := min(sg, t.gs-sb)
		xs := t.xp[sb*sampleSz:]
		dys := t.dy[sb*g.kout*p:]
		for it := i0; it < i1; it++ {
			ki, pi := it/npt, it%npt
			// Whole tiles (not moved back at the channel or row edge) of
			// the same channel tile run as one call.
			if full := min(i1-it, rows/np-pi); 4*ki+4 <= g.kout && full > 0 {
				convFilterTiles(ck, np, ns, xs, sampleSz, t.offs, np*pi, full, dys[4*ki*p:], g.kout*p, p, g.oh, nv, t.wp, t.dw, 4*ki, rows)
				it += full - 1
				continue
			}
			// A tile moved back overlaps its neighbour: its sums go to out
			// (a 4×np "gradient" holding −0, so that out receives each sum
			// exactly) and only the entries no other tile covers are added.
			k0 := min(4*ki, g.kout-4)
			p0 := min(np*pi, rows-np)
			for j := range out[:4*np] {
				out[j] = negZero
			}
			convFilterTiles(ck, np, ns, xs, sampleSz, t.offs[p0:], 0, 1, dys[k0*p:], g.kout*p, p, g.oh, nv, t.wp, out[:4*np], 0, np)
			addEdgeTile(t.dw, rows, out[:4*np], 4, np, k0, p0, 4*ki, np*pi)
		}
	}
}

// addEdgeTile adds the sums out (nk channels by np lowered rows,
// channel-major) of a filter tile placed at channel k0 and row p0 into dw
// (row stride rows), skipping the channels below kFrom and the rows below
// pFrom: a tile moved back at an edge overlaps its neighbour there.
func addEdgeTile(dw []float32, rows int, out []float32, nk, np, k0, p0, kFrom, pFrom int) {
	for i := 0; i < nk; i++ {
		k := k0 + i
		if k < kFrom {
			continue
		}
		d := dw[k*rows : (k+1)*rows]
		for j := 0; j < np; j++ {
			if pp := p0 + j; pp >= pFrom {
				d[pp] += out[np*i+j]
			}
		}
	}
}

// negZero is −0, the float32 x with x + s == s for every s.
var negZero = float32(math.Copysign(0, -1))

// convCur is the convolution step running on the team (guarded by
// theTeam.mu).
var convCur convTask

// runPart runs part part of parts of the task's items.
func (t *convTask) runPart(part, parts int, _ *packBuf) { t.run(part, parts, t.items) }

// convRun runs task t, whose work list has items items, split over up to
// Threads() goroutines of the team.
func convRun(t *convTask, items int) {
	parts := min(Threads(), items)
	tm := tryTeam(parts)
	if tm == nil {
		t.run(0, 1, items)
		return
	}
	convCur = *t
	convCur.items = items
	tm.run(&convCur, parts)
	convCur = convTask{}
	tm.release()
}

// convOff reads the int32 offset stored in offs[i].
func convOff(offs []float32, i int) int { return int(int32(math.Float32bits(offs[i]))) }

// convFwdTile checks the bounds of one forward tile (four output channels
// by nv vectors of ck.lanes positions, the first nv entries of xv and yv;
// nv is ck.vecs or ck.small) and runs ck's kernel. See convFwdTileRef for
// its meaning.
func convFwdTile(ck *convKernels, nv, k int, w, offs, x []float32, xv *[convMaxVecs]int, bias, y []float32, yv *[convMaxVecs]int, ldy int, acc bool) {
	if nv != ck.vecs && (nv != ck.small || nv == 0) {
		panic("kernels: bad conv tile width")
	}
	_ = w[4*k-1]
	last := convOff(offs, k-1) // offsets increase
	xm, ym := 0, 0
	for v := range nv {
		if xv[v] < 0 || yv[v] < 0 {
			panic("kernels: negative conv tile index")
		}
		xm, ym = max(xm, xv[v]), max(ym, yv[v])
	}
	_ = x[xm+last+ck.lanes-1]
	_ = bias[3]
	_ = y[ym+3*ldy+ck.lanes-1]
	convFwdTileAsm(ck, nv, k, w, offs, x, xv, bias, y, yv, ldy, acc)
}

// convFwdTileRef is the meaning of the forward tile kernels with vectors
// of lanes floats: for i < 4 and the vectors v < len(xv) (x index xv[v], y
// index yv[v]), y[yv+i*ldy+l] = s + Σ_{p<k} w[p*4+i]·x[xv+offs[p]+l],
// l < lanes, where s is bias[i], or the value y[yv+i*ldy+l] held before the
// call when acc. The kernels fuse each multiply-add (p ascending).
func convFwdTileRef(lanes, k int, w, offs, x []float32, xvs []int, bias, y []float32, ys []int, ldy int, acc bool) {
	for v, xv := range xvs {
		for i := 0; i < 4; i++ {
			for l := 0; l < lanes; l++ {
				sum := bias[i]
				if acc {
					sum = y[ys[v]+i*ldy+l]
				}
				for p := 0; p < k; p++ {
					sum += w[p*4+i] * x[xv+convOff(offs, p)+l]
				}
				y[ys[v]+i*ldy+l] = sum
			}
		}
	}
}

// convFilterTiles runs nt consecutive filter tiles of channels
// [k0, k0+4) by np (3, or ck.frows) lowered rows, over lowered rows
// [p0, p0+np·nt), with ck's kernel and adds them into the filter gradient
// dw (row stride ldw): dw[(k0+i)·ldw+p0+np·t+j] += the sum of tile t as
// convFilterTileRef computes it, with output rows of nv vectors of
// ck.lanes floats. The offsets in offs increase with the row.
func convFilterTiles(ck *convKernels, np, ns int, x []float32, xs int, offs []float32, p0, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, k0, ldw int) {
	if ns < 1 || rows < 1 || nv < 1 || nt < 1 || p0 < 0 || k0 < 0 || (np != 3 && np != ck.frows) {
		panic("kernels: bad conv filter tiles")
	}
	offs = offs[p0 : p0+np*nt]
	if convOff(offs, 0) < 0 {
		panic("kernels: bad conv filter offsets")
	}
	_ = x[(ns-1)*xs+convOff(offs, np*nt-1)+(rows-1)*wp+ck.lanes*nv-1]
	_ = dy[(ns-1)*dys+3*ldk+rows*ck.lanes*nv-1]
	dw = dw[k0*ldw+p0 : (k0+3)*ldw+p0+np*nt]
	convFilterTilesAsm(ck.lanes, np, ns, x, xs, offs, nt, dy, dys, ldk, rows, nv, wp, dw, ldw)
}

// convFilterTilesRef is the meaning of the filterTiles kernels with vectors
// of lanes floats and tiles of np rows: for t < nt, i < 4 and j < np,
// dw[i*ldw+np·t+j] += the sum out[np·i+j] of convFilterTileRef for the rows
// at offsets offs[np·t:np·t+np]. The kernels accumulate each sum in lanes
// partial sums (one fused multiply-add per product) added together at the
// end.
func convFilterTilesRef(lanes, np, ns int, x []float32, xs int, offs []float32, nt int, dy []float32, dys, ldk, rows, nv, wp int, dw []float32, ldw int) {
	out := make([]float32, 4*np)
	o := make([]int, np)
	for t := 0; t < nt; t++ {
		for j := range o {
			o[j] = convOff(offs, np*t+j)
		}
		convFilterTileRef(lanes, ns, x, xs, o, dy, dys, ldk, rows, nv, wp, out)
		for i := 0; i < 4; i++ {
			for j := 0; j < np; j++ {
				dw[i*ldw+np*t+j] += out[np*i+j]
			}
		}
	}
}

// convFilterTileRef is one tile of convFilterTilesRef: the sums of four
// output channels by the lowered rows at offsets o (convFilterRef).
func convFilterTileRef(lanes, ns int, x []float32, xs int, o []int, dy []float32, dys, ldk, rows, nv, wp int, out []float32) {
	convFilterRef(lanes, 4, o, ns, x, xs, dy, dys, ldk, rows, nv, wp, out)
}

// convFilterRef is the meaning of the filter-gradient tile kernels, for nk
// output channels by len(offs) lowered rows and output rows of nv vectors
// of lanes floats (w = lanes·nv positions): for i < nk and j < len(offs),
// out[len(offs)·i+j] = Σ_{s<ns} Σ_{r<rows} Σ_{q<w}
// dy[s*dys+i*ldk+r*w+q] · x[s*xs+offs[j]+r*wp+q].
func convFilterRef(lanes, nk int, offs []int, ns int, x []float32, xs int, dy []float32, dys, ldk, rows, nv, wp int, out []float32) {
	w := lanes * nv
	for i := 0; i < nk; i++ {
		for j, o := range offs {
			var acc float32
			for s := 0; s < ns; s++ {
				for r := 0; r < rows; r++ {
					for q := 0; q < w; q++ {
						acc += dy[s*dys+i*ldk+r*w+q] * x[s*xs+o+r*wp+q]
					}
				}
			}
			out[len(offs)*i+j] = acc
		}
	}
}

// convFilterTile26 checks the bounds of one filter-gradient tile of two
// output channels by six lowered rows and runs ck's kernel. See
// convFilterTile26Ref for its meaning.
func convFilterTile26(ck *convKernels, ns int, x []float32, xs int, offs []int, dy []float32, dys, ldk, rows, nv, wp int, out []float32) {
	w := ck.lanes * nv
	if ns < 1 || rows < 1 || nv < 1 || wp < w || min(offs[0], offs[1], offs[2], offs[3], offs[4], offs[5]) < 0 {
		panic("kernels: bad conv filter tile")
	}
	_ = x[(ns-1)*xs+max(offs[0], offs[1], offs[2], offs[3], offs[4], offs[5])+(rows-1)*wp+w-1]
	_ = dy[(ns-1)*dys+ldk+rows*w-1]
	_ = out[11]
	convFilterTile26Asm(ck.lanes, ns, x, offs[:6], xs-rows*wp, dy, ldk, dys-rows*w, rows, nv, wp-w, out)
}

// convFilterTile26Ref is the meaning of the filterTile26 kernels with
// vectors of lanes floats: for i < 2 and j < 6, out[6i+j] = Σ_{s<ns}
// Σ_{r<rows} Σ_{q<lanes·nv} dy[s*dys+i*ldk+r*lanes·nv+q] ·
// x[s*xs+offs[j]+r*wp+q], accumulated like convFilterTilesRef.
func convFilterTile26Ref(lanes, ns int, x []float32, xs int, offs []int, dy []float32, dys, ldk, rows, nv, wp int, out []float32) {
	convFilterRef(lanes, 2, offs[:6], ns, x, xs, dy, dys, ldk, rows, nv, wp, out)
}
