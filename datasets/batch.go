package datasets

import (
	"fmt"

	"github.com/spadlab/spad/nn/rng"
)

// Streams of the nn/rng key space reserved for data order, so that data
// randomness never shares a sequence with a layer's.
const (
	ShuffleStream   uint64 = 0xDA7A_0000_0001
	BootstrapStream uint64 = 0xDA7A_0000_0002
)

// ShuffleKey returns the key a run seeded with seed uses for its training
// batch order.
func ShuffleKey(seed uint64) rng.Key { return rng.Key{Seed: seed, Stream: ShuffleStream} }

// BootstrapKey returns the key of bootstrap replicate r of a run seeded with
// seed.
func BootstrapKey(seed uint64, r int) rng.Key {
	return rng.Key{Seed: seed, Stream: BootstrapStream, Draw: uint64(r)}
}

// Resample returns draws indices drawn uniformly with replacement from
// [0, n), from key's sequence: a bootstrap sample as an index list, to be
// used with the iterators without copying any pixel. It returns nil when n
// or draws is not positive.
func Resample(n, draws int, key rng.Key) []int32 {
	if n <= 0 || draws <= 0 {
		return nil
	}
	src := rng.New(key)
	idx := make([]int32, draws)
	for i := range idx {
		idx[i] = int32(src.Intn(n))
	}
	return idx
}

// Bootstrap returns the bootstrap resample of a training set of n samples:
// n draws with replacement, seeded by key.
func Bootstrap(n int, key rng.Key) []int32 { return Resample(n, n, key) }

// normalizer maps bytes to normalised values through one 256-entry table
// per channel.
type normalizer struct {
	lut   []float32
	plane int
	c     int
}

func newNormalizer(d *Dataset) normalizer {
	lut := make([]float32, 256*d.C)
	for c := 0; c < d.C; c++ {
		m, s := d.mean(c), d.std(c)
		for v := 0; v < 256; v++ {
			lut[c*256+v] = (float32(v)/255 - m) / s
		}
	}
	return normalizer{lut: lut, plane: d.H * d.W, c: d.C}
}

// fill writes the normalised src into dst (same length).
func (n *normalizer) fill(dst []float32, src []uint8) {
	for c := 0; c < n.c; c++ {
		t := n.lut[c*256 : c*256+256]
		s := src[c*n.plane : (c+1)*n.plane]
		d := dst[c*n.plane : (c+1)*n.plane]
		for j, v := range s {
			d[j] = t[v]
		}
	}
}

// sampler reads samples of a Source for an iterator: a Dataset's bytes
// through its lookup table (and, streamed, through one sample buffer),
// any other Source through Fill and Label.
type sampler struct {
	d    *Dataset // a Dataset (nil: src)
	norm normalizer
	buf  []uint8 // one sample read from disk (streamed data sets)
	src  Source
	info Info
	size int
}

func newSampler(s Source) sampler {
	p := sampler{src: s, info: s.Info()}
	p.size = p.info.SampleSize()
	if d, ok := s.(*Dataset); ok {
		p.d, p.norm = d, newNormalizer(d)
		if d.src != nil {
			p.buf = make([]uint8, d.SampleSize())
		}
	}
	return p
}

// fill writes sample i into dst[:size] and returns its label.
func (p *sampler) fill(dst []float32, i int32) uint8 {
	if p.d != nil {
		p.norm.fill(dst, p.d.sample(p.buf, int(i)))
		return p.d.Labels[i]
	}
	p.src.Fill(dst[:p.size:p.size], int(i))
	return uint8(p.src.Label(int(i)))
}

// checkIndex validates a data set and an optional index list over it.
func checkIndex(d Source, index []int32, batch int) (int, error) {
	if err := CheckSource(d); err != nil {
		return 0, err
	}
	in := d.Info()
	if batch <= 0 {
		return 0, fmt.Errorf("datasets: %s: batch size %d, want > 0", in.Name, batch)
	}
	n := in.N
	if index != nil {
		n = len(index)
		for k, i := range index {
			if i < 0 || int(i) >= in.N {
				return 0, fmt.Errorf("datasets: %s: index[%d] = %d out of range [0,%d)", in.Name, k, i, in.N)
			}
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("datasets: %s: no samples to iterate over", in.Name)
	}
	return n, nil
}

// checkBuffers panics when the caller's batch buffers are too small: that
// is a programming error, not bad data.
func checkBuffers(size, batch int, x []float32, y []uint8) {
	if len(x) < batch*size || len(y) < batch {
		panic(fmt.Sprintf("datasets: batch buffers too small: len(x)=%d, len(y)=%d, want %d and %d",
			len(x), len(y), batch*size, batch))
	}
}

// Tail says what a Batcher does at the end of an epoch when fewer samples
// than a batch remain.
type Tail int

const (
	// TailWrap completes the batch from the next epoch's permutation: every
	// batch is full and every epoch still visits each sample exactly once.
	TailWrap Tail = iota
	// TailDrop skips the remaining samples: every batch is full and an epoch
	// visits floor(N/B)*B distinct samples.
	TailDrop
	// TailPartial returns a smaller last batch of the epoch.
	TailPartial
)

// String returns the policy's name.
func (t Tail) String() string {
	switch t {
	case TailWrap:
		return "wrap"
	case TailDrop:
		return "drop"
	case TailPartial:
		return "partial"
	}
	return fmt.Sprintf("Tail(%d)", int(t))
}

// Batcher is a seeded, shuffling training batch iterator over a data set
// (any Source) or an index list into it (such as a bootstrap resample).
// Epoch e visits the samples in a permutation drawn from the nn/rng
// sequence of Key{Seed, Stream, Draw + e}, so the order depends only on the
// key and the epoch, and State/SetState resume it exactly: the state is a
// position, not data. Next writes normalised float32 into the caller's
// buffers and allocates nothing (when the Source's Fill does not).
type Batcher struct {
	smp   sampler
	index []int32 // nil: identity
	n     int
	batch int
	tail  Tail
	key   rng.Key
	hash  uint64
	epoch int64
	pos   int
	perm  []int32 // positions into index (or samples) for the current epoch
	last  []int32
	src   *rng.Source
}

// NewBatcher returns a Batcher that yields batches of size batch from the
// samples of d listed in index (all of d, in order, when index is nil),
// shuffled each epoch from key. It checks that the indices are in range;
// with TailDrop the batch may not exceed the number of samples.
func NewBatcher(d Source, index []int32, batch int, tail Tail, key rng.Key) (*Batcher, error) {
	n, err := checkIndex(d, index, batch)
	if err != nil {
		return nil, err
	}
	if tail < TailWrap || tail > TailPartial {
		return nil, fmt.Errorf("datasets: unknown tail policy %d", int(tail))
	}
	if tail == TailDrop && batch > n {
		return nil, fmt.Errorf("datasets: %s: batch size %d exceeds the %d samples, and the tail policy drops partial batches", d.Info().Name, batch, n)
	}
	b := &Batcher{
		smp: newSampler(d), index: index, n: n, batch: batch, tail: tail, key: key,
		perm: make([]int32, n),
		last: make([]int32, 0, batch),
		src:  rng.New(key),
	}
	b.hash = indexHash(b.smp.info.N, index)
	b.startEpoch(0)
	return b, nil
}

// indexHash fingerprints the sample list a Batcher iterates over (FNV-1a),
// so that a state is not restored onto a different list.
func indexHash(total int, index []int32) uint64 {
	h := uint64(14695981039346656037)
	mix := func(v uint64) {
		for k := 0; k < 8; k++ {
			h ^= v & 0xff
			h *= 1099511628211
			v >>= 8
		}
	}
	mix(uint64(total))
	for _, i := range index {
		mix(uint64(uint32(i)))
	}
	return h
}

// startEpoch positions b at the start of epoch e, drawing its permutation.
func (b *Batcher) startEpoch(e int64) {
	b.epoch, b.pos = e, 0
	for i := range b.perm {
		b.perm[i] = int32(i)
	}
	b.src.Reset(rng.Key{Seed: b.key.Seed, Stream: b.key.Stream, Draw: b.key.Draw + uint64(e)})
	b.src.Shuffle(b.perm)
}

// Next fills x (batch×C×H×W values, sample after sample) and y (batch
// labels) with the next batch and returns its size: always the batch size,
// except for the last batch of an epoch under TailPartial. It panics if the
// buffers are too small, or if a streamed data set's file cannot be read
// any more (the machine failing: the files were checked when opened).
func (b *Batcher) Next(x []float32, y []uint8) int {
	checkBuffers(b.smp.size, b.batch, x, y)
	s := b.smp.size
	b.last = b.last[:0]
	k := 0
	for k < b.batch {
		rem := b.n - b.pos
		if rem == 0 && b.tail == TailPartial && k > 0 {
			break
		}
		if rem == 0 || (b.tail == TailDrop && k == 0 && rem < b.batch) {
			b.startEpoch(b.epoch + 1)
			continue
		}
		i := b.perm[b.pos]
		if b.index != nil {
			i = b.index[i]
		}
		y[k] = b.smp.fill(x[k*s:(k+1)*s], i)
		b.last = append(b.last, i)
		b.pos++
		k++
	}
	return k
}

// Indices returns the data set indices of the samples of the last batch
// (valid until the next call of Next).
func (b *Batcher) Indices() []int32 { return b.last }

// BatchSize returns the batch size.
func (b *Batcher) BatchSize() int { return b.batch }

// Len returns the number of samples in an epoch (before dropping a tail).
func (b *Batcher) Len() int { return b.n }

// Epoch returns the epoch in progress, counting from 0: the one the last
// sample delivered belongs to (a new epoch begins with its first sample).
func (b *Batcher) Epoch() int64 { return b.epoch }

// Seen returns epoch*N + position: the samples consumed so far, counting
// those skipped by TailDrop.
func (b *Batcher) Seen() int64 { return b.epoch*int64(b.n) + int64(b.pos) }

// StepsPerEpoch returns the number of Next calls in an epoch: floor(N/B)
// under TailDrop, ceil(N/B) under TailPartial, and under TailWrap ceil(N/B),
// the call that finishes the epoch (the batches then straddle epochs).
func (b *Batcher) StepsPerEpoch() int {
	if b.tail == TailDrop {
		return b.n / b.batch
	}
	return (b.n + b.batch - 1) / b.batch
}

// BatcherState is a Batcher's resumable state, for checkpoints: the key, the
// epoch and the position in it (the permutation is regenerated from key and
// epoch), plus the shape of the iteration, checked on restore. It marshals
// to JSON as is.
type BatcherState struct {
	Key       rng.Key `json:"key"`        // shuffling key; epoch e uses Draw+e
	Epoch     int64   `json:"epoch"`      // epoch in progress
	Pos       int     `json:"pos"`        // samples of the epoch consumed
	N         int     `json:"n"`          // samples per epoch
	Batch     int     `json:"batch"`      // batch size
	Tail      Tail    `json:"tail"`       // tail policy
	IndexHash uint64  `json:"index_hash"` // fingerprint of the sample list
}

// State returns b's current state.
func (b *Batcher) State() BatcherState {
	return BatcherState{Key: b.key, Epoch: b.epoch, Pos: b.pos, N: b.n, Batch: b.batch, Tail: b.tail, IndexHash: b.hash}
}

// SetState restores a state returned by State of a Batcher over the same
// samples with the same batch size and tail policy; from then on b yields
// the batches the original would have yielded.
func (b *Batcher) SetState(s BatcherState) error {
	switch {
	case s.N != b.n || s.IndexHash != b.hash:
		return fmt.Errorf("datasets: batcher state is for a different sample list (%d samples, hash %#x; have %d, %#x)", s.N, s.IndexHash, b.n, b.hash)
	case s.Batch != b.batch:
		return fmt.Errorf("datasets: batcher state has batch size %d, have %d", s.Batch, b.batch)
	case s.Tail != b.tail:
		return fmt.Errorf("datasets: batcher state has tail policy %v, have %v", s.Tail, b.tail)
	case s.Epoch < 0 || s.Pos < 0 || s.Pos > b.n:
		return fmt.Errorf("datasets: batcher state has invalid position epoch %d, pos %d", s.Epoch, s.Pos)
	}
	b.key = s.Key
	b.startEpoch(s.Epoch)
	b.pos = s.Pos
	b.last = b.last[:0]
	return nil
}

// EvalIterator walks a data set (any Source, or an index list into it)
// once, in order, in batches; the last batch may be smaller. Like Batcher
// it writes normalised float32 into the caller's buffers without
// allocating.
type EvalIterator struct {
	smp   sampler
	index []int32
	n     int
	batch int
	pos   int
	last  []int32
}

// NewEvalIterator returns an iterator over the samples of d listed in index
// (all of d when index is nil) in batches of size batch.
func NewEvalIterator(d Source, index []int32, batch int) (*EvalIterator, error) {
	n, err := checkIndex(d, index, batch)
	if err != nil {
		return nil, err
	}
	return &EvalIterator{smp: newSampler(d), index: index, n: n, batch: batch, last: make([]int32, 0, batch)}, nil
}

// Next fills x and y with the next batch and returns its size: the batch
// size, less for the last batch, 0 once every sample has been delivered. It
// panics if the buffers are too small.
func (e *EvalIterator) Next(x []float32, y []uint8) int {
	checkBuffers(e.smp.size, e.batch, x, y)
	s := e.smp.size
	e.last = e.last[:0]
	k := 0
	for ; k < e.batch && e.pos < e.n; k++ {
		i := int32(e.pos)
		if e.index != nil {
			i = e.index[e.pos]
		}
		y[k] = e.smp.fill(x[k*s:(k+1)*s], i)
		e.last = append(e.last, i)
		e.pos++
	}
	return k
}

// Indices returns the data set indices of the last batch.
func (e *EvalIterator) Indices() []int32 { return e.last }

// Reset rewinds the iterator to the first sample.
func (e *EvalIterator) Reset() { e.pos = 0; e.last = e.last[:0] }

// Len returns the number of samples the iterator visits.
func (e *EvalIterator) Len() int { return e.n }

// Batches returns the number of batches in one pass, ceil(Len/batch).
func (e *EvalIterator) Batches() int { return (e.n + e.batch - 1) / e.batch }
