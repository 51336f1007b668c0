package datasets

import (
	"math"
	"slices"
	"testing"

	"github.com/spadlab/spad/nn/rng"
)

// toyFloats is a generated Floats set of n samples of shape 2×2×3 and 4
// classes.
func toyFloats(t testing.TB, n int) *Floats {
	t.Helper()
	src := rng.New(rng.Key{Seed: 4})
	x := make([]float32, n*12)
	for i := range x {
		x[i] = float32(src.NormFloat64())
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 4
	}
	f, err := FromFloats(x, labels, 2, 2, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFromFloats(t *testing.T) {
	f := toyFloats(t, 10)
	if in := f.Info(); in != (Info{Name: "floats", N: 10, C: 2, H: 2, W: 3, Classes: 4}) {
		t.Fatalf("Info %+v", in)
	}
	if f.Bytes() != 10*12*4+10*8 {
		t.Errorf("Bytes %d", f.Bytes())
	}
	dst := make([]float32, 12)
	f.Fill(dst, 3)
	if !slices.Equal(dst, f.X[36:48]) || f.Label(3) != 3 {
		t.Fatal("Fill or Label of sample 3")
	}
	x := make([]float32, 24)
	cases := []struct {
		x       []float32
		labels  []int
		c, h, w int
		classes int
		want    string
	}{
		{x, []int{0, 1}, 0, 3, 4, 2, "bad sample shape C=0 H=3 W=4"},
		{x, []int{0, 1}, 2, 3, 2, 2, ""},
		{x, []int{0, 1, 2}, 2, 3, 2, 3, "24 values for 3 labels of 2×3×2 samples, want 36"},
		{x, []int{0, 2}, 1, 3, 4, 2, "sample 1 has label 2, want 0..1"},
		{x, []int{0, -1}, 1, 3, 4, 0, "sample 1 has label -1"},
		{x, []int{0, 1}, 1, 3, 4, 300, "bad number of classes 300"},
		{x, []int{}, 1, 3, 4, 0, "bad number of classes 0"},
		{append(make([]float32, 13), float32(math.NaN())), []int{0}, 1, 2, 7, 1, "value 13 of sample 0 is NaN"},
		{append(make([]float32, 20), float32(math.Inf(-1))), []int{0, 0, 0}, 1, 1, 7, 1, "value 6 of sample 2 is -Inf"},
	}
	for _, c := range cases {
		_, err := FromFloats(c.x, c.labels, c.c, c.h, c.w, c.classes)
		if c.want == "" {
			if err != nil {
				t.Errorf("FromFloats: %v", err)
			}
			continue
		}
		wantErr(t, err, c.want)
	}
}

func TestFloatsSliceStandardize(t *testing.T) {
	f := toyFloats(t, 40)
	s, err := f.Slice(10, 25)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 15 || &s.X[0] != &f.X[120] || s.Label(0) != f.Label(10) {
		t.Fatal("Slice does not share the samples")
	}
	if _, err := f.Slice(5, 41); err == nil {
		t.Fatal("slice past the end accepted")
	}
	mean, std := SourceStats(f)
	// The reference: a direct two-pass computation per channel.
	for c := 0; c < 2; c++ {
		var vals []float64
		for i := 0; i < 40; i++ {
			for _, v := range f.X[i*12+c*6 : i*12+c*6+6] {
				vals = append(vals, float64(v))
			}
		}
		var m, v float64
		for _, x := range vals {
			m += x
		}
		m /= float64(len(vals))
		for _, x := range vals {
			v += (x - m) * (x - m)
		}
		v /= float64(len(vals))
		if math.Abs(float64(mean[c])-m) > 1e-6 || math.Abs(float64(std[c])-math.Sqrt(v)) > 1e-5 {
			t.Errorf("channel %d: stats %v %v, want %v %v", c, mean[c], std[c], m, math.Sqrt(v))
		}
	}
	if err := f.Standardize(mean, std); err != nil {
		t.Fatal(err)
	}
	mean, std = SourceStats(f)
	for c := range mean {
		if math.Abs(float64(mean[c])) > 1e-5 || math.Abs(float64(std[c])-1) > 1e-5 {
			t.Errorf("after Standardize channel %d has mean %v, std %v", c, mean[c], std[c])
		}
	}
	wantErr(t, f.Standardize([]float32{0}, []float32{1}), "1 means and 1 standard deviations for 2 channels")
	wantErr(t, f.Standardize([]float32{0, 0}, []float32{1, 0}), "channel 1: mean 0, standard deviation 0")
}

// The iterators over a Floats set (or any Source) deliver its samples and
// labels as they are, reshuffle as over a Dataset of the same size,
// restore their state, and allocate nothing.
func TestFloatsIterators(t *testing.T) {
	f := toyFloats(t, 23)
	s := f.SampleSize()
	for _, src := range []Source{f, opaque{f}} {
		b, err := NewBatcher(src, nil, 5, TailWrap, ShuffleKey(9))
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := NewBatcher(toyDataset(23), nil, 5, TailWrap, ShuffleKey(9))
		x := make([]float32, 5*s)
		y := make([]uint8, 5)
		rx, ry := make([]float32, 5*toyDataset(1).SampleSize()), make([]uint8, 5)
		for k := 0; k < 12; k++ {
			if k == 6 {
				st := b.State()
				if st != ref.State() {
					t.Fatalf("state %+v, over a Dataset of the same size %+v", st, ref.State())
				}
				b, _ = NewBatcher(src, nil, 5, TailWrap, ShuffleKey(0))
				if err := b.SetState(st); err != nil {
					t.Fatal(err)
				}
			}
			n := b.Next(x, y)
			ref.Next(rx, ry)
			if n != 5 || !slices.Equal(b.Indices(), ref.Indices()) {
				t.Fatalf("batch %d: indices %v, over a Dataset %v", k, b.Indices(), ref.Indices())
			}
			for j, i := range b.Indices() {
				if !slices.Equal(x[j*s:(j+1)*s], f.X[int(i)*s:int(i+1)*s]) || int(y[j]) != f.Labels[i] {
					t.Fatalf("batch %d sample %d differs from sample %d", k, j, i)
				}
			}
		}
		if a := testing.AllocsPerRun(20, func() { b.Next(x, y) }); a != 0 {
			t.Errorf("Batcher.Next over %T allocates %v times", src, a)
		}
		e, err := NewEvalIterator(src, []int32{4, 0, 22}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if n := e.Next(x, y); n != 2 || !slices.Equal(x[:s], f.X[4*s:5*s]) || y[1] != 0 {
			t.Fatal("EvalIterator over an index list")
		}
		if a := testing.AllocsPerRun(20, func() {
			if e.Next(x, y) == 0 {
				e.Reset()
			}
		}); a != 0 {
			t.Errorf("EvalIterator.Next over %T allocates %v times", src, a)
		}
	}
}

// badLabels is a Source whose sample 2 has a label out of range.
type badLabels struct{ opaque }

func (b badLabels) Label(i int) int {
	if i == 2 {
		return 7
	}
	return b.opaque.Label(i)
}

func TestCheckSource(t *testing.T) {
	var nilSet *Dataset
	var nilFloats *Floats
	wantErr(t, CheckSource(nil), "nil data set")
	wantErr(t, CheckSource(nilSet), "nil data set")
	wantErr(t, CheckSource(nilFloats), "nil data set")
	f := toyFloats(t, 6)
	wantErr(t, CheckSource(badLabels{opaque{f}}), "floats: sample 2 has label 7, want 0..3")
	f.Labels[1] = 4
	wantErr(t, CheckSource(f), "sample 1 has label 4")
	_, err := NewBatcher(f, nil, 2, TailWrap, ShuffleKey(1))
	wantErr(t, err, "sample 1 has label 4")
	d := toyDataset(4)
	d.C = 0
	wantErr(t, CheckSource(opaque{d}), "bad shape N=4 C=0")
}

// sized is a Source that tells its memory.
type sized struct{ opaque }

func (sized) Bytes() int64 { return 1234 }

// Slice of any Source is a view (that reports the memory of the whole);
// of a Dataset, its own Slice.
func TestSliceSource(t *testing.T) {
	d := toyDataset(20)
	s, err := Slice(d, 5, 12)
	if err != nil {
		t.Fatal(err)
	}
	if ds, ok := s.(*Dataset); !ok || ds.N != 7 || ds.Labels[0] != d.Labels[5] {
		t.Fatalf("Slice of a Dataset: %T %+v", s, s.Info())
	}
	v, err := Slice(sized{opaque{d}}, 5, 12)
	if err != nil {
		t.Fatal(err)
	}
	vv, err := Slice(v, 2, 6)
	if err != nil {
		t.Fatal(err)
	}
	if in := vv.Info(); in.N != 4 || in.Name != "toy" || vv.Label(0) != int(d.Labels[7]) || Bytes(vv) != 1234 {
		t.Fatalf("view of a view: %+v, label %d, bytes %d", in, vv.Label(0), Bytes(vv))
	}
	got, want := make([]float32, d.SampleSize()), make([]float32, d.SampleSize())
	vv.Fill(got, 3)
	d.Normalize(want, 10)
	if !slices.Equal(got, want) {
		t.Fatal("view Fill")
	}
	_, err = Slice(v, 3, 8)
	wantErr(t, err, "toy: slice [3,8) out of range [0,7]")
	if Bytes(opaque{d}) != 0 {
		t.Error("Bytes of a Source without a Bytes method")
	}
}

// Fill of a streamed Dataset reads the sample into a pooled buffer: it
// gives what Normalize gives and does not allocate once warm.
func TestStreamedFill(t *testing.T) {
	dir := t.TempDir()
	writeUnevenCIFAR(t, dir)
	mem, _ := loadUneven(t, dir, Options{Mode: Memory})
	str, test := loadUneven(t, dir, Options{Mode: Stream, CacheDir: dir})
	defer str.Close()
	defer test.Close()
	got, want := make([]float32, mem.SampleSize()), make([]float32, mem.SampleSize())
	for i := 0; i < str.N; i += 5 {
		str.Fill(got, i)
		mem.Normalize(want, i)
		if !slices.Equal(got, want) || str.Label(i) != int(mem.Labels[i]) {
			t.Fatalf("streamed Fill of sample %d", i)
		}
	}
	if a := testing.AllocsPerRun(20, func() { str.Fill(got, 3) }); a > 0.5 {
		t.Errorf("streamed Fill allocates %v times", a)
	}
}
