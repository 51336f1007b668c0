package datasets

import (
	"fmt"
	"math"
	"reflect"
	"sync"
)

// Source is a labelled sample set, whatever holds it: the byte images of a
// Dataset (in memory or streamed from disk), float32 samples in memory
// (Floats, FromFloats, ReadCSV), or a type of the caller's. The batch
// iterators (NewBatcher, NewEvalIterator) and train.Runner take any Source.
//
// Sample i, for 0 ≤ i < Info().N, has Info().C×H×W values in C×H×W order
// (channel planes, then rows) and a label in [0, Info().Classes). When an
// iterator is built, Info is read once and every label checked (by
// Validate when the Source is a Validator, else through Label); then Fill
// and Label are called for every sample a batch holds, so Fill should not
// allocate: in a training step nothing else does. Fill may panic on an
// index out of range, a programming error.
//
// A Source's samples must not change while an iterator walks them, and a
// run resumed from a checkpoint must be given the same samples in the
// same order: an iterator's state (and a checkpoint's) is a position in a
// permutation of the indices, not data.
type Source interface {
	// Info returns the set's name, size, per-sample shape and number of
	// classes.
	Info() Info
	// Label returns the label of sample i.
	Label(i int) int
	// Fill writes sample i, normalised as the network is to see it, into
	// dst[:C*H*W].
	Fill(dst []float32, i int)
}

// Info describes a Source: a name for messages and records, the number of
// samples, the per-sample shape and the number of classes (labels are in
// [0, Classes); the iterators deliver them as bytes, so Classes ≤ 256).
type Info struct {
	Name    string
	N       int
	C, H, W int
	Classes int
}

// SampleSize returns the number of values in one sample, C*H*W.
func (in Info) SampleSize() int { return in.C * in.H * in.W }

// Sizer is implemented by a Source that can tell the memory its samples and
// labels hold in the process, in bytes (Dataset.Bytes, Floats.Bytes); the
// run records report it.
type Sizer interface {
	Bytes() int64
}

// Validator is implemented by a Source that checks its own consistency
// (Dataset.Validate, Floats.Validate); CheckSource calls it instead of
// reading every label through the interface.
type Validator interface {
	Validate() error
}

// Info returns d's name, size, shape and number of classes.
func (d *Dataset) Info() Info {
	return Info{Name: d.Name, N: d.N, C: d.C, H: d.H, W: d.W, Classes: d.Classes}
}

// Label returns the label of sample i.
func (d *Dataset) Label(i int) int { return int(d.Labels[i]) }

// sampleBufs holds the sample buffers Fill reads streamed samples into.
var sampleBufs sync.Pool

// Fill writes sample i, normalised as the batch iterators write it
// ((x/255 − Mean[c])/Std[c]), into dst[:SampleSize()]. It does not
// allocate for a data set in memory, nor in the steady state for a
// streamed one (whose sample is read into a pooled buffer).
func (d *Dataset) Fill(dst []float32, i int) {
	if d.src == nil {
		d.Normalize(dst, i)
		return
	}
	if i < 0 || i >= d.N {
		panic(fmt.Sprintf("datasets: %s: sample %d out of range [0,%d)", d.Name, i, d.N))
	}
	s := d.SampleSize()
	bp, _ := sampleBufs.Get().(*[]uint8)
	if bp == nil || cap(*bp) < s {
		b := make([]uint8, s)
		bp = &b
	}
	px := d.sample((*bp)[:s], i)
	plane := d.H * d.W
	dst = dst[:s]
	for c := 0; c < d.C; c++ {
		m, sd := d.mean(c), d.std(c)
		for j := c * plane; j < (c+1)*plane; j++ {
			dst[j] = (float32(px[j])/255 - m) / sd
		}
	}
	sampleBufs.Put(bp)
}

// isNil reports whether s is nil or a nil pointer in an interface.
func isNil(s Source) bool {
	if s == nil {
		return true
	}
	v := reflect.ValueOf(s)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Interface, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// CheckSource checks that s describes a usable sample set: not nil, a
// positive shape, 1 to 256 classes and, through its Validate method when
// it has one (else by reading them), every label in range.
func CheckSource(s Source) error {
	if isNil(s) {
		return fmt.Errorf("datasets: nil data set")
	}
	if v, ok := s.(Validator); ok {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	in := s.Info()
	if in.N < 0 || in.C <= 0 || in.H <= 0 || in.W <= 0 {
		return fmt.Errorf("datasets: %s: bad shape N=%d C=%d H=%d W=%d", in.Name, in.N, in.C, in.H, in.W)
	}
	if in.Classes <= 0 || in.Classes > 256 {
		return fmt.Errorf("datasets: %s: bad number of classes %d (want 1..256)", in.Name, in.Classes)
	}
	if _, ok := s.(Validator); ok {
		return nil
	}
	for i := 0; i < in.N; i++ {
		if l := s.Label(i); l < 0 || l >= in.Classes {
			return fmt.Errorf("datasets: %s: sample %d has label %d, want 0..%d", in.Name, i, l, in.Classes-1)
		}
	}
	return nil
}

// Bytes returns the memory s reports holding (Sizer), else 0.
func Bytes(s Source) int64 {
	if z, ok := s.(Sizer); ok && !isNil(s) {
		return z.Bytes()
	}
	return 0
}

// Slice returns samples [lo, hi) of s as a Source, without copying: a
// Dataset's or a Floats' own Slice, else a view that shifts the indices.
func Slice(s Source, lo, hi int) (Source, error) {
	switch d := s.(type) {
	case *Dataset:
		return d.Slice(lo, hi)
	case *Floats:
		return d.Slice(lo, hi)
	}
	in := s.Info()
	if lo < 0 || hi < lo || hi > in.N {
		return nil, fmt.Errorf("datasets: %s: slice [%d,%d) out of range [0,%d]", in.Name, lo, hi, in.N)
	}
	if v, ok := s.(*view); ok {
		return &view{s: v.s, lo: v.lo + lo, n: hi - lo}, nil
	}
	return &view{s: s, lo: lo, n: hi - lo}, nil
}

// view is samples [lo, lo+n) of a Source.
type view struct {
	s     Source
	lo, n int
}

func (v *view) Info() Info {
	in := v.s.Info()
	in.N = v.n
	return in
}

func (v *view) Label(i int) int { return v.s.Label(v.lo + i) }

func (v *view) Fill(dst []float32, i int) { v.s.Fill(dst, v.lo+i) }

// Bytes returns the memory of the underlying set: a view holds no samples
// of its own, and keeps the whole set alive.
func (v *view) Bytes() int64 { return Bytes(v.s) }

// SourceStats computes the per-channel mean and standard deviation of the
// values Fill writes, over all samples of s (in float64), for instance to
// standardise a Floats set (Floats.Standardize). For a Dataset use
// ChannelStats, which gives the constants of its Mean and Std fields.
func SourceStats(s Source) (mean, std []float32) {
	in := s.Info()
	plane := in.H * in.W
	sum := make([]float64, in.C)
	sq := make([]float64, in.C)
	buf := make([]float32, in.SampleSize())
	for i := 0; i < in.N; i++ {
		s.Fill(buf, i)
		for c := 0; c < in.C; c++ {
			var a, b float64
			for _, v := range buf[c*plane : (c+1)*plane] {
				a += float64(v)
				b += float64(v) * float64(v)
			}
			sum[c] += a
			sq[c] += b
		}
	}
	mean = make([]float32, in.C)
	std = make([]float32, in.C)
	n := float64(in.N) * float64(plane)
	if n == 0 {
		return mean, std
	}
	for c := range mean {
		m := sum[c] / n
		mean[c] = float32(m)
		std[c] = float32(math.Sqrt(math.Max(sq[c]/n-m*m, 0)))
	}
	return mean, std
}
