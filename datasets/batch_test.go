package datasets

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/spadlab/spad/nn/rng"
)

// toyDataset is a generated data set of n samples of shape 2×3×2.
func toyDataset(n int) *Dataset {
	d := &Dataset{Name: "toy", N: n, C: 2, H: 3, W: 2, Classes: 10,
		Mean: []float32{0.5, 0.25}, Std: []float32{0.2, 0.4}}
	s := d.SampleSize()
	d.Pixels = make([]uint8, n*s)
	d.Labels = make([]uint8, n)
	for i := 0; i < n; i++ {
		for j := 0; j < s; j++ {
			d.Pixels[i*s+j] = pixelAt(0, i, j)
		}
		d.Labels[i] = labelAt(0, i)
	}
	return d
}

// stream draws steps batches and returns their concatenated indices and
// the batch sizes, checking the values against Normalize.
func stream(t *testing.T, b *Batcher, d *Dataset, steps int) (idx []int32, sizes []int) {
	t.Helper()
	s := d.SampleSize()
	x := make([]float32, b.BatchSize()*s)
	y := make([]uint8, b.BatchSize())
	want := make([]float32, s)
	for k := 0; k < steps; k++ {
		n := b.Next(x, y)
		sizes = append(sizes, n)
		if len(b.Indices()) != n {
			t.Fatalf("Indices has %d entries for a batch of %d", len(b.Indices()), n)
		}
		for j, i := range b.Indices() {
			d.Normalize(want, int(i))
			if !slices.Equal(x[j*s:(j+1)*s], want) || y[j] != d.Labels[i] {
				t.Fatalf("batch %d sample %d (index %d) differs from Normalize", k, j, i)
			}
		}
		idx = append(idx, b.Indices()...)
	}
	return idx, sizes
}

func isPermutation(p []int32, n int) bool {
	seen := make([]bool, n)
	for _, i := range p {
		if i < 0 || int(i) >= n || seen[i] {
			return false
		}
		seen[i] = true
	}
	return len(p) == n
}

func TestNormalizeValues(t *testing.T) {
	d := &Dataset{Name: "m", N: 1, C: 1, H: 1, W: 2, Classes: 10, Pixels: []uint8{0, 255}, Labels: []uint8{3},
		Mean: []float32{MNISTMean}, Std: []float32{MNISTStd}}
	x := make([]float32, 2)
	y := make([]uint8, 1)
	e, err := NewEvalIterator(d, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	e.Next(x, y)
	if math.Abs(float64(x[0])-(-0.1307/0.3081)) > 1e-6 || math.Abs(float64(x[1])-(0.8693/0.3081)) > 1e-6 || y[0] != 3 {
		t.Fatalf("normalised %v, label %d", x, y[0])
	}
}

func TestBatcherEpochCoverage(t *testing.T) {
	const n, bs = 23, 5
	d := toyDataset(n)
	key := ShuffleKey(7)
	t.Run("wrap", func(t *testing.T) {
		b, err := NewBatcher(d, nil, bs, TailWrap, key)
		if err != nil {
			t.Fatal(err)
		}
		idx, sizes := stream(t, b, d, 4*n) // 20 epochs of samples
		for _, s := range sizes {
			if s != bs {
				t.Fatalf("batch of %d under TailWrap", s)
			}
		}
		for e := 0; e < 20; e++ {
			if !isPermutation(idx[e*n:(e+1)*n], n) {
				t.Fatalf("epoch %d is not a permutation: %v", e, idx[e*n:(e+1)*n])
			}
		}
		if slices.Equal(idx[:n], idx[n:2*n]) {
			t.Fatal("epochs 0 and 1 have the same order")
		}
		if b.Seen() != int64(4*n*bs) || b.Epoch() != 19 {
			t.Fatalf("seen %d, epoch %d", b.Seen(), b.Epoch())
		}
	})
	t.Run("partial", func(t *testing.T) {
		b, _ := NewBatcher(d, nil, bs, TailPartial, key)
		steps := b.StepsPerEpoch()
		if steps != 5 {
			t.Fatalf("StepsPerEpoch %d", steps)
		}
		for e := 0; e < 3; e++ {
			idx, sizes := stream(t, b, d, steps)
			if !slices.Equal(sizes, []int{5, 5, 5, 5, 3}) || !isPermutation(idx, n) {
				t.Fatalf("epoch %d: sizes %v, idx %v", e, sizes, idx)
			}
		}
	})
	t.Run("drop", func(t *testing.T) {
		b, _ := NewBatcher(d, nil, bs, TailDrop, key)
		if b.StepsPerEpoch() != 4 {
			t.Fatal("StepsPerEpoch")
		}
		var epochs [][]int32
		for e := 0; e < 3; e++ {
			idx, _ := stream(t, b, d, 4)
			seen := map[int32]bool{}
			for _, i := range idx {
				if seen[i] {
					t.Fatalf("epoch %d repeats %d", e, i)
				}
				seen[i] = true
			}
			epochs = append(epochs, idx)
		}
		// The same key gives the same permutations regardless of policy.
		w, _ := NewBatcher(d, nil, bs, TailPartial, key)
		for e := 0; e < 3; e++ {
			idx, _ := stream(t, w, d, 5)
			if !slices.Equal(idx[:20], epochs[e]) {
				t.Fatalf("epoch %d order depends on the tail policy", e)
			}
		}
	})
}

func TestBatcherIndexList(t *testing.T) {
	d := toyDataset(40)
	index := Bootstrap(40, BootstrapKey(3, 0))
	b, err := NewBatcher(d, index, 8, TailWrap, ShuffleKey(1))
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := stream(t, b, d, 10) // two epochs
	for e := 0; e < 2; e++ {
		got := slices.Clone(idx[e*40 : (e+1)*40])
		want := slices.Clone(index)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("epoch %d does not visit the index list's multiset", e)
		}
	}
}

func TestBatcherDeterminism(t *testing.T) {
	d := toyDataset(50)
	run := func(key rng.Key) []int32 {
		b, err := NewBatcher(d, nil, 7, TailWrap, key)
		if err != nil {
			t.Fatal(err)
		}
		idx, _ := stream(t, b, d, 30)
		return idx
	}
	a, b2 := run(ShuffleKey(11)), run(ShuffleKey(11))
	if !slices.Equal(a, b2) {
		t.Fatal("same key, different batches")
	}
	if slices.Equal(a, run(ShuffleKey(12))) {
		t.Fatal("different seeds, same batches")
	}
}

func TestBatcherStateRestore(t *testing.T) {
	d := toyDataset(23)
	for _, tail := range []Tail{TailWrap, TailDrop, TailPartial} {
		for _, warm := range []int{0, 3, 4, 5, 14} {
			b, err := NewBatcher(d, nil, 5, tail, ShuffleKey(5))
			if err != nil {
				t.Fatal(err)
			}
			stream(t, b, d, warm)
			raw, err := json.Marshal(b.State())
			if err != nil {
				t.Fatal(err)
			}
			want, wantSizes := stream(t, b, d, 12)
			var st BatcherState
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatal(err)
			}
			r, _ := NewBatcher(d, nil, 5, tail, ShuffleKey(999)) // the state carries the key
			if err := r.SetState(st); err != nil {
				t.Fatal(err)
			}
			got, gotSizes := stream(t, r, d, 12)
			if !slices.Equal(got, want) || !slices.Equal(gotSizes, wantSizes) {
				t.Fatalf("%v after %d steps: resumed batches differ\n got %v\nwant %v", tail, warm, got, want)
			}
		}
	}
}

func TestBatcherStateMismatch(t *testing.T) {
	d := toyDataset(30)
	b, _ := NewBatcher(d, nil, 5, TailWrap, ShuffleKey(1))
	st := b.State()
	other, _ := NewBatcher(d, nil, 6, TailWrap, ShuffleKey(1))
	wantErr(t, other.SetState(st), "batch size 5")
	other, _ = NewBatcher(d, Bootstrap(30, BootstrapKey(1, 0)), 5, TailWrap, ShuffleKey(1))
	wantErr(t, other.SetState(st), "different sample list")
	other, _ = NewBatcher(d, nil, 5, TailDrop, ShuffleKey(1))
	wantErr(t, other.SetState(st), "tail policy wrap")
	bad := st
	bad.Pos = 31
	wantErr(t, b.SetState(bad), "invalid position")
}

func TestBatcherErrors(t *testing.T) {
	d := toyDataset(10)
	_, err := NewBatcher(d, []int32{1, 10}, 2, TailWrap, ShuffleKey(1))
	wantErr(t, err, "toy", "index[1] = 10 out of range")
	_, err = NewBatcher(d, nil, 0, TailWrap, ShuffleKey(1))
	wantErr(t, err, "batch size 0")
	_, err = NewBatcher(d, nil, 11, TailDrop, ShuffleKey(1))
	wantErr(t, err, "exceeds the 10 samples")
	_, err = NewBatcher(d, []int32{}, 2, TailWrap, ShuffleKey(1))
	wantErr(t, err, "no samples")
	_, err = NewEvalIterator(nil, nil, 2)
	wantErr(t, err, "nil data set")
	bad := toyDataset(3)
	bad.Labels[1] = 10
	_, err = NewEvalIterator(bad, nil, 2)
	wantErr(t, err, "sample 1 has label 10")
	// A batch larger than the data set is fine when wrapping.
	b, err := NewBatcher(d, nil, 25, TailWrap, ShuffleKey(1))
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := stream(t, b, d, 2)
	for e := 0; e < 5; e++ {
		if !isPermutation(idx[e*10:(e+1)*10], 10) {
			t.Fatal("wrapping batch larger than the data set")
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("no panic on a too small buffer")
		}
	}()
	b.Next(make([]float32, 10), make([]uint8, 25))
}

func TestNoAllocations(t *testing.T) {
	d := toyDataset(13)
	b, _ := NewBatcher(d, nil, 4, TailWrap, ShuffleKey(2))
	e, _ := NewEvalIterator(d, nil, 4)
	x := make([]float32, 4*d.SampleSize())
	y := make([]uint8, 4)
	if a := testing.AllocsPerRun(50, func() { b.Next(x, y) }); a != 0 {
		t.Errorf("Batcher.Next allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(50, func() {
		if e.Next(x, y) == 0 {
			e.Reset()
		}
	}); a != 0 {
		t.Errorf("EvalIterator.Next allocates %v times per call", a)
	}
}

func TestEvalIterator(t *testing.T) {
	d := toyDataset(23)
	e, err := NewEvalIterator(d, nil, 5)
	if err != nil {
		t.Fatal(err)
	}
	if e.Batches() != 5 || e.Len() != 23 {
		t.Fatalf("Batches %d Len %d", e.Batches(), e.Len())
	}
	s := d.SampleSize()
	x := make([]float32, 5*s)
	y := make([]uint8, 5)
	want := make([]float32, s)
	for pass := 0; pass < 2; pass++ {
		var sizes []int
		next := int32(0)
		for n := e.Next(x, y); n > 0; n = e.Next(x, y) {
			sizes = append(sizes, n)
			for j, i := range e.Indices() {
				d.Normalize(want, int(i))
				if i != next || !slices.Equal(x[j*s:(j+1)*s], want) || y[j] != d.Labels[i] {
					t.Fatalf("sample %d wrong", i)
				}
				next++
			}
		}
		if !slices.Equal(sizes, []int{5, 5, 5, 5, 3}) || e.Next(x, y) != 0 {
			t.Fatalf("sizes %v", sizes)
		}
		e.Reset()
	}
	sub, _ := NewEvalIterator(d, []int32{22, 0, 5}, 2)
	sub.Next(x, y)
	if !slices.Equal(sub.Indices(), []int32{22, 0}) || sub.Next(x, y) != 1 || sub.Indices()[0] != 5 {
		t.Fatal("index list order")
	}
}

func TestBootstrap(t *testing.T) {
	const n = 20000
	a := Bootstrap(n, BootstrapKey(1, 0))
	if len(a) != n || !slices.Equal(a, Bootstrap(n, BootstrapKey(1, 0))) {
		t.Fatal("bootstrap not deterministic")
	}
	if slices.Equal(a, Bootstrap(n, BootstrapKey(1, 1))) {
		t.Fatal("replicates 0 and 1 coincide")
	}
	seen := map[int32]bool{}
	for _, i := range a {
		if i < 0 || i >= n {
			t.Fatalf("index %d out of range", i)
		}
		seen[i] = true
	}
	// About 1 - 1/e of the samples appear in a bootstrap resample.
	if f := float64(len(seen)) / n; math.Abs(f-(1-1/math.E)) > 0.02 {
		t.Fatalf("unique fraction %v", f)
	}
	if Resample(0, 5, BootstrapKey(1, 0)) != nil || len(Resample(10, 3, BootstrapKey(1, 0))) != 3 {
		t.Fatal("Resample sizes")
	}
}

func TestSubsetSliceValidate(t *testing.T) {
	d := toyDataset(10)
	sub, err := d.Subset([]int32{9, 2, 2})
	if err != nil || sub.N != 3 || sub.Labels[0] != d.Labels[9] || !slices.Equal(sub.Sample(2), d.Sample(2)) || sub.Validate() != nil {
		t.Fatalf("Subset: %v", err)
	}
	sub.Mean[0] = 9
	if d.Mean[0] == 9 {
		t.Fatal("Subset shares the normalisation slice")
	}
	_, err = d.Subset([]int32{10})
	wantErr(t, err, "toy", "subset index 10")
	sl, err := d.Slice(3, 7)
	if err != nil || sl.N != 4 || &sl.Pixels[0] != &d.Pixels[3*d.SampleSize()] || sl.Validate() != nil {
		t.Fatalf("Slice: %v", err)
	}
	_, err = d.Slice(5, 11)
	wantErr(t, err, "slice [5,11)")
	for _, mod := range []func(*Dataset){
		func(d *Dataset) { d.Pixels = d.Pixels[1:] },
		func(d *Dataset) { d.Labels = d.Labels[1:] },
		func(d *Dataset) { d.Std[1] = 0 },
		func(d *Dataset) { d.Mean = d.Mean[:1] },
		func(d *Dataset) { d.C = 0 },
		func(d *Dataset) { d.Classes = 0 },
		func(d *Dataset) { d.Mean[0] = float32(math.NaN()) },
	} {
		bad := toyDataset(4)
		mod(bad)
		if bad.Validate() == nil {
			t.Error("Validate accepted an inconsistent data set")
		}
	}
}

func TestLoadByName(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	writeMNIST(t, dir, 3, 2, 2, 2)
	if tr, _, err := Load("MNIST", Options{Dir: dir}); err != nil || tr.N != 3 {
		t.Fatal(err)
	}
	cdir := t.TempDir()
	writeFiles(t, cdir, cifarFiles(1, 1))
	if tr, _, err := Load("cifar-10", Options{Dir: cdir}); err != nil || tr.N != 5 {
		t.Fatal(err)
	}
	_, _, err := Load("imagenet", Options{})
	wantErr(t, err, "unknown data set", "mnist, cifar10")
}
