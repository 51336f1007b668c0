package inject

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/spadlab/spad/nn/kernels"
	"github.com/spadlab/spad/nn/rng"
)

// Kind is a family of random injection matrices P with E[P·Pᵀ] = I.
type Kind int

const (
	// Project is a dense Rademacher projection with entries ±1/√K.
	Project Kind = iota
	// SameSample keeps the same uniform K-subset of the F features in every
	// row, scaled by F/K.
	SameSample
	// DiffSample keeps an independent uniform K-subset of the F features in
	// every row, scaled by F/K.
	DiffSample
)

var kindNames = [...]string{Project: "project", SameSample: "same-sample", DiffSample: "diff-sample"}

// String returns the name ParseKind accepts.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind parses "project", "same-sample" or "diff-sample".
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if s == n {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("inject: unknown projection kind %q (valid: %s)", s, strings.Join(kindNames[:], ", "))
}

// maxFeatures is the largest F supported: sampled indices are kept in float32
// scratch, which represents every integer up to 2^24 exactly.
const maxFeatures = 1 << 24

// KeepToK returns K = ⌈keep·F⌉ clamped to [1, F]. A relative tolerance of
// 1e-9 absorbs rounding, so that keep = 0.1 and F = 300 give K = 30.
func KeepToK(keep float64, f int) int {
	k := int(math.Ceil(keep*float64(f)*(1-1e-9) - 1e-12))
	if k < 1 {
		k = 1
	}
	if k > f {
		k = f
	}
	return k
}

// Projector compresses rows of F features to K values and rebuilds unbiased
// estimates of them. It holds no random state: every method takes the
// rng.Key of its matrix, so forward and backward regenerate the same P from
// the same key. All methods are allocation-free and need a caller-provided
// scratch buffer of at least ScratchSize floats.
//
// Matrices are row-major float32: x and x̂ are rows×F, c is rows×K, δ is
// rows×out and dW is out×F. rowOffset is the global index of the first row
// (it matters only for DiffSample, whose draw is per global row).
type Projector struct {
	Kind Kind
	F, K int
}

// NewProjector returns the Projector of kind for F features keeping
// K = KeepToK(keep, F) of them.
func NewProjector(kind Kind, f int, keep float64) Projector {
	return Projector{Kind: kind, F: f, K: KeepToK(keep, f)}
}

// check panics with a clear message if p is malformed.
func (p Projector) check() {
	if p.F < 1 || p.F > maxFeatures || p.K < 1 || p.K > p.F {
		panic(fmt.Sprintf("inject: invalid projector F=%d K=%d (need 1 ≤ K ≤ F ≤ 2^24)", p.F, p.K))
	}
	if p.Kind < Project || p.Kind > DiffSample {
		panic(fmt.Sprintf("inject: invalid projector kind %d", int(p.Kind)))
	}
}

// need panics if a buffer is shorter than n.
func need(name string, buf []float32, n int) {
	if len(buf) < n {
		panic(fmt.Sprintf("inject: %s has %d floats, need %d", name, len(buf), n))
	}
}

// ScratchSize returns the number of float32 scratch values the methods need
// for up to rows rows and out outputs. Pass out = 0 if WeightGrad will not be
// called (Conv2D layers only compress and reconstruct); the requirement is then
// independent of rows.
func (p Projector) ScratchSize(rows, out int) int {
	p.check()
	switch p.Kind {
	case Project:
		return max(p.compressScratch(), out*p.K+p.radBlockRows()*p.K)
	case SameSample:
		return p.K + tableSize(p.K) + out*p.K
	default:
		n := p.K
		if out > 0 {
			n = rows * p.K
		}
		return n + tableSize(p.K)
	}
}

// sampleScale returns F/K, the reconstruction scale of the sampling kinds.
func (p Projector) sampleScale() float32 { return float32(p.F) / float32(p.K) }

// genRademacher fills P (F×K row-major) with ±1/√K drawn from key: entry
// i takes bit i%32 of word i/32 of key's sequence as its sign. Large
// matrices are filled by the kernels' threads (the words are addressed
// directly, so the result does not depend on the split).
func (p Projector) genRademacher(key rng.Key, P []float32) {
	p.genRademacherRows(key, 0, p.F, P)
}

// radBlockFloats bounds the row blocks of P that Reconstruct and WeightGrad
// generate and multiply one at a time (64 KiB of float32); a P of at most
// radWholeFloats (256 KiB) is used whole, as the extra calls would cost more
// time than the blocks save memory.
const (
	radBlockFloats = 1 << 14
	radWholeFloats = 1 << 16
)

// radBlockRows returns the rows of P generated at a time by Reconstruct and
// WeightGrad: F when F·K ≤ radWholeFloats, else about radBlockFloats/K, a
// multiple of 128/gcd(K, 128) so that every block starts on a 128-entry
// Philox block. A block multiplies into its own columns of x̂ or dW, so the
// result is bitwise that of the whole P (the GEMM sums each element over K
// the same way).
func (p Projector) radBlockRows() int {
	if p.F*p.K <= radWholeFloats {
		return p.F
	}
	a := 128 / gcd(p.K, 128)
	fb := max(a, radBlockFloats/p.K/a*a)
	return min(fb, p.F)
}

// gemmDepthBlock is the depth (the summed dimension k) of the blocks in
// which kernels.Sgemm sums a product: k is split into the fewest blocks of
// at most gemmDepthBlock, balanced, and each element of C receives the sum
// of each block in turn. Compress relies on it to apply P a depth block at
// a time with bitwise the result of P whole (TestCompressBlocksBitwise
// checks that on every kernel path).
const gemmDepthBlock = 256

// compressCols is the number of columns of a block of P that Compress
// multiplies at a time (the GEMM then packs at most gemmDepthBlock ×
// compressCols floats of it).
const compressCols = 64

// compressBlockRows returns the rows of P that Compress generates and
// applies at a time: F when F·K ≤ radWholeFloats, else the size of
// kernels.Sgemm's depth blocks for a depth of F (see gemmDepthBlock).
func (p Projector) compressBlockRows() int {
	if p.F*p.K <= radWholeFloats {
		return p.F
	}
	nb := (p.F + gemmDepthBlock - 1) / gemmDepthBlock
	return (p.F + nb - 1) / nb
}

// compressScratch is the scratch Compress needs for the Project kind: a row
// block of P and, when blocks do not start on a Philox block, the up to 127
// entries generated before the block.
func (p Projector) compressScratch() int {
	fb := p.compressBlockRows()
	if fb >= p.F {
		return p.F * p.K
	}
	return fb*p.K + 127
}

// genRademacherSpan generates rows [f0, f0+nf) of the Rademacher matrix of
// key into buf and returns them (nf·K floats). When row f0 does not start a
// Philox block, the generation starts at the block it falls in, and the
// entries before row f0 are skipped.
func (p Projector) genRademacherSpan(key rng.Key, f0, nf int, buf []float32) []float32 {
	first := f0 * p.K
	skip := first % 128
	n := skip + nf*p.K
	p.genRademacherEntries(key, first-skip, n, buf[:n])
	return buf[skip:n]
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// genRademacherRows fills P[:n·K] with rows [f0, f0+n) of the Rademacher
// matrix of key (see genRademacher); f0·K must be a multiple of 128.
func (p Projector) genRademacherRows(key rng.Key, f0, n int, P []float32) {
	p.genRademacherEntries(key, f0*p.K, n*p.K, P)
}

// genRademacherEntries fills P[:n] with the n entries of the Rademacher
// matrix of key (row-major, F×K) from entry first, a multiple of 128.
func (p Projector) genRademacherEntries(key rng.Key, first, n int, P []float32) {
	if first%128 != 0 {
		panic(fmt.Sprintf("inject: Rademacher entries from %d of K=%d do not start a Philox block", first, p.K))
	}
	g := radGen{h: key.Hash(), first: uint64(first / 128), mag: float32(1 / math.Sqrt(float64(p.K))), P: P[:n]}
	if radMu.TryLock() {
		// The shared job variable keeps g off the heap.
		radCur = g
		kernels.Split(&radCur, (n+127)/128, n)
		radCur = radGen{}
		radMu.Unlock()
		return
	}
	g.RunPart(0, 1) // another goroutine is generating: do it here
}

// radMu guards radCur, the genRademacher call running on the threads.
var (
	radMu  sync.Mutex
	radCur radGen
)

// radGen is one genRademacher call (kernels.Splitter over blocks of 128
// entries, one Philox block each, starting at block first of the key).
type radGen struct {
	h     uint64
	first uint64
	mag   float32
	P     []float32
}

// RunPart implements kernels.Splitter.
func (g *radGen) RunPart(part, parts int) {
	n := len(g.P)
	blocks := (n + 127) / 128
	b0, b1 := part*blocks/parts, (part+1)*blocks/parts
	var words [64]uint32 // 16 blocks
	for b := b0; b < b1; b += 16 {
		nb := min(16, b1-b)
		for j := 0; j < nb; j++ {
			words[4*j], words[4*j+1], words[4*j+2], words[4*j+3] = rng.BlockAt(g.h, g.first+uint64(b+j))
		}
		lo := 128 * b
		kernels.SignFill(g.P[lo:min(lo+128*nb, n)], words[:4*nb], g.mag)
	}
}

// sameIndices draws the shared K-subset of key into idx[:K] using table.
func (p Projector) sameIndices(key rng.Key, idx, table []float32) {
	var src rng.Source
	src.Reset(key)
	sampleK(&src, p.F, p.K, idx, table)
}

// rowSource positions src at the private sub-sequence of global row g of key:
// blocks g·2^32 onwards of the key's sequence, far more than one row uses.
func rowSource(src *rng.Source, base uint64, g int) {
	src.SetState(base, uint64(g)<<32, 0)
}

// baseKey returns the Philox key of k (the first word of its State).
func baseKey(k rng.Key) uint64 {
	var src rng.Source
	src.Reset(k)
	b, _, _ := src.State()
	return b
}

// Compress writes c = x·P (rows×K) for the matrix of key. x is rows×F.
// For the Project kind a large P is generated and applied a block of rows
// at a time unless scratch holds F·K floats; the result is the same.
func (p Projector) Compress(key rng.Key, x []float32, rows, rowOffset int, c []float32, scratch []float32) {
	p.check()
	F, K := p.F, p.K
	need("x", x, rows*F)
	need("c", c, rows*K)
	if rows == 0 {
		return
	}
	switch p.Kind {
	case Project:
		// c = Σ_blocks x[:, f0:f0+nf]·P[f0:f0+nf, :], a row block of P at
		// a time; the blocks are the GEMM's own depth blocks, so each
		// element of c is summed exactly as by one product with P whole,
		// which is what a scratch of F·K floats or more gets (one larger
		// product keeps the kernels' threads busier).
		fb := p.compressBlockRows()
		need("scratch", scratch, p.compressScratch())
		if len(scratch) >= F*K {
			fb = F
		}
		if fb == F {
			P := scratch[:F*K]
			p.genRademacher(key, P)
			kernels.Sgemm(false, false, rows, K, F, 1, x, F, P, K, 0, c, K)
			return
		}
		// A block multiplies compressCols columns at a time, so that the
		// GEMM packs a small part of it (the columns of c are independent).
		for f0 := 0; f0 < F; f0 += fb {
			nf := min(fb, F-f0)
			P := p.genRademacherSpan(key, f0, nf, scratch)
			beta := float32(1)
			if f0 == 0 {
				beta = 0
			}
			for j := 0; j < K; j += compressCols {
				nj := min(compressCols, K-j)
				kernels.Sgemm(false, false, rows, nj, nf, 1, x[f0:], F, P[j:], K, beta, c[j:], K)
			}
		}
	case SameSample:
		need("scratch", scratch, K+tableSize(K))
		idx := scratch[:K]
		p.sameIndices(key, idx, scratch[K:K+tableSize(K)])
		for r := 0; r < rows; r++ {
			xr := x[r*F : (r+1)*F]
			cr := c[r*K : (r+1)*K]
			for i, f := range idx {
				cr[i] = xr[int(f)]
			}
		}
	case DiffSample:
		need("scratch", scratch, K+tableSize(K))
		idx := scratch[:K]
		table := scratch[K : K+tableSize(K)]
		base := baseKey(key)
		var src rng.Source
		for r := 0; r < rows; r++ {
			rowSource(&src, base, rowOffset+r)
			sampleK(&src, F, K, idx, table)
			xr := x[r*F : (r+1)*F]
			cr := c[r*K : (r+1)*K]
			for i, f := range idx {
				cr[i] = xr[int(f)]
			}
		}
	}
}

// Reconstruct writes x̂ = c·Pᵀ (rows×F) for the matrix of key, the unbiased
// estimate of the x that Compress saw under the same key and rowOffset.
func (p Projector) Reconstruct(key rng.Key, c []float32, rows, rowOffset int, xhat []float32, scratch []float32) {
	p.check()
	F, K := p.F, p.K
	need("c", c, rows*K)
	need("xhat", xhat, rows*F)
	if rows == 0 {
		return
	}
	switch p.Kind {
	case Project:
		// x̂[:, f0:f0+nf] = c·P[f0:f0+nf, :]ᵀ, a row block of P at a time.
		fb := p.radBlockRows()
		need("scratch", scratch, fb*K)
		for f0 := 0; f0 < F; f0 += fb {
			nf := min(fb, F-f0)
			P := scratch[:nf*K]
			p.genRademacherRows(key, f0, nf, P)
			kernels.Sgemm(false, true, rows, nf, K, 1, c, K, P, K, 0, xhat[f0:], F)
		}
	case SameSample:
		need("scratch", scratch, K+tableSize(K))
		idx := scratch[:K]
		p.sameIndices(key, idx, scratch[K:K+tableSize(K)])
		s := p.sampleScale()
		for r := 0; r < rows; r++ {
			xr := xhat[r*F : (r+1)*F]
			clear(xr)
			cr := c[r*K : (r+1)*K]
			for i, f := range idx {
				xr[int(f)] = s * cr[i]
			}
		}
	case DiffSample:
		need("scratch", scratch, K+tableSize(K))
		idx := scratch[:K]
		table := scratch[K : K+tableSize(K)]
		base := baseKey(key)
		s := p.sampleScale()
		var src rng.Source
		for r := 0; r < rows; r++ {
			rowSource(&src, base, rowOffset+r)
			sampleK(&src, F, K, idx, table)
			xr := xhat[r*F : (r+1)*F]
			clear(xr)
			cr := c[r*K : (r+1)*K]
			for i, f := range idx {
				xr[int(f)] = s * cr[i]
			}
		}
	}
}

// WeightGrad accumulates dW += δᵀ·x̂ (dW: out×F, δ: rows×out) where x̂ is the
// reconstruction of c under key, computed in compressed space without
// materialising x̂.
func (p Projector) WeightGrad(key rng.Key, delta []float32, c []float32, rows, rowOffset, out int, dW []float32, scratch []float32) {
	p.WeightGradScaled(1, key, delta, c, rows, rowOffset, out, dW, scratch)
}

// WeightGradScaled accumulates dW += alpha·δᵀ·x̂; alpha carries an estimator's
// step scale (Scheduler.Scale). See WeightGrad.
//
// For DiffSample, a row whose δ entries for a group of four outputs are all
// exactly zero is skipped for those outputs (ReLU makes many zeros), so
// non-finite values of c in such rows do not propagate there.
func (p Projector) WeightGradScaled(alpha float32, key rng.Key, delta []float32, c []float32, rows, rowOffset, out int, dW []float32, scratch []float32) {
	p.check()
	F, K := p.F, p.K
	need("delta", delta, rows*out)
	need("c", c, rows*K)
	need("dW", dW, out*F)
	if rows == 0 || out == 0 {
		return
	}
	switch p.Kind {
	case Project:
		// dW += alpha·(δᵀ·c)·Pᵀ: out·K·rows + out·F·K multiply-adds instead
		// of rows·F·K + out·F·rows; Pᵀ a row block of P (columns of dW) at
		// a time.
		fb := p.radBlockRows()
		need("scratch", scratch, out*K+fb*K)
		T := scratch[:out*K]
		kernels.Sgemm(true, false, out, K, rows, alpha, delta, out, c, K, 0, T, K)
		for f0 := 0; f0 < F; f0 += fb {
			nf := min(fb, F-f0)
			P := scratch[out*K : out*K+nf*K]
			p.genRademacherRows(key, f0, nf, P)
			kernels.Sgemm(false, true, out, nf, K, 1, T, K, P, K, 1, dW[f0:], F)
		}
	case SameSample:
		// dW[:, idxᵢ] += alpha·(F/K)·(δᵀ·c)[:, i].
		tl := tableSize(K)
		need("scratch", scratch, K+tl+out*K)
		idx := scratch[:K]
		p.sameIndices(key, idx, scratch[K:K+tl])
		T := scratch[K+tl : K+tl+out*K]
		kernels.Sgemm(true, false, out, K, rows, alpha*p.sampleScale(), delta, out, c, K, 0, T, K)
		for o := 0; o < out; o++ {
			drow := dW[o*F : (o+1)*F]
			trow := T[o*K : (o+1)*K]
			for i, f := range idx {
				drow[int(f)] += trow[i]
			}
		}
	case DiffSample:
		// dW[o, idx_r,i] += alpha·(F/K)·δ[r,o]·c[r,i], output row by output
		// row so that a row of dW stays in cache.
		tl := tableSize(K)
		need("scratch", scratch, rows*K+tl)
		idx := scratch[:rows*K]
		table := scratch[rows*K : rows*K+tl]
		base := baseKey(key)
		var src rng.Source
		for r := 0; r < rows; r++ {
			rowSource(&src, base, rowOffset+r)
			sampleK(&src, F, K, idx[r*K:(r+1)*K], table)
		}
		diffScatter(alpha*p.sampleScale(), delta, c, idx, rows, out, F, K, dW)
	}
}

// GradNormSq returns ‖δᵀ·x̂‖², the squared Frobenius norm of the weight
// gradient the matrix of key gives: the SPAD score of a candidate. dWScratch
// (out×F) is overwritten; scratch is as for WeightGrad.
func (p Projector) GradNormSq(key rng.Key, delta []float32, c []float32, rows, rowOffset, out int, dWScratch []float32, scratch []float32) float64 {
	need("dWScratch", dWScratch, out*p.F)
	g := dWScratch[:out*p.F]
	clear(g)
	p.WeightGrad(key, delta, c, rows, rowOffset, out, g, scratch)
	return kernels.SumSquares(g)
}

// diffScatter accumulates dW[o, idx[r,i]] += s·δ[r,o]·c[r,i] over all rows r,
// kept positions i and outputs o. Four output rows are processed together so
// that each index and value is loaded once per four multiply-adds, and the
// four rows of dW being updated stay in cache. Rows whose four δ entries are
// all zero are skipped.
func diffScatter(s float32, delta, c, idx []float32, rows, out, F, K int, dW []float32) {
	o := 0
	for ; o+4 <= out; o += 4 {
		d0 := dW[o*F : o*F+F]
		d1 := dW[(o+1)*F : (o+1)*F+F]
		d2 := dW[(o+2)*F : (o+2)*F+F]
		d3 := dW[(o+3)*F : (o+3)*F+F]
		for r := 0; r < rows; r++ {
			dr := delta[r*out+o : r*out+o+4]
			a0, a1, a2, a3 := s*dr[0], s*dr[1], s*dr[2], s*dr[3]
			if a0 == 0 && a1 == 0 && a2 == 0 && a3 == 0 {
				continue
			}
			cr := c[r*K : r*K+K]
			ir := idx[r*K : r*K+K]
			for i, v := range cr {
				f := int(ir[i])
				d0[f] += a0 * v
				d1[f] += a1 * v
				d2[f] += a2 * v
				d3[f] += a3 * v
			}
		}
	}
	for ; o < out; o++ {
		drow := dW[o*F : o*F+F]
		for r := 0; r < rows; r++ {
			a := s * delta[r*out+o]
			if a == 0 {
				continue
			}
			cr := c[r*K : r*K+K]
			ir := idx[r*K : r*K+K]
			for i, v := range cr {
				drow[int(ir[i])] += a * v
			}
		}
	}
}
