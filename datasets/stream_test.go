package datasets

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spadlab/spad/nn/rng"
)

// writeUnevenCIFAR writes a CIFAR-10 directory whose batch files hold
// different numbers of records (so that sample lookup crosses files at
// irregular places), two of them gzipped.
func writeUnevenCIFAR(t *testing.T, dir string) {
	t.Helper()
	files := map[string][]byte{}
	for k, n := range []int{7, 3, 11, 1, 5} {
		files[CIFAR10TrainFiles[k]] = cifarRecords(k, n)
	}
	files[CIFAR10TestFile+".gz"] = gzipBytes(cifarRecords(9, 6))
	b := files[CIFAR10TrainFiles[2]]
	delete(files, CIFAR10TrainFiles[2])
	files[CIFAR10TrainFiles[2]+".gz"] = gzipBytes(b)
	writeFiles(t, dir, files)
}

// loadUneven loads the uneven directory of writeUnevenCIFAR through the
// file-level readers (a directory load refuses batches of unequal sizes).
func loadUneven(t *testing.T, dir string, opt Options) (train, test *Dataset) {
	t.Helper()
	paths, tp, err := cifar10Paths(dir)
	if err != nil {
		t.Fatal(err)
	}
	if opt.Mode == Stream {
		if train, err = OpenCIFAR10Files("cifar10-train", opt, paths...); err != nil {
			t.Fatal(err)
		}
		if test, err = OpenCIFAR10Files("cifar10-test", opt, tp); err != nil {
			t.Fatal(err)
		}
		return train, test
	}
	if train, err = ReadCIFAR10Files("cifar10-train", paths...); err != nil {
		t.Fatal(err)
	}
	if test, err = ReadCIFAR10Files("cifar10-test", tp); err != nil {
		t.Fatal(err)
	}
	return train, test
}

// loadBoth loads the data set name from dir in memory and streamed.
func loadBoth(t *testing.T, name, dir, cache string) (memTrain, memTest, strTrain, strTest *Dataset) {
	t.Helper()
	opt := Options{Dir: dir, CacheDir: cache, NoDownload: true}
	memTrain, memTest, err := Load(name, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Mode = Stream
	strTrain, strTest, err = Load(name, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { strTrain.Close(); strTest.Close() })
	if memTrain.Streamed() || memTest.Streamed() || !strTrain.Streamed() || !strTest.Streamed() {
		t.Fatal("wrong modes")
	}
	if strTrain.Mode() != Stream || memTrain.Mode() != Memory {
		t.Fatalf("modes %v, %v", strTrain.Mode(), memTrain.Mode())
	}
	if len(strTrain.Pixels) != 0 || strTrain.Bytes() != int64(strTrain.N) {
		t.Errorf("a streamed data set holds %d pixel bytes and reports %d bytes", len(strTrain.Pixels), strTrain.Bytes())
	}
	return
}

// sameData checks that two data sets hold the same samples, labels and
// normalisation.
func sameData(t *testing.T, a, b *Dataset) {
	t.Helper()
	if a.N != b.N || a.C != b.C || a.H != b.H || a.W != b.W || a.Classes != b.Classes || a.Name != b.Name {
		t.Fatalf("%s: shapes differ: %d×%d×%d×%d vs %d×%d×%d×%d", a.Name, a.N, a.C, a.H, a.W, b.N, b.C, b.H, b.W)
	}
	if !slices.Equal(a.Labels, b.Labels) || !slices.Equal(a.Mean, b.Mean) || !slices.Equal(a.Std, b.Std) {
		t.Fatalf("%s: labels or normalisation differ", a.Name)
	}
	wa, wb := make([]float32, a.SampleSize()), make([]float32, a.SampleSize())
	for i := 0; i < a.N; i++ {
		if !slices.Equal(a.Sample(i), b.Sample(i)) {
			t.Fatalf("%s: sample %d differs", a.Name, i)
		}
		a.Normalize(wa, i)
		b.Normalize(wb, i)
		if !slices.Equal(wa, wb) {
			t.Fatalf("%s: normalised sample %d differs", a.Name, i)
		}
	}
	ma, sa := a.ChannelStats()
	mb, sb := b.ChannelStats()
	if !slices.Equal(ma, mb) || !slices.Equal(sa, sb) {
		t.Fatalf("%s: channel statistics differ", a.Name)
	}
}

// sameBatches draws steps batches from a Batcher over each data set (same
// index list, tail policy and key) and fails at the first bit that
// differs; halfway it moves the second batcher's state into a new one.
func sameBatches(t *testing.T, a, b *Dataset, index []int32, batch int, tail Tail, key rng.Key, steps int) {
	t.Helper()
	ba, err := NewBatcher(a, index, batch, tail, key)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := NewBatcher(b, index, batch, tail, key)
	if err != nil {
		t.Fatal(err)
	}
	s := a.SampleSize()
	xa, xb := make([]float32, batch*s), make([]float32, batch*s)
	ya, yb := make([]uint8, batch), make([]uint8, batch)
	for k := 0; k < steps; k++ {
		if k == steps/2 {
			st := bb.State()
			if bb, err = NewBatcher(b, index, batch, tail, rng.Key{Seed: 99}); err != nil {
				t.Fatal(err)
			}
			if err := bb.SetState(st); err != nil {
				t.Fatal(err)
			}
		}
		clear(xb)
		na, nb := ba.Next(xa, ya), bb.Next(xb, yb)
		if na != nb || !slices.Equal(ba.Indices(), bb.Indices()) {
			t.Fatalf("%s batch %d (tail %v, batch %d): sizes %d/%d, indices %v / %v", a.Name, k, tail, batch, na, nb, ba.Indices(), bb.Indices())
		}
		if !slices.Equal(xa[:na*s], xb[:nb*s]) || !slices.Equal(ya[:na], yb[:nb]) {
			t.Fatalf("%s batch %d (tail %v, batch %d): values differ", a.Name, k, tail, batch)
		}
	}
	if ba.State() != bb.State() {
		t.Fatalf("states differ: %+v / %+v", ba.State(), bb.State())
	}
}

// sameEval checks that EvalIterators over the two data sets agree.
func sameEval(t *testing.T, a, b *Dataset, index []int32, batch int) {
	t.Helper()
	ea, err := NewEvalIterator(a, index, batch)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := NewEvalIterator(b, index, batch)
	if err != nil {
		t.Fatal(err)
	}
	s := a.SampleSize()
	xa, xb := make([]float32, batch*s), make([]float32, batch*s)
	ya, yb := make([]uint8, batch), make([]uint8, batch)
	for {
		na, nb := ea.Next(xa, ya), eb.Next(xb, yb)
		if na != nb || !slices.Equal(xa[:na*s], xb[:nb*s]) || !slices.Equal(ya[:na], yb[:nb]) || !slices.Equal(ea.Indices(), eb.Indices()) {
			t.Fatalf("%s: evaluation batches differ", a.Name)
		}
		if na == 0 {
			return
		}
	}
}

// checkStreamMatchesMemory runs every comparison on a data set loaded both
// ways: whole sets, slices, subsets, shuffled batches of every tail policy
// with and without a bootstrap resample, and evaluation passes.
func checkStreamMatchesMemory(t *testing.T, memTrain, memTest, strTrain, strTest *Dataset) {
	sameData(t, memTrain, strTrain)
	sameData(t, memTest, strTest)
	for _, seed := range []uint64{1, 7} {
		boot := Bootstrap(memTrain.N, BootstrapKey(seed, 3))
		for _, index := range [][]int32{nil, boot} {
			for _, tail := range []Tail{TailWrap, TailDrop, TailPartial} {
				for _, batch := range []int{1, 4, memTrain.N - 1} {
					sameBatches(t, memTrain, strTrain, index, batch, tail, ShuffleKey(seed), 3*memTrain.N/batch+5)
				}
			}
		}
		sameEval(t, memTrain, strTrain, boot, 5)
	}
	sameEval(t, memTest, strTest, nil, 4)
	ma, _ := memTrain.Slice(2, memTrain.N-3)
	sa, err := strTrain.Slice(2, strTrain.N-3)
	if err != nil {
		t.Fatal(err)
	}
	if !sa.Streamed() {
		t.Fatal("a slice of a streamed data set is not streamed")
	}
	sameData(t, ma, sa)
	sameBatches(t, ma, sa, nil, 3, TailWrap, ShuffleKey(5), 20)
	ms2, _ := ma.Slice(1, 4)
	ss2, _ := sa.Slice(1, 4)
	sameData(t, ms2, ss2)
	idx := []int32{4, 0, 4, int32(ma.N - 1)}
	mSub, _ := ma.Subset(idx)
	sSub, err := sa.Subset(idx)
	if err != nil {
		t.Fatal(err)
	}
	if sSub.Streamed() {
		t.Error("a subset of a streamed data set should be in memory")
	}
	sameData(t, mSub, sSub)
}

// Streamed CIFAR-10 yields bitwise the batches of the in-memory data set
// for the same seed, including across files of uneven sizes and gzipped
// files decompressed into the cache.
func TestStreamCIFAR10MatchesMemory(t *testing.T) {
	clearEnv(t)
	dir, cache := t.TempDir(), t.TempDir()
	writeUnevenCIFAR(t, dir)
	if _, _, err := Load("cifar10", Options{Dir: dir, CacheDir: cache, NoDownload: true}); err == nil || !strings.Contains(err.Error(), "records where the other batches") {
		t.Fatalf("a directory of uneven batches was accepted: %v", err)
	}
	mt, me := loadUneven(t, dir, Options{CacheDir: cache})
	st, se := loadUneven(t, dir, Options{CacheDir: cache, Mode: Stream})
	t.Cleanup(func() { st.Close(); se.Close() })
	if st.N != 27 || se.N != 6 {
		t.Fatalf("streamed %d train and %d test samples, want 27 and 6", st.N, se.N)
	}
	checkStreamMatchesMemory(t, mt, me, st, se)
	// The two gzipped files were decompressed once, into the cache.
	ents, err := os.ReadDir(filepath.Join(cache, "stream"))
	if err != nil || len(ents) != 2 {
		t.Fatalf("cache holds %d entries (%v), want 2", len(ents), err)
	}
	info1, _ := ents[0].Info()
	st2, se2 := loadUneven(t, dir, Options{CacheDir: cache, Mode: Stream})
	defer st2.Close()
	defer se2.Close()
	ents2, _ := os.ReadDir(filepath.Join(cache, "stream"))
	info2, _ := ents2[0].Info()
	if len(ents2) != 2 || !info2.ModTime().Equal(info1.ModTime()) {
		t.Errorf("a second load decompressed again (%d entries)", len(ents2))
	}
}

// Streamed MNIST (gzipped training images, raw test images) matches the
// in-memory data set bitwise.
func TestStreamMNISTMatchesMemory(t *testing.T) {
	clearEnv(t)
	dir, cache := t.TempDir(), t.TempDir()
	writeMNIST(t, dir, 23, 9, 5, 4)
	mt, me, st, se := loadBoth(t, "mnist", dir, cache)
	checkStreamMatchesMemory(t, mt, me, st, se)
}

// Next on a streamed data set allocates nothing.
func TestStreamNoAllocations(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	writeMNIST(t, dir, 23, 9, 5, 4)
	tr, te, err := Load("mnist", Options{Dir: dir, CacheDir: t.TempDir(), Mode: Stream})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	defer te.Close()
	b, _ := NewBatcher(tr, nil, 4, TailWrap, ShuffleKey(2))
	e, _ := NewEvalIterator(te, nil, 4)
	x := make([]float32, 4*tr.SampleSize())
	y := make([]uint8, 4)
	if a := testing.AllocsPerRun(50, func() { b.Next(x, y) }); a != 0 {
		t.Errorf("Batcher.Next allocates %v times per call on a streamed data set", a)
	}
	if a := testing.AllocsPerRun(50, func() {
		if e.Next(x, y) == 0 {
			e.Reset()
		}
	}); a != 0 {
		t.Errorf("EvalIterator.Next allocates %v times per call on a streamed data set", a)
	}
}

// A read failure after opening (here: the files closed) panics with a
// message naming the file rather than yielding wrong data.
func TestStreamReadFailure(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	writeUnevenCIFAR(t, dir)
	tr, te := loadUneven(t, dir, Options{CacheDir: t.TempDir(), Mode: Stream})
	te.Close()
	b, _ := NewBatcher(tr, nil, 4, TailWrap, ShuffleKey(2))
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "data_batch_") || !strings.Contains(msg, "reading sample") {
			t.Errorf("panic %q does not name the file and the sample", msg)
		}
	}()
	b.Next(make([]float32, 4*tr.SampleSize()), make([]uint8, 4))
	t.Error("no panic")
}

// Corrupt files give the same one-line errors when streamed as when read.
func TestStreamCorrupt(t *testing.T) {
	clearEnv(t)
	cifar := func(mod func(files map[string][]byte)) string {
		dir := t.TempDir()
		files := cifarFiles(2, 2)
		mod(files)
		writeFiles(t, dir, files)
		return dir
	}
	mnist := func(images []byte, gz bool) string {
		dir := t.TempDir()
		files := mnistFiles(4, 3, 2, 2)
		name := MNISTTrainImages + ".gz"
		if gz {
			images = gzipBytes(images)
		} else {
			delete(files, name)
			name = MNISTTrainImages
		}
		files[name] = images
		writeFiles(t, dir, files)
		return dir
	}
	cases := []struct {
		name, data string
		dir        string
		want       []string
	}{
		{"truncated record", "cifar10", cifar(func(f map[string][]byte) { f[CIFAR10TestFile] = f[CIFAR10TestFile][:CIFAR10RecordSize+5] }),
			[]string{"test_batch.bin", "not a multiple of the 3073-byte record", "record 1 is truncated"}},
		{"empty file", "cifar10", cifar(func(f map[string][]byte) { f[CIFAR10TrainFiles[0]] = nil }),
			[]string{"data_batch_1.bin", "no records"}},
		{"bad label", "cifar10", cifar(func(f map[string][]byte) { f[CIFAR10TrainFiles[3]][CIFAR10RecordSize] = 10 }),
			[]string{"data_batch_4.bin", "record 1 has label 10"}},
		{"corrupt gzip", "cifar10", cifar(func(f map[string][]byte) {
			z := gzipBytes(f[CIFAR10TestFile])
			z[len(z)-6] ^= 0xff // CRC
			delete(f, CIFAR10TestFile)
			f[CIFAR10TestFile+".gz"] = z
		}), []string{"test_batch.bin.gz", "gzip"}},
		{"short image file", "mnist", mnist(genImages(0, 4, 2, 2)[:20], false),
			[]string{"train-images-idx3-ubyte", "declare 16 bytes of data, file holds 4"}},
		{"trailing image data", "mnist", mnist(append(genImages(0, 4, 2, 2), 1), true),
			[]string{"train-images-idx3-ubyte", "declare 16 bytes of data, file holds 17"}},
		{"label file as images", "mnist", mnist(genLabels(0, 4), false),
			[]string{"bad IDX magic number 0x00000801"}},
		{"images disagree with labels", "mnist", mnist(genImages(0, 5, 2, 2), false),
			[]string{"4 labels but train-images-idx3-ubyte holds 5 images"}},
	}
	for _, c := range cases {
		_, _, err := Load(c.data, Options{Dir: c.dir, CacheDir: t.TempDir(), Mode: Stream})
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %q", c.name, err)
		}
		t.Run(c.name, func(t *testing.T) { wantErr(t, err, c.want...) })
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{Memory, Stream, Auto} {
		got, err := ParseMode(strings.ToUpper(m.String()))
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	_, err := ParseMode("disk")
	wantErr(t, err, `unknown data mode "disk" (valid: memory, stream, auto)`)
	// Auto stands for each data set's default.
	clearEnv(t)
	dir := t.TempDir()
	writeMNIST(t, dir, 5, 3, 2, 2)
	tr, te, err := Load("mnist", Options{Dir: dir, CacheDir: t.TempDir(), Mode: Auto})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	defer te.Close()
	if tr.Mode() != DefaultMode("mnist") || te.Mode() != DefaultMode("mnist") {
		t.Errorf("auto loaded %v/%v, want %v", tr.Mode(), te.Mode(), DefaultMode("mnist"))
	}
}

// BenchmarkBatcherNext times one batch of 150 samples of the real MNIST
// and CIFAR-10 training sets (skipped where they are not on the machine),
// held in memory and streamed from files in the page cache (warm after the
// first epoch, as in training). The difference between the two is what
// streaming adds to a training step.
func BenchmarkBatcherNext(b *testing.B) {
	cache := b.TempDir()
	for _, name := range []string{"mnist", "cifar10"} {
		for _, mode := range []Mode{Memory, Stream} {
			b.Run(name+"/"+mode.String(), func(b *testing.B) {
				tr, te, err := Load(name, Options{NoDownload: true, CacheDir: cache, Mode: mode})
				if err != nil {
					b.Skip(err)
				}
				defer tr.Close()
				defer te.Close()
				const batch = 150
				it, _ := NewBatcher(tr, nil, batch, TailWrap, ShuffleKey(1))
				x := make([]float32, batch*tr.SampleSize())
				y := make([]uint8, batch)
				for i := 0; i < tr.N/batch+1; i++ { // one epoch
					it.Next(x, y)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					it.Next(x, y)
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/batch")
			})
		}
	}
}

// Auto falls back on memory when streaming cannot be set up: here the
// cache directory, needed to decompress the gzipped files, is a file.
func TestAutoFallsBackOnMemory(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	writeMNIST(t, dir, 5, 3, 2, 2)
	notDir := filepath.Join(t.TempDir(), "file")
	writeFiles(t, filepath.Dir(notDir), map[string][]byte{"file": []byte("x")})
	_, _, err := Load("mnist", Options{Dir: dir, CacheDir: notDir, Mode: Stream})
	wantErr(t, err, "train-images-idx3-ubyte.gz")
	tr, te, err := Load("mnist", Options{Dir: dir, CacheDir: notDir, Mode: Auto})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Streamed() || te.Streamed() || tr.N != 5 {
		t.Errorf("auto without a cache: streamed %v/%v, %d samples", tr.Streamed(), te.Streamed(), tr.N)
	}
}
