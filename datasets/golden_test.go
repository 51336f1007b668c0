package datasets

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

// batchDigest draws steps batches from b (restoring, half-way, a copy of
// its state into a fresh Batcher over the same samples made by again) and
// returns an FNV-1a digest of every value's bits, label and batch size.
func batchDigest(t *testing.T, b *Batcher, size, steps int, again func() *Batcher) uint64 {
	t.Helper()
	h := fnv.New64a()
	x := make([]float32, b.BatchSize()*size)
	y := make([]uint8, b.BatchSize())
	for k := 0; k < steps; k++ {
		if k == steps/2 && again != nil {
			st := b.State()
			b = again()
			if err := b.SetState(st); err != nil {
				t.Fatal(err)
			}
		}
		n := b.Next(x, y)
		hashBatch(h, x[:n*size], y[:n])
	}
	return h.Sum64()
}

// hashBatch adds one batch — its size, the values' bits, the labels — to h.
func hashBatch(h hash.Hash64, x []float32, y []uint8) {
	fmt.Fprintf(h, "%d|", len(y))
	var w [4]byte
	for _, v := range x {
		u := math.Float32bits(v)
		w[0], w[1], w[2], w[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		h.Write(w[:])
	}
	h.Write(y)
}

// evalDigest is batchDigest for one pass of an EvalIterator.
func evalDigest(e *EvalIterator, size, batch int) uint64 {
	h := fnv.New64a()
	x := make([]float32, batch*size)
	y := make([]uint8, batch)
	for n := e.Next(x, y); n > 0; n = e.Next(x, y) {
		hashBatch(h, x[:n*size], y[:n])
	}
	return h.Sum64()
}

// byteDigests returns the digests of the batches of d under every tail
// policy, with and without a bootstrap index list, with a state restored
// half-way, and of an evaluation pass over all of d and over the list.
func byteDigests(t *testing.T, d Source) []uint64 {
	t.Helper()
	size := d.Info().SampleSize()
	idx := Bootstrap(d.Info().N, BootstrapKey(5, 2))
	var out []uint64
	for _, index := range [][]int32{nil, idx} {
		for _, tail := range []Tail{TailWrap, TailDrop, TailPartial} {
			mk := func() *Batcher {
				b, err := NewBatcher(d, index, 5, tail, ShuffleKey(11))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			out = append(out, batchDigest(t, mk(), size, 23, mk))
		}
		e, err := NewEvalIterator(d, index, 4)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, evalDigest(e, size, 4))
	}
	return out
}

// opaque hides the type of a Source, so that the iterators read it through
// Fill and Label, not through a Dataset's lookup table.
type opaque struct{ s Source }

func (o opaque) Info() Info                { return o.s.Info() }
func (o opaque) Label(i int) int           { return o.s.Label(i) }
func (o opaque) Fill(dst []float32, i int) { o.s.Fill(dst, i) }

// unchangedDigests are the digests byteDigests gave with the iterators
// as they were before they took any Source (a Dataset only).
var unchangedDigests = map[string][]uint64{
	"toy":         {0x819dc0675d61d029, 0x3799c191c27f7df, 0x135371e8de6e2dbb, 0x285e61e732b61cea, 0x1ae563ff6a4b3f85, 0xeadbcbed8e8ae4a0, 0x3f5a15cec1d32194, 0xbfc22c5821ba3293},
	"cifar-train": {0xe7fddd50b38b1046, 0x1ff3c5d53498bedf, 0xf72260b8f493d2c4, 0x3b1e5a0037abed11, 0x2625a114e00528c6, 0xc91047aa749eeb19, 0xd9ca92c4ce04a931, 0xd95556d05acc04a3},
	"cifar-test":  {0xb5d2e8cba18c1008, 0x930ae1372f4f9699, 0x63cf9bc69930506c, 0xcb34ed237e66fc6c, 0x14e5dff09ca890b7, 0xf286d5f64685153f, 0xdda5e946ab4833cd, 0x4a9bafd9b3ad7977},
}

// The batches of byte data sets, in memory and streamed, under every tail
// policy, with bootstrap index lists and across a state restore, are those
// the iterators gave before they took any Source (unchangedDigests): a
// long run resumed from a checkpoint depends on it. A Dataset read
// through the Source interface alone (Fill and Label) gives them too.
func TestByteBatchesUnchanged(t *testing.T) {
	dir := t.TempDir()
	writeUnevenCIFAR(t, dir)
	memTrain, memTest := loadUneven(t, dir, Options{Mode: Memory})
	strTrain, strTest := loadUneven(t, dir, Options{CacheDir: filepath.Join(dir, "cache"), Mode: Stream})
	defer strTrain.Close()
	defer strTest.Close()
	cases := []struct {
		name, want string
		d          Source
	}{
		{"toy", "toy", toyDataset(53)},
		{"memory train", "cifar-train", memTrain},
		{"memory test", "cifar-test", memTest},
		{"streamed train", "cifar-train", strTrain},
		{"streamed test", "cifar-test", strTest},
		{"toy as a Source", "toy", opaque{toyDataset(53)}},
		{"memory train as a Source", "cifar-train", opaque{memTrain}},
		{"streamed test as a Source", "cifar-test", opaque{strTest}},
	}
	for _, c := range cases {
		if got := byteDigests(t, c.d); !slices.Equal(got, unchangedDigests[c.want]) {
			t.Errorf("%s: batch digests %#x, want %#x", c.name, got, unchangedDigests[c.want])
		}
	}
}
