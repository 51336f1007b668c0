package inject

import (
	"math"
	"strings"
	"testing"

	"github.com/spadlab/spad/nn/kernels"
	"github.com/spadlab/spad/nn/rng"
)

var allKinds = []Kind{Project, SameSample, DiffSample}

// Small problem of the unbiasedness tests.
const (
	tRows = 8
	tF    = 20
	tOut  = 3
)

func smallProblem() (x, delta []float32) {
	return randn(rng.Key{Seed: 1, Stream: 1}, tRows*tF), randn(rng.Key{Seed: 1, Stream: 2}, tRows*tOut)
}

func TestKindParse(t *testing.T) {
	for _, k := range allKinds {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	_, err := ParseKind("gaussian")
	want := `inject: unknown projection kind "gaussian" (valid: project, same-sample, diff-sample)`
	if err == nil || err.Error() != want {
		t.Errorf("ParseKind(gaussian) error = %v, want %q", err, want)
	}
}

func TestKeepToK(t *testing.T) {
	for _, c := range []struct {
		keep float64
		f, k int
	}{{0.1, 784, 79}, {0.1, 300, 30}, {0.1, 1024, 103}, {1, 784, 784}, {0.25, 20, 5}, {1e-9, 50, 1}, {0.5, 1, 1}, {0.3, 10, 3}} {
		if got := KeepToK(c.keep, c.f); got != c.k {
			t.Errorf("KeepToK(%v, %d) = %d, want %d", c.keep, c.f, got, c.k)
		}
	}
}

// sampleK returns distinct in-range indices, and every k-subset of [0,7) is
// equally likely: chi-square over the 35 subsets of size 3 with 70,000 draws
// (34 degrees of freedom; the threshold 80 is exceeded with probability
// below 1e-5).
func TestSampleKUniformSubsets(t *testing.T) {
	table := make([]float32, tableSize(64))
	idx := make([]float32, 64)
	var src rng.Source
	for _, c := range [][2]int{{1, 1}, {5, 1}, {5, 5}, {10, 9}, {100, 64}, {1 << 20, 50}} {
		src.Reset(rng.Key{Seed: uint64(c[0]), Draw: uint64(c[1])})
		for rep := 0; rep < 20; rep++ {
			sampleK(&src, c[0], c[1], idx, table)
			seen := map[int]bool{}
			for _, f := range idx[:c[1]] {
				v := int(f)
				if float32(v) != f || v < 0 || v >= c[0] || seen[v] {
					t.Fatalf("n=%d k=%d: bad or repeated index %v in %v", c[0], c[1], f, idx[:c[1]])
				}
				seen[v] = true
			}
		}
	}
	counts := map[int]int{}
	src.Reset(rng.Key{Seed: 5})
	const draws = 70000
	for i := 0; i < draws; i++ {
		sampleK(&src, 7, 3, idx, table)
		mask := 0
		for _, f := range idx[:3] {
			mask |= 1 << int(f)
		}
		counts[mask]++
	}
	if len(counts) != 35 {
		t.Fatalf("saw %d distinct subsets, want 35", len(counts))
	}
	exp := float64(draws) / 35
	var chi2 float64
	for _, c := range counts {
		chi2 += (float64(c) - exp) * (float64(c) - exp) / exp
	}
	if chi2 > 80 {
		t.Errorf("chi-square over subsets = %.1f > 80", chi2)
	}
}

func TestRademacherEntries(t *testing.T) {
	p := Projector{Kind: Project, F: 37, K: 9}
	P := make([]float32, p.F*p.K)
	p.genRademacher(rng.Key{Seed: 3}, P)
	v := float32(1 / math.Sqrt(9))
	var sum float64
	for _, e := range P {
		if e != v && e != -v {
			t.Fatalf("entry %v, want ±%v", e, v)
		}
		sum += float64(e) / float64(v)
	}
	// Mean of 333 signs: 5σ = 5·√333 ≈ 91.
	if math.Abs(sum) > 5*math.Sqrt(float64(len(P))) {
		t.Errorf("sum of signs %v too far from 0", sum)
	}
}

// The Rademacher matrix is the key's sequence, bit by bit, whether it is
// generated on one thread or split over two (sizes around a Philox block).
func TestRademacherSequence(t *testing.T) {
	for _, fk := range [][2]int{{37, 9}, {800, 80}, {3001, 29}} {
		p := Projector{Kind: Project, F: fk[0], K: fk[1]}
		key := rng.Key{Seed: 4, Stream: 2, Draw: 9}
		var src rng.Source
		src.Reset(key)
		want := make([]float32, p.F*p.K)
		mag := math.Float32bits(float32(1 / math.Sqrt(float64(p.K))))
		for i := 0; i < len(want); i += 32 {
			w := src.Uint32()
			for b := i; b < min(i+32, len(want)); b++ {
				want[b] = math.Float32frombits(mag | (w>>uint(b-i)&1)<<31)
			}
		}
		for _, threads := range []int{1, 2} {
			saved := kernels.Threads()
			kernels.SetThreads(threads)
			P := make([]float32, len(want)+1)
			p.genRademacher(key, P)
			kernels.SetThreads(saved)
			for i := range want {
				if math.Float32bits(P[i]) != math.Float32bits(want[i]) {
					t.Fatalf("F=%d K=%d threads=%d: entry %d = %g, want %g", p.F, p.K, threads, i, P[i], want[i])
				}
			}
			if P[len(want)] != 0 {
				t.Fatalf("F=%d K=%d: wrote past F·K", p.F, p.K)
			}
		}
	}
}

// estimate returns δᵀ·x̂ for one key via Compress + WeightGrad.
func estimate(p Projector, key rng.Key, x, delta []float32, c, dW, scratch []float32) []float32 {
	p.Compress(key, x, tRows, 0, c, scratch)
	clear(dW)
	p.WeightGrad(key, delta, c, tRows, 0, tOut, dW, scratch)
	return dW
}

// TestUnbiased: for fixed x and δ, the mean of n independent estimates of
// δᵀ·x̂ (fresh keys) is within zBound standard errors of δᵀ·x at n = 2,000 and
// n = 20,000, for every kind and for keep = 0.25 and keep = 1 (K = F, where
// Project is unbiased but not exact).
func TestUnbiased(t *testing.T) {
	x, delta := smallProblem()
	exact := exactGrad(delta, x, tRows, tOut, tF)
	for _, kind := range allKinds {
		for _, keep := range []float64{0.25, 1} {
			p := NewProjector(kind, tF, keep)
			c := make([]float32, tRows*p.K)
			dW := make([]float32, tOut*tF)
			scratch := make([]float32, p.ScratchSize(tRows, tOut))
			for si, n := range []int{2000, 20000} {
				mc := newMeanCheck(len(exact))
				for i := 0; i < n; i++ {
					key := rng.Key{Seed: 10 + uint64(si), Stream: uint64(kind), Draw: uint64(i)}
					mc.add(estimate(p, key, x, delta, c, dW, scratch))
				}
				bad, worst := mc.check(exact)
				if bad > 0 {
					t.Errorf("%v keep=%v n=%d: %d entries beyond %d s.e. (worst z %.2f)", kind, keep, n, bad, zBound, worst)
				}
				t.Logf("%v keep=%v n=%d: worst z %.2f, rel. error of mean %.4f", kind, keep, n, worst, relErr(mc.mean(), exact))
			}
		}
	}
}

// TestBiasedVariantsDetected: the same check rejects deliberately wrong
// estimators, so TestUnbiased can fail.
func TestBiasedVariantsDetected(t *testing.T) {
	x, delta := smallProblem()
	exact := exactGrad(delta, x, tRows, tOut, tF)
	const n = 2000
	cases := []struct {
		name string
		kind Kind
		est  func(p Projector, i int, c, xhat, scratch []float32) []float64
	}{
		{"same-sample without F/K scale", SameSample, func(p Projector, i int, c, xhat, scratch []float32) []float64 {
			key := rng.Key{Seed: 20, Draw: uint64(i)}
			p.Compress(key, x, tRows, 0, c, scratch)
			p.Reconstruct(key, c, tRows, 0, xhat, scratch)
			g := matTN(delta, xhat, tRows, tOut, tF)
			for j := range g {
				g[j] *= float64(p.K) / float64(p.F)
			}
			return g
		}},
		{"project reconstructed with another key", Project, func(p Projector, i int, c, xhat, scratch []float32) []float64 {
			p.Compress(rng.Key{Seed: 21, Draw: uint64(i)}, x, tRows, 0, c, scratch)
			p.Reconstruct(rng.Key{Seed: 22, Draw: uint64(i)}, c, tRows, 0, xhat, scratch)
			return matTN(delta, xhat, tRows, tOut, tF)
		}},
		{"diff-sample reconstructed with a shifted rowOffset", DiffSample, func(p Projector, i int, c, xhat, scratch []float32) []float64 {
			key := rng.Key{Seed: 23, Draw: uint64(i)}
			p.Compress(key, x, tRows, 0, c, scratch)
			p.Reconstruct(key, c, tRows, 1, xhat, scratch)
			return matTN(delta, xhat, tRows, tOut, tF)
		}},
	}
	for _, cs := range cases {
		p := NewProjector(cs.kind, tF, 0.25)
		c := make([]float32, tRows*p.K)
		xhat := make([]float32, tRows*tF)
		scratch := make([]float32, p.ScratchSize(tRows, tOut))
		mc := newMeanCheck(len(exact))
		for i := 0; i < n; i++ {
			mc.add64(cs.est(p, i, c, xhat, scratch))
		}
		bad, worst := mc.check(exact)
		if bad == 0 {
			t.Errorf("%s: not detected (worst z %.2f)", cs.name, worst)
		}
		t.Logf("%s: %d/%d entries flagged, worst z %.1f, rel. error %.2f", cs.name, bad, len(exact), worst, relErr(mc.mean(), exact))
	}
}

// TestKeepOneExact: with K = F the sampling kinds rebuild x exactly, while
// Project does not (P·Pᵀ ≠ I for a single draw; it is only unbiased).
func TestKeepOneExact(t *testing.T) {
	x, _ := smallProblem()
	for _, kind := range allKinds {
		p := NewProjector(kind, tF, 1)
		if p.K != tF {
			t.Fatalf("K = %d, want %d", p.K, tF)
		}
		c := make([]float32, tRows*p.K)
		xhat := make([]float32, tRows*tF)
		scratch := make([]float32, p.ScratchSize(tRows, 0))
		key := rng.Key{Seed: 4}
		p.Compress(key, x, tRows, 0, c, scratch)
		p.Reconstruct(key, c, tRows, 0, xhat, scratch)
		var maxd float64
		for i := range x {
			maxd = math.Max(maxd, math.Abs(float64(x[i]-xhat[i])))
		}
		if kind == Project {
			if maxd < 1e-3 {
				t.Errorf("project with K = F reconstructed x exactly (max diff %g); expected only unbiasedness", maxd)
			}
		} else if maxd != 0 {
			t.Errorf("%v with K = F: max |x̂−x| = %g, want 0", kind, maxd)
		}
	}
}

// TestWeightGradMatchesReconstruct: WeightGrad (compressed space) equals
// δᵀ·Reconstruct(...) to float tolerance, also on Dense-like shapes and with
// a non-zero rowOffset, and it accumulates into dW.
func TestWeightGradMatchesReconstruct(t *testing.T) {
	for _, kind := range allKinds {
		for _, sh := range [][4]int{{tRows, tF, tOut, 5}, {13, 97, 7, 10}, {1, 5, 1, 1}, {6, 64, 4, 64}} {
			rows, f, out, k := sh[0], sh[1], sh[2], sh[3]
			p := Projector{Kind: kind, F: f, K: k}
			x := randn(rng.Key{Seed: 7, Stream: 1}, rows*f)
			delta := randn(rng.Key{Seed: 7, Stream: 2}, rows*out)
			c := make([]float32, rows*k)
			xhat := make([]float32, rows*f)
			scratch := make([]float32, p.ScratchSize(rows, out))
			key := rng.Key{Seed: 8, Draw: uint64(kind)}
			const off = 37
			p.Compress(key, x, rows, off, c, scratch)
			p.Reconstruct(key, c, rows, off, xhat, scratch)
			want := matTN(delta, xhat, rows, out, f)
			dW := make([]float32, out*f)
			for i := range dW {
				dW[i] = 1 // accumulation
			}
			p.WeightGradScaled(2, key, delta, c, rows, off, out, dW, scratch)
			for i := range dW {
				w := 1 + 2*want[i]
				if d := math.Abs(float64(dW[i]) - w); d > 1e-4*(1+math.Abs(w)) {
					t.Fatalf("%v %v: dW[%d] = %v, want %v", kind, sh, i, dW[i], w)
				}
			}
		}
	}
}

// TestChunkedEqualsWhole: compressing and accumulating the weight gradient in
// chunks of rows (with rowOffset) gives the same result as the whole batch.
func TestChunkedEqualsWhole(t *testing.T) {
	const rows, f, out, k = 10, 31, 4, 6
	x := randn(rng.Key{Seed: 9, Stream: 1}, rows*f)
	delta := randn(rng.Key{Seed: 9, Stream: 2}, rows*out)
	for _, kind := range allKinds {
		p := Projector{Kind: kind, F: f, K: k}
		scratch := make([]float32, p.ScratchSize(rows, out))
		key := rng.Key{Seed: 10, Stream: 5, Draw: 77}
		whole := make([]float32, rows*k)
		p.Compress(key, x, rows, 0, whole, scratch)
		chunked := make([]float32, rows*k)
		for _, ch := range [][2]int{{0, 3}, {3, 4}, {7, 3}} {
			p.Compress(key, x[ch[0]*f:], ch[1], ch[0], chunked[ch[0]*k:], scratch)
		}
		for i := range whole {
			if whole[i] != chunked[i] {
				t.Fatalf("%v: chunked c[%d] = %v, whole %v", kind, i, chunked[i], whole[i])
			}
		}
		dWhole := make([]float32, out*f)
		p.WeightGrad(key, delta, whole, rows, 0, out, dWhole, scratch)
		dChunk := make([]float32, out*f)
		for _, ch := range [][2]int{{0, 3}, {3, 4}, {7, 3}} {
			p.WeightGrad(key, delta[ch[0]*out:], chunked[ch[0]*k:], ch[1], ch[0], out, dChunk, scratch)
		}
		for i := range dWhole {
			if d := math.Abs(float64(dWhole[i] - dChunk[i])); d > 1e-4*(1+math.Abs(float64(dWhole[i]))) {
				t.Fatalf("%v: chunked dW[%d] = %v, whole %v", kind, i, dChunk[i], dWhole[i])
			}
		}
	}
}

// TestSampleRowsDiffer: DiffSample draws differ between rows, SameSample
// draws do not.
func TestSampleRowsDiffer(t *testing.T) {
	const rows, f = 6, 40
	x := make([]float32, rows*f)
	for r := 0; r < rows; r++ {
		for i := 0; i < f; i++ {
			x[r*f+i] = float32(i)
		}
	}
	for _, kind := range []Kind{SameSample, DiffSample} {
		p := Projector{Kind: kind, F: f, K: 5}
		c := make([]float32, rows*5)
		p.Compress(rng.Key{Seed: 1}, x, rows, 0, c, make([]float32, p.ScratchSize(rows, 0)))
		same := true
		for r := 1; r < rows; r++ {
			for i := 0; i < 5; i++ {
				if c[r*5+i] != c[i] {
					same = false
				}
			}
		}
		if same != (kind == SameSample) {
			t.Errorf("%v: rows share their subset = %v", kind, same)
		}
	}
}

func TestProjectorPanics(t *testing.T) {
	for _, c := range []struct {
		name, want string
		f          func()
	}{
		{"K > F", "invalid projector F=4 K=5", func() { Projector{F: 4, K: 5}.ScratchSize(1, 1) }},
		{"short scratch", "scratch has 3 floats", func() {
			Projector{F: 4, K: 2}.Compress(rng.Key{}, make([]float32, 4), 1, 0, make([]float32, 2), make([]float32, 3))
		}},
		{"short c", "c has 1 floats, need 2", func() {
			Projector{Kind: SameSample, F: 4, K: 2}.Compress(rng.Key{}, make([]float32, 4), 1, 0, make([]float32, 1), make([]float32, 100))
		}},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), c.want) {
					t.Errorf("%s: panic %v, want containing %q", c.name, r, c.want)
				}
			}()
			c.f()
		}()
	}
}

func TestProjectorNoAllocs(t *testing.T) {
	const rows, f, out, k = 16, 50, 8, 5
	x := randn(rng.Key{Seed: 2}, rows*f)
	delta := randn(rng.Key{Seed: 3}, rows*out)
	c := make([]float32, rows*k)
	xhat := make([]float32, rows*f)
	dW := make([]float32, out*f)
	for _, kind := range allKinds {
		p := Projector{Kind: kind, F: f, K: k}
		scratch := make([]float32, p.ScratchSize(rows, out))
		key := rng.Key{Seed: 1, Draw: 2}
		for name, fn := range map[string]func(){
			"Compress":    func() { p.Compress(key, x, rows, 3, c, scratch) },
			"Reconstruct": func() { p.Reconstruct(key, c, rows, 3, xhat, scratch) },
			"WeightGrad":  func() { p.WeightGrad(key, delta, c, rows, 3, out, dW, scratch) },
			"GradNormSq":  func() { p.GradNormSq(key, delta, c, rows, 3, out, dW, scratch) },
		} {
			if a := testing.AllocsPerRun(20, fn); a != 0 {
				t.Errorf("%v %s: %v allocs per call", kind, name, a)
			}
		}
	}
}

// TestRademacherBlocksBitwise checks that Reconstruct and WeightGrad, which
// generate and apply P a row block at a time, give bitwise the results of
// the whole matrix in one product, on the layer shapes of SmallConvNet and
// SmallFCNet (those of SmallFCNet use P whole) and on shapes whose last
// block is short.
func TestRademacherBlocksBitwise(t *testing.T) {
	shapes := []radShape{{2048, 205, 8, 10}, {1024, 103, 32, 0}, {256, 26, 64, 0}, {784, 79, 150, 300}, {300, 30, 150, 10}, {1000, 70, 5, 7}, {3000, 30, 3, 2}}
	src := rng.New(rng.Key{Seed: 9})
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(src.NormFloat64())
		}
		return v
	}
	prev := kernels.Active()
	defer kernels.SetPath(prev)
	for _, path := range kernels.AvailablePaths() {
		if err := kernels.SetPath(path); err != nil {
			t.Fatal(err)
		}
		for _, sh := range shapes {
			rademacherBlocksCase(t, path, sh, fill)
		}
	}
}

// radShape is a projector's F and K with the rows and outputs of a call.
type radShape struct{ f, k, rows, out int }

func rademacherBlocksCase(t *testing.T, path kernels.Path, sh radShape, fill func(int) []float32) {
	p := Projector{Kind: Project, F: sh.f, K: sh.k}
	fb := p.radBlockRows()
	if fb < p.F && fb*p.K%128 != 0 {
		t.Fatalf("%v %+v: block of %d rows does not end on a Philox block", path, sh, fb)
	}
	if (fb < p.F) != (p.F*p.K > radWholeFloats) {
		t.Fatalf("%v %+v: blocks of %d rows for F·K = %d", path, sh, fb, p.F*p.K)
	}
	key := rng.Key{Seed: 3, Stream: 1, Draw: 4}
	full := make([]float32, p.F*p.K)
	p.genRademacher(key, full)
	c := fill(sh.rows * p.K)
	scratch := make([]float32, p.ScratchSize(sh.rows, sh.out))
	// Reconstruct.
	want := make([]float32, sh.rows*p.F)
	kernels.Sgemm(false, true, sh.rows, p.F, p.K, 1, c, p.K, full, p.K, 0, want, p.F)
	got := fill(sh.rows * p.F) // overwritten
	p.Reconstruct(key, c, sh.rows, 0, got, scratch)
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%v %+v: Reconstruct x̂[%d] = %v, whole P gives %v", path, sh, i, got[i], want[i])
		}
	}
	if sh.out == 0 {
		return
	}
	// WeightGradScaled, accumulating onto a non-zero dW.
	delta := fill(sh.rows * sh.out)
	dW0 := fill(sh.out * p.F)
	const alpha = 0.75
	T := make([]float32, sh.out*p.K)
	kernels.Sgemm(true, false, sh.out, p.K, sh.rows, alpha, delta, sh.out, c, p.K, 0, T, p.K)
	wantW := append([]float32(nil), dW0...)
	kernels.Sgemm(false, true, sh.out, p.F, p.K, 1, T, p.K, full, p.K, 1, wantW, p.F)
	gotW := append([]float32(nil), dW0...)
	p.WeightGradScaled(alpha, key, delta, c, sh.rows, 0, sh.out, gotW, scratch)
	for i := range wantW {
		if math.Float32bits(gotW[i]) != math.Float32bits(wantW[i]) {
			t.Fatalf("%v %+v: WeightGrad dW[%d] = %v, whole P gives %v", path, sh, i, gotW[i], wantW[i])
		}
	}
}

// TestCompressBlocksBitwise checks that Compress, which generates and
// applies P a depth block of the GEMM at a time, gives bitwise the
// compression of the whole matrix in one product, on every kernel path and
// thread count: on the layer shapes of SmallConvNet (the convolutions' rows
// for chunks of 2 and 8 samples) and of SmallFCNet (P whole), and on shapes
// whose blocks start inside a Philox block or whose last block is short.
func TestCompressBlocksBitwise(t *testing.T) {
	shapes := []radShape{{2048, 205, 8, 0}, {2048, 205, 1, 0}, {1024, 103, 128, 0}, {1024, 103, 32, 0}, {1024, 103, 6, 0},
		{256, 26, 256, 0}, {784, 79, 150, 0}, {1000, 70, 5, 0}, {3000, 30, 3, 0}, {1100, 90, 13, 0}}
	src := rng.New(rng.Key{Seed: 11})
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(src.NormFloat64())
		}
		return v
	}
	prevPath, prevThreads := kernels.Active(), kernels.Threads()
	defer func() { kernels.SetPath(prevPath); kernels.SetThreads(prevThreads) }()
	blocked := 0
	for _, path := range kernels.AvailablePaths() {
		if err := kernels.SetPath(path); err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			kernels.SetThreads(threads)
			for _, sh := range shapes {
				p := Projector{Kind: Project, F: sh.f, K: sh.k}
				fb := p.compressBlockRows()
				if (fb < p.F) != (p.F*p.K > radWholeFloats) {
					t.Fatalf("%+v: blocks of %d rows for F·K = %d", sh, fb, p.F*p.K)
				}
				if fb < p.F {
					blocked++
				}
				key := rng.Key{Seed: 5, Stream: 2, Draw: 7}
				full := make([]float32, p.F*p.K)
				p.genRademacher(key, full)
				x := fill(sh.rows * p.F)
				want := make([]float32, sh.rows*p.K)
				kernels.Sgemm(false, false, sh.rows, p.K, p.F, 1, x, p.F, full, p.K, 0, want, p.K)
				got := fill(sh.rows * p.K) // overwritten
				scratch := make([]float32, p.ScratchSize(sh.rows, 0))
				p.Compress(key, x, sh.rows, 0, got, scratch)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v, %d threads, %+v: Compress c[%d] = %v, whole P gives %v", path, threads, sh, i, got[i], want[i])
					}
				}
				// With room for P whole, Compress uses it whole.
				got = fill(sh.rows * p.K)
				p.Compress(key, x, sh.rows, 0, got, make([]float32, p.F*p.K))
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v, %d threads, %+v: Compress with P whole c[%d] = %v, want %v", path, threads, sh, i, got[i], want[i])
					}
				}
				if len(scratch) >= p.F*p.K && fb < p.F {
					t.Fatalf("%+v: blocked Compress asks for %d floats of scratch, P whole is %d", sh, len(scratch), p.F*p.K)
				}
			}
		}
	}
	if blocked == 0 {
		t.Fatal("no shape was compressed in blocks")
	}
}
