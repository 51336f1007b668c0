package datasets

import (
	"fmt"
	"math"
)

// Floats is a labelled sample set of float32 values held in memory, used as
// they are (already normalised, or standardised in place by Standardize):
// sample i is X[i*C*H*W : (i+1)*C*H*W] in C×H×W order, its label
// Labels[i]. Build one with FromFloats (which validates it) or ReadCSV; a
// Floats filled by hand should be checked with Validate.
type Floats struct {
	Name       string
	C, H, W    int
	Classes    int
	X          []float32 // N*C*H*W values
	Labels     []int     // N labels in [0, Classes)
	ClassNames []string  // optional human-readable class names
}

// FromFloats returns a Floats set over x (n samples of c×h×w values,
// n = len(labels)) and labels, which it shares (no copy), after checking
// that the shape is positive, that x holds exactly n samples of finite
// values and that every label is in [0, classes). classes ≤ 0 takes the
// largest label plus one. The set is called "floats"; set Name to change
// that.
func FromFloats(x []float32, labels []int, c, h, w, classes int) (*Floats, error) {
	if classes <= 0 {
		for _, l := range labels {
			classes = max(classes, l+1)
		}
	}
	f := &Floats{Name: "floats", C: c, H: h, W: w, Classes: classes, X: x, Labels: labels}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// Info returns f's name, size, shape and number of classes.
func (f *Floats) Info() Info {
	return Info{Name: f.Name, N: len(f.Labels), C: f.C, H: f.H, W: f.W, Classes: f.Classes}
}

// SampleSize returns the number of values in one sample, C*H*W.
func (f *Floats) SampleSize() int { return f.C * f.H * f.W }

// Len returns the number of samples.
func (f *Floats) Len() int { return len(f.Labels) }

// Label returns the label of sample i.
func (f *Floats) Label(i int) int { return f.Labels[i] }

// Fill copies sample i into dst[:SampleSize()].
func (f *Floats) Fill(dst []float32, i int) {
	s := f.SampleSize()
	copy(dst[:s], f.X[i*s:(i+1)*s])
}

// Bytes returns the memory held by the values and labels, in bytes.
func (f *Floats) Bytes() int64 { return 4*int64(len(f.X)) + 8*int64(len(f.Labels)) }

// Validate checks that the shape is positive, that X holds len(Labels)
// samples of finite values, and that the labels are in [0, Classes) with
// 1 ≤ Classes ≤ 256.
func (f *Floats) Validate() error {
	n := len(f.Labels)
	switch {
	case f.C <= 0 || f.H <= 0 || f.W <= 0:
		return fmt.Errorf("datasets: %s: bad sample shape C=%d H=%d W=%d (want positive)", f.Name, f.C, f.H, f.W)
	case f.Classes <= 0 || f.Classes > 256:
		return fmt.Errorf("datasets: %s: bad number of classes %d (want 1..256)", f.Name, f.Classes)
	case len(f.X) != n*f.SampleSize():
		return fmt.Errorf("datasets: %s: %d values for %d labels of %d×%d×%d samples, want %d",
			f.Name, len(f.X), n, f.C, f.H, f.W, n*f.SampleSize())
	case len(f.ClassNames) != 0 && len(f.ClassNames) != f.Classes:
		return fmt.Errorf("datasets: %s: %d class names for %d classes", f.Name, len(f.ClassNames), f.Classes)
	}
	for i, l := range f.Labels {
		if l < 0 || l >= f.Classes {
			return fmt.Errorf("datasets: %s: sample %d has label %d, want 0..%d", f.Name, i, l, f.Classes-1)
		}
	}
	s := f.SampleSize()
	for j, v := range f.X {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("datasets: %s: value %d of sample %d is %v", f.Name, j%s, j/s, v)
		}
	}
	return nil
}

// Slice returns samples [lo, hi) as a set sharing f's memory (no copy).
func (f *Floats) Slice(lo, hi int) (*Floats, error) {
	if lo < 0 || hi < lo || hi > len(f.Labels) {
		return nil, fmt.Errorf("datasets: %s: slice [%d,%d) out of range [0,%d]", f.Name, lo, hi, len(f.Labels))
	}
	s := f.SampleSize()
	out := *f
	out.X = f.X[lo*s : hi*s : hi*s]
	out.Labels = f.Labels[lo:hi:hi]
	out.ClassNames = append([]string(nil), f.ClassNames...)
	return &out, nil
}

// Standardize rewrites X in place as (x − mean[c]) / std[c] for each
// channel c, for instance with the statistics of the training set
// (SourceStats) applied to both the training and the test set. A standard
// deviation that is not a positive finite number is an error (a constant
// channel has std 0: pass 1 for it).
func (f *Floats) Standardize(mean, std []float32) error {
	if len(mean) != f.C || len(std) != f.C {
		return fmt.Errorf("datasets: %s: %d means and %d standard deviations for %d channels", f.Name, len(mean), len(std), f.C)
	}
	for c := range std {
		if !(std[c] > 0) || math.IsInf(float64(std[c]), 0) || math.IsNaN(float64(mean[c])) || math.IsInf(float64(mean[c]), 0) {
			return fmt.Errorf("datasets: %s: channel %d: mean %v, standard deviation %v (want finite, std > 0)", f.Name, c, mean[c], std[c])
		}
	}
	plane := f.H * f.W
	for c := 0; c < f.C; c++ {
		m, s := mean[c], std[c]
		for base := c * plane; base < len(f.X); base += f.SampleSize() {
			p := f.X[base : base+plane]
			for j, v := range p {
				p[j] = (v - m) / s
			}
		}
	}
	return nil
}
