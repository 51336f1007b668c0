package datasets

import (
	"fmt"
	"math"
)

// Dataset is a labelled image data set held compactly: one byte per pixel and
// channel, one byte per label. Sample i occupies
// Pixels[i*SampleSize() : (i+1)*SampleSize()] in C×H×W order (channel planes,
// then rows). Batches are normalised per channel as (x/255 − Mean[c])/Std[c]
// when they are produced; an empty Mean means 0 and an empty Std means 1.
//
// A streamed data set (Streamed, from a loader in Stream mode) has no
// Pixels: its samples stay in files and the iterators read each one when a
// batch needs it. Its Labels are in memory as usual.
type Dataset struct {
	Name       string    // short name, e.g. "mnist-train"
	N          int       // number of samples
	C, H, W    int       // per-sample shape: channels, height, width
	Classes    int       // number of classes; every label is < Classes
	Pixels     []uint8   // N*C*H*W bytes
	Labels     []uint8   // N labels
	Mean, Std  []float32 // per-channel normalisation, length C (or empty)
	ClassNames []string  // optional human-readable class names

	src  *store // streamed: where the pixels are (nil: in Pixels)
	base int    // streamed: index in src of sample 0
}

// SampleSize returns the number of values in one sample, C*H*W.
func (d *Dataset) SampleSize() int { return d.C * d.H * d.W }

// Bytes returns the memory held by the pixels and labels, in bytes (the
// labels only, for a streamed data set).
func (d *Dataset) Bytes() int64 { return int64(len(d.Pixels)) + int64(len(d.Labels)) }

// Sample returns the raw bytes of sample i: a sub-slice of Pixels, not a
// copy, or for a streamed data set a new slice read from its file.
func (d *Dataset) Sample(i int) []uint8 {
	s := d.SampleSize()
	if d.src != nil {
		if i < 0 || i >= d.N {
			panic(fmt.Sprintf("datasets: %s: sample %d out of range [0,%d)", d.Name, i, d.N))
		}
		return d.sample(make([]uint8, s), i)
	}
	return d.Pixels[i*s : (i+1)*s : (i+1)*s]
}

// Validate checks that the fields are mutually consistent: shape positive,
// slice lengths matching N, labels below Classes and the normalisation
// well formed. Loaders return only validated data sets.
func (d *Dataset) Validate() error {
	if d.N < 0 || d.C <= 0 || d.H <= 0 || d.W <= 0 {
		return fmt.Errorf("datasets: %s: bad shape N=%d C=%d H=%d W=%d", d.Name, d.N, d.C, d.H, d.W)
	}
	if d.Classes <= 0 || d.Classes > 256 {
		return fmt.Errorf("datasets: %s: bad number of classes %d (want 1..256)", d.Name, d.Classes)
	}
	if d.src != nil {
		if len(d.Pixels) != 0 || d.src.size != d.SampleSize() || d.base < 0 || d.base+d.N > d.src.n {
			return fmt.Errorf("datasets: %s: streamed samples %d..%d of %d-byte samples do not fit the %d stored samples of %d bytes (or Pixels is set too)",
				d.Name, d.base, d.base+d.N, d.SampleSize(), d.src.n, d.src.size)
		}
	} else if len(d.Pixels) != d.N*d.SampleSize() {
		return fmt.Errorf("datasets: %s: %d pixel bytes, want N*C*H*W = %d", d.Name, len(d.Pixels), d.N*d.SampleSize())
	}
	if len(d.Labels) != d.N {
		return fmt.Errorf("datasets: %s: %d labels, want N = %d", d.Name, len(d.Labels), d.N)
	}
	for i, l := range d.Labels {
		if int(l) >= d.Classes {
			return fmt.Errorf("datasets: %s: sample %d has label %d, want < %d", d.Name, i, l, d.Classes)
		}
	}
	if len(d.Mean) != 0 && len(d.Mean) != d.C {
		return fmt.Errorf("datasets: %s: %d means for %d channels", d.Name, len(d.Mean), d.C)
	}
	if len(d.Std) != 0 && len(d.Std) != d.C {
		return fmt.Errorf("datasets: %s: %d standard deviations for %d channels", d.Name, len(d.Std), d.C)
	}
	for c, s := range d.Std {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("datasets: %s: standard deviation %v of channel %d is not a positive number", d.Name, s, c)
		}
	}
	for c, m := range d.Mean {
		if math.IsNaN(float64(m)) || math.IsInf(float64(m), 0) {
			return fmt.Errorf("datasets: %s: mean %v of channel %d is not finite", d.Name, m, c)
		}
	}
	return nil
}

// ClassCounts returns how many samples carry each label.
func (d *Dataset) ClassCounts() []int {
	counts := make([]int, d.Classes)
	for _, l := range d.Labels {
		if int(l) < len(counts) {
			counts[l]++
		}
	}
	return counts
}

// mean and std return the normalisation constants of channel c.
func (d *Dataset) mean(c int) float32 {
	if len(d.Mean) == 0 {
		return 0
	}
	return d.Mean[c]
}

func (d *Dataset) std(c int) float32 {
	if len(d.Std) == 0 {
		return 1
	}
	return d.Std[c]
}

// Normalize writes sample i, normalised, into dst[:SampleSize()]. It is the
// reference form of what the batch iterators do through a lookup table.
func (d *Dataset) Normalize(dst []float32, i int) {
	plane := d.H * d.W
	src := d.Sample(i)
	dst = dst[:len(src)]
	for c := 0; c < d.C; c++ {
		m, s := d.mean(c), d.std(c)
		for j := c * plane; j < (c+1)*plane; j++ {
			dst[j] = (float32(src[j])/255 - m) / s
		}
	}
}

// Subset returns a new data set holding copies of the samples idx, in that
// order, in memory (also when d is streamed). Indices out of range give an
// error. Use an index list with the iterators instead when a copy is not
// needed.
func (d *Dataset) Subset(idx []int32) (*Dataset, error) {
	s := d.SampleSize()
	out := d.shallow(len(idx))
	out.Pixels = make([]uint8, len(idx)*s)
	out.Labels = make([]uint8, len(idx))
	for k, i := range idx {
		if i < 0 || int(i) >= d.N {
			return nil, fmt.Errorf("datasets: %s: subset index %d out of range [0,%d)", d.Name, i, d.N)
		}
		if d.src != nil {
			if _, err := d.src.readAt(out.Pixels[k*s:(k+1)*s], d.base+int(i)); err != nil {
				return nil, err
			}
		} else {
			copy(out.Pixels[k*s:(k+1)*s], d.Pixels[int(i)*s:(int(i)+1)*s])
		}
		out.Labels[k] = d.Labels[i]
	}
	return out, nil
}

// Slice returns samples [lo, hi) as a data set sharing d's memory (no copy).
func (d *Dataset) Slice(lo, hi int) (*Dataset, error) {
	if lo < 0 || hi < lo || hi > d.N {
		return nil, fmt.Errorf("datasets: %s: slice [%d,%d) out of range [0,%d]", d.Name, lo, hi, d.N)
	}
	s := d.SampleSize()
	out := d.shallow(hi - lo)
	if d.src != nil {
		out.src, out.base = d.src, d.base+lo
	} else {
		out.Pixels = d.Pixels[lo*s : hi*s : hi*s]
	}
	out.Labels = d.Labels[lo:hi:hi]
	return out, nil
}

// shallow copies d's metadata for a data set of n samples.
func (d *Dataset) shallow(n int) *Dataset {
	return &Dataset{
		Name: d.Name, N: n, C: d.C, H: d.H, W: d.W, Classes: d.Classes,
		Mean:       append([]float32(nil), d.Mean...),
		Std:        append([]float32(nil), d.Std...),
		ClassNames: append([]string(nil), d.ClassNames...),
	}
}

// ChannelStats computes the per-channel mean and standard deviation of the
// pixel values scaled to [0,1] (x/255), over all samples. It is what the
// normalisation constants are derived from.
func (d *Dataset) ChannelStats() (mean, std []float32) {
	plane := d.H * d.W
	sum := make([]float64, d.C)
	sq := make([]float64, d.C)
	buf := make([]uint8, d.SampleSize())
	for i := 0; i < d.N; i++ {
		px := d.sample(buf, i)
		for c := 0; c < d.C; c++ {
			var a, b uint64
			for _, v := range px[c*plane : (c+1)*plane] {
				a += uint64(v)
				b += uint64(v) * uint64(v)
			}
			sum[c] += float64(a)
			sq[c] += float64(b)
		}
	}
	mean = make([]float32, d.C)
	std = make([]float32, d.C)
	n := float64(d.N) * float64(plane)
	if n == 0 {
		return mean, std
	}
	for c := range mean {
		m := sum[c] / n / 255
		v := sq[c]/n/(255*255) - m*m
		mean[c] = float32(m)
		std[c] = float32(math.Sqrt(math.Max(v, 0)))
	}
	return mean, std
}
