package train

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/rng"
)

// clusters makes n samples of dim features in classes Gaussian clusters.
func clusters(n, dim, classes int, seed uint64) ([]float32, []uint8) {
	src := rng.New(rng.Key{Seed: seed})
	centers := make([]float64, classes*dim)
	for i := range centers {
		centers[i] = 2 * src.NormFloat64()
	}
	x := make([]float32, n*dim)
	y := make([]uint8, n)
	for i := range y {
		c := src.Intn(classes)
		y[i] = uint8(c)
		for j := 0; j < dim; j++ {
			x[i*dim+j] = float32(centers[c*dim+j] + src.NormFloat64())
		}
	}
	return x, y
}

// spadMLP is a small network with a SPAD layer (which keeps a scheduler)
// and a RAD layer, built at batch 20.
func spadMLP(t testing.TB, hidden int) *nn.Network {
	t.Helper()
	h1, h2 := layers.NewDense(16, hidden), layers.NewDense(hidden, 3)
	h1.Estimator = inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.25, KMax: 4, M: 3}
	h2.Estimator = inject.Estimator{Mode: inject.RAD, Kind: inject.SameSample, Keep: 0.5}
	net := nn.NewNetwork(nn.Shape{16}, h1, layers.NewReLU(), h2)
	if err := net.Build(20, 0, 5); err != nil {
		t.Fatal(err)
	}
	return net
}

func sameParams(a, b *nn.Network) bool {
	for i, p := range a.Params() {
		for j, v := range p.Value {
			if b.Params()[i].Value[j] != v {
				return false
			}
		}
	}
	return true
}

// Two Fit calls from Starts 0 and 37 with the same optimiser and Total
// train exactly as one call: same parameters bit for bit. A Fit whose
// start is not the next step is an error, not a panic.
func TestFitContinues(t *testing.T) {
	x, y := clusters(300, 16, 3, 1)
	straight := spadMLP(t, 24)
	if _, err := Fit(straight, x, y, FitConfig{Iters: 80, LR: 3e-3, Seed: 2, Opt: NewAdam(0)}); err != nil {
		t.Fatal(err)
	}
	split := spadMLP(t, 24)
	opt := NewAdam(0)
	if _, err := Fit(split, x, y, FitConfig{Iters: 37, LR: 3e-3, Seed: 2, Opt: opt, Total: 80}); err != nil {
		t.Fatal(err)
	}
	_, err := Fit(split, x, y, FitConfig{Iters: 10, LR: 3e-3, Seed: 2, Opt: NewAdam(0)})
	if err == nil || !strings.Contains(err.Error(), "layer 0 (") || !strings.Contains(err.Error(), "set FitConfig.Start to 37") {
		t.Fatalf("second Fit from step 0: %v, want an error naming the layer and step 37", err)
	}
	if _, err := Fit(split, x, y, FitConfig{Iters: 10, LR: 3e-3, Seed: 2, Start: 37}); err == nil || !strings.Contains(err.Error(), "needs the optimizer") {
		t.Fatalf("Fit from step 37 without optimizer: %v", err)
	}
	if _, err := Fit(split, x, y, FitConfig{Iters: 10, LR: 3e-3, Seed: 2, Start: 36, Opt: opt}); err == nil || !strings.Contains(err.Error(), "has taken 37 steps") {
		t.Fatalf("Fit from step 36 with an optimizer at 37: %v", err)
	}
	if _, err := Fit(split, x, y, FitConfig{Iters: 43, LR: 3e-3, Seed: 2, Opt: opt, Start: 37, Total: 80}); err != nil {
		t.Fatal(err)
	}
	if !sameParams(straight, split) {
		t.Fatal("Fit 0..37 then 37..80 differs from Fit 0..80")
	}
}

// A custom loop checkpointed with SaveCheckpoint and resumed in a fresh
// network and optimiser with LoadCheckpoint ends bit-identical to the
// uninterrupted loop; the metadata comes back; mismatches are errors that
// name the file and the field and leave the network as it was.
func TestSaveLoadCheckpointResume(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "net.ckpt")
	x, y := clusters(300, 16, 3, 1)
	for _, name := range []string{"adam", "sgd"} {
		newOpt := func() Optimizer { o, _ := NewOptimizer(name, 0.9*float64(len(name)-3), 1e-4); return o }
		straight := spadMLP(t, 24)
		if _, err := Fit(straight, x, y, FitConfig{Iters: 60, LR: 3e-3, Seed: 2, Opt: newOpt()}); err != nil {
			t.Fatal(err)
		}
		first, opt := spadMLP(t, 24), newOpt()
		if _, err := Fit(first, x, y, FitConfig{Iters: 23, LR: 3e-3, Seed: 2, Opt: opt, Total: 60}); err != nil {
			t.Fatal(err)
		}
		if err := SaveCheckpoint(path, first, opt, 23, map[string]string{"note": "blobs"}); err != nil {
			t.Fatal(err)
		}
		resumed, opt2 := spadMLP(t, 24), newOpt()
		step, meta, err := LoadCheckpoint(path, resumed, opt2)
		if err != nil || step != 23 || meta["note"] != "blobs" {
			t.Fatalf("%s: LoadCheckpoint = %d, %v, %v", name, step, meta, err)
		}
		if _, err := Fit(resumed, x, y, FitConfig{Iters: 37, LR: 3e-3, Seed: 2, Opt: opt2, Start: step, Total: 60}); err != nil {
			t.Fatal(err)
		}
		if !sameParams(straight, resumed) {
			t.Fatalf("%s: resumed loop differs from the uninterrupted one", name)
		}
	}

	// Mismatches: each an error naming the file and what differs, and
	// the network untouched.
	fresh := spadMLP(t, 24)
	before := spadMLP(t, 24)
	cases := []struct {
		name string
		load func() error
		want string
	}{
		{"shape", func() error { _, _, err := LoadCheckpoint(path, spadMLP(t, 25), NewSGD(0.9, 1e-4)); return err }, "tensor 0 is"},
		{"optimizer", func() error { _, _, err := LoadCheckpoint(path, fresh, NewAdam(0)); return err }, "optimizer: the file holds sgd's state"},
		{"not built", func() error { _, _, err := LoadCheckpoint(path, nn.NewNetwork(nn.Shape{16}), nil); return err }, "not built"},
		{"layers", func() error {
			n := nn.NewNetwork(nn.Shape{16}, layers.NewDense(16, 24), layers.NewReLU(), layers.NewDense(24, 3), layers.NewReLU())
			if err := n.Build(20, 0, 5); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadCheckpoint(path, n, nil)
			return err
		}, "layers: the file has 3 layer states, the network has 4"},
		{"estimator", func() error {
			n := nn.NewNetwork(nn.Shape{16}, layers.NewDense(16, 24), layers.NewReLU(), layers.NewDense(24, 3))
			if err := n.Build(20, 0, 5); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadCheckpoint(path, n, nil)
			return err
		}, "layer states: nn: layer 0"},
	}
	for _, tc := range cases {
		err := tc.load()
		var ce *CheckpointError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a CheckpointError naming the file and containing %q", tc.name, err, tc.want)
		}
	}
	if !sameParams(fresh, before) {
		t.Error("a failed load changed the network")
	}
	// A step that is not the layers' next one is refused on save, and a
	// file whose layer state disagrees with its step on load.
	if err := SaveCheckpoint(filepath.Join(dir, "off.ckpt"), fresh, nil, 22, nil); err == nil || !strings.Contains(err.Error(), "step 22, but layer 0 (") {
		t.Errorf("SaveCheckpoint at the wrong step: %v", err)
	}
	off := filepath.Join(dir, "off.ckpt")
	{
		data, _ := os.ReadFile(path)
		_, hdr, payload, err := readFrame(path, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		hdr = bytes.Replace(hdr, []byte(`"step":23`), []byte(`"step":24`), 1)
		var floats []float32
		for i := 0; i < len(payload); i += 4 {
			floats = append(floats, math.Float32frombits(binary.LittleEndian.Uint32(payload[i:])))
		}
		frame := minimalCheckpoint(string(hdr), floats)
		binary.LittleEndian.PutUint32(frame[8:], netVersion)
		binary.LittleEndian.PutUint32(frame[len(frame)-4:], crc32.Checksum(frame[:len(frame)-4], castagnoli))
		if err := os.WriteFile(off, frame, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := LoadCheckpoint(off, spadMLP(t, 24), nil); err == nil || !strings.Contains(err.Error(), "layer 0 state is at step 22, the checkpoint at step 24") {
		t.Errorf("LoadCheckpoint of a file whose step disagrees with its layers: %v", err)
	}
	// The network alone (nil optimizer) loads; a corrupt byte does not.
	if _, _, err := LoadCheckpoint(path, fresh, nil); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 1
	bad := filepath.Join(dir, "bad.ckpt")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadCheckpoint(bad, spadMLP(t, 24), nil); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupt file: %v", err)
	}
	// A Runner's loader refuses a network checkpoint with a clear word.
	if _, _, err := readCheckpoint(path, strings.NewReader(string(data[:0]))); err == nil {
		t.Error("empty file accepted")
	}
	f, _ := os.Open(path)
	defer f.Close()
	if _, _, err := readCheckpoint(path, f); err == nil || !strings.Contains(err.Error(), "load it with train.LoadCheckpoint") {
		t.Errorf("Runner loader on a network checkpoint: %v", err)
	}
}

// FuzzLoadNetCheckpoint: a network checkpoint with any header, framed and
// checksummed as SaveCheckpoint frames it, either loads — and the loop
// then continues (or Fit refuses a step out of order) without a panic — or
// is a CheckpointError naming the file.
func FuzzLoadNetCheckpoint(f *testing.F) {
	dir := f.TempDir()
	x, y := clusters(100, 16, 3, 1)
	net, opt := spadMLP(f, 8), NewAdam(0)
	if _, err := Fit(net, x, y, FitConfig{Iters: 4, LR: 1e-3, Opt: opt}); err != nil {
		f.Fatal(err)
	}
	good := filepath.Join(dir, "good.ckpt")
	if err := SaveCheckpoint(good, net, opt, 4, map[string]string{"k": "v"}); err != nil {
		f.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	v, hdr, payload, err := readFrame(good, bytes.NewReader(data))
	if err != nil || v != netVersion {
		f.Fatal(v, err)
	}
	f.Add(hdr)
	f.Add(bytes.Replace(hdr, []byte(`"step":4`), []byte(`"step":-1`), 1))
	f.Add(bytes.Replace(hdr, []byte(`"Step":3`), []byte(`"Step":9`), 1))
	f.Add(bytes.Replace(hdr, []byte(`"opt_step":4`), []byte(`"opt_step":0`), 1))
	f.Add(bytes.Replace(hdr, []byte(`"Selected":`), []byte(`"Selected":7`), 1))
	f.Add(bytes.Replace(hdr, []byte(`"adam"`), []byte(`"sgd"`), 1))
	var floats []float32
	for i := 0; i < len(payload); i += 4 {
		floats = append(floats, math.Float32frombits(binary.LittleEndian.Uint32(payload[i:])))
	}
	path := filepath.Join(dir, "fuzz.ckpt")
	f.Fuzz(func(t *testing.T, hdr []byte) {
		frame := minimalCheckpoint(string(hdr), floats)
		binary.LittleEndian.PutUint32(frame[8:], netVersion)
		binary.LittleEndian.PutUint32(frame[len(frame)-4:], crc32.Checksum(frame[:len(frame)-4], castagnoli))
		if err := os.WriteFile(path, frame, 0o644); err != nil {
			t.Fatal(err)
		}
		n, o := spadMLP(t, 8), NewAdam(0)
		step, _, err := LoadCheckpoint(path, n, o)
		if err != nil {
			var ce *CheckpointError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %T does not name the file: %v", err, err)
			}
			return
		}
		_, _ = Fit(n, x, y, FitConfig{Iters: 1, LR: 1e-3, Opt: o, Start: step})
	})
}
