package bench

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn/kernels"
)

// stepHashes are the SHA-256 digests of the parameters, Adam moments and
// losses after three training steps at batch 150 on the AVX2 path with one
// kernel thread, recorded with the kernels of the checkpointed CIFAR-10
// campaign. Long runs resume from checkpoints on that path, so its results
// must not change by a single bit.
var stepHashes = map[string]string{
	"smallfc/baseline/wd=0":        "223e10676b3a196c76ab28117030c8d2b00a19959bce91dc8a2b56274a328422",
	"smallfc/baseline/wd=0.0005":   "7745c2b50fa5a63c538b7016b337e435b05b006ca2a9a73626ca9fe6f8ed22a9",
	"smallfc/dropout-0.1/wd=0":     "4a2a05a088a4052ef980b89f7f70194ad0adfde3778917c781780d301d12cd92",
	"smallfc/rad-project/wd=0":     "0ab2e39f5bc73602dc032f05e36bb45421cc57f8b41326fbc154751705f1ccd6",
	"smallfc/spad-k10-m10/wd=0":    "7b3ded78f6535bb681d551cd0e90abd74dd5bd8beecf19a9662f69bc48454e9e",
	"smallconv/baseline/wd=0":      "a2f5ca9321db3b77f21f6a042d899912e7779e9366e46c8475aaf8c157299dfc",
	"smallconv/baseline/wd=0.0005": "d2b41fec4ee6e97a67c4cf85e0e27adf90efd0b07e05c0f28ea442d279a6c762",
	"smallconv/dropout-0.1/wd=0":   "d62320727683fbd0cb13abd02a3a85e6b616f1d75c8bbf627f44097d9f7e0b64",
}

// stepDigest runs steps training steps of model with estimator e on the
// active path and returns the digest of the state they leave.
func stepDigest(t testing.TB, model string, e int, wd float64, steps int) string {
	spec, err := models.Get(model)
	if err != nil {
		t.Fatal(err)
	}
	est := StepEstimators[e]
	r, err := NewStepRig(spec, est.Estimator, est.Dropout, 150)
	if err != nil {
		t.Fatal(err)
	}
	r.Opt.WeightDecay = wd
	h := sha256.New()
	var b [8]byte
	for i := 0; i < steps; i++ {
		loss, _ := r.Net.TrainStep(r.x, r.y, len(r.y), r.iter, nil)
		r.Opt.Step(r.Net.Params(), 1e-3)
		r.iter++
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(loss))
		h.Write(b[:])
	}
	for _, p := range r.Net.Params() {
		for _, v := range p.Value {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
			h.Write(b[:4])
		}
	}
	for _, buf := range r.Opt.State().Buffers {
		for _, v := range buf {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
			h.Write(b[:4])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// bitCases are the (model, estimator index) pairs whose AVX2 results are
// pinned.
var bitCases = []struct {
	model string
	est   int
	wd    float64
}{
	{"smallfc", 0, 0}, {"smallfc", 0, 5e-4}, {"smallfc", 1, 0}, {"smallfc", 2, 0}, {"smallfc", 5, 0},
	{"smallconv", 0, 0}, {"smallconv", 0, 5e-4}, {"smallconv", 1, 0},
}

// TestAVX2StepBits checks that the AVX2 path with one kernel thread gives,
// bit for bit, the training steps it gave when the campaign's checkpoints
// were written. SPAD_BITS_PRINT=1 prints the digests instead.
func TestAVX2StepBits(t *testing.T) {
	if !kernels.Available(kernels.AVX2) {
		t.Skip("no AVX2 path on this machine/build")
	}
	if testing.Short() {
		t.Skip("runs SmallConvNet steps on one thread")
	}
	old, oldT := kernels.Active(), kernels.Threads()
	defer func() { _ = kernels.SetPath(old); kernels.SetThreads(oldT) }()
	if err := kernels.SetPath(kernels.AVX2); err != nil {
		t.Fatal(err)
	}
	kernels.SetThreads(1)
	for _, c := range bitCases {
		key := fmt.Sprintf("%s/%s/wd=%g", c.model, StepEstimators[c.est].Name, c.wd)
		got := stepDigest(t, c.model, c.est, c.wd, 3)
		if os.Getenv("SPAD_BITS_PRINT") != "" {
			t.Logf("%q: %q,", key, got)
			continue
		}
		if want := stepHashes[key]; got != want {
			t.Errorf("%s: AVX2 one-thread steps changed: digest %s, want %s", key, got, want)
		}
	}
}

// TestConcurrentTraining trains two networks in two goroutines at once on
// two kernel threads: both must finish and give bitwise the steps of a
// network trained alone.
func TestConcurrentTraining(t *testing.T) {
	oldT := kernels.Threads()
	defer kernels.SetThreads(oldT)
	kernels.SetThreads(2)
	for _, c := range []struct {
		model string
		est   int
	}{{"smallfc", 0}, {"smallfc", 1}} {
		want := stepDigest(t, c.model, c.est, 0, 4)
		var got [2]string
		var wg sync.WaitGroup
		for g := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[g] = stepDigest(t, c.model, c.est, 0, 4)
			}()
		}
		wg.Wait()
		for g := range got {
			if got[g] != want {
				t.Errorf("%s/%s: goroutine %d trained to %s, alone %s", c.model, StepEstimators[c.est].Name, g, got[g], want)
			}
		}
	}
}
