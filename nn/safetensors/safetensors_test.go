package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/nn"
)

// tinyNet is dense 3→2, ReLU, dense 2→2: parameters 0.weight (2×3),
// 0.bias (2), 2.weight (2×2), 2.bias (2).
func tinyNet(t testing.TB, seed uint64) *nn.Network {
	net := nn.NewNetwork(nn.Shape{3}, layers.NewDense(3, 2), layers.NewReLU(), layers.NewDense(2, 2))
	if err := net.BuildInference(0, seed); err != nil {
		t.Fatal(err)
	}
	return net
}

// handFile builds a safetensors file byte by byte from the format's
// specification: 8 bytes little-endian header size N, N bytes of JSON
// header (here padded with spaces), then the little-endian data, each
// tensor at its [begin, end) offsets relative to the data start. The
// tensors are deliberately not in name or layer order.
func handFile(header string, data []float32) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, uint64(len(header)+3))
	b = append(b, header...)
	b = append(b, "   "...)
	for _, v := range data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

const tinyHeader = `{"__metadata__":{"format":"pt"},` +
	`"2.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
	`"0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]},` +
	`"2.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[32,48]},` +
	`"0.bias":{"dtype":"F32","shape":[2],"data_offsets":[48,56]}}`

// A file written by hand from the specification loads into the right
// parameters, and the network computes with them.
func TestLoadHandWritten(t *testing.T) {
	data := []float32{
		0.5, -1, // 2.bias
		1, 2, 3, 4, 5, 6, // 0.weight
		1, 0, 0, -1, // 2.weight
		0.25, -100, // 0.bias
	}
	net := tinyNet(t, 1)
	md, err := LoadBytes(handFile(tinyHeader, data), net)
	if err != nil {
		t.Fatal(err)
	}
	if md["format"] != "pt" {
		t.Fatalf("metadata %v", md)
	}
	// x = (1, 1, 1): hidden = relu(6.25, -85) = (6.25, 0); out = (6.75, -1)
	out := make([]float32, 2)
	if err := net.Predict([]float32{1, 1, 1}, 1, out, nn.Logits); err != nil {
		t.Fatal(err)
	}
	if out[0] != 6.75 || out[1] != -1 {
		t.Fatalf("logits %v, want [6.75 -1]", out)
	}
}

// Save then Load gives the same parameters and metadata; the file's header
// names follow PyTorch's Sequential.
func TestRoundTrip(t *testing.T) {
	a, b := tinyNet(t, 1), tinyNet(t, 2)
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := Save(path, a, map[string]string{"model": "tiny"}); err != nil {
		t.Fatal(err)
	}
	md, err := Load(path, b)
	if err != nil {
		t.Fatal(err)
	}
	if md["model"] != "tiny" {
		t.Fatalf("metadata %v", md)
	}
	for i, p := range a.Params() {
		for j, v := range p.Value {
			if b.Params()[i].Value[j] != v {
				t.Fatalf("%s[%d] = %v, want %v", p.Name, j, b.Params()[i].Value[j], v)
			}
		}
	}
	raw, _ := os.ReadFile(path)
	for _, n := range []string{`"0.weight"`, `"0.bias"`, `"2.weight"`, `"2.bias"`, `"F32"`, `[2,3]`} {
		if !bytes.Contains(raw, []byte(n)) {
			t.Errorf("file header lacks %s", n)
		}
	}
	if got, _ := Metadata(raw); got["model"] != "tiny" {
		t.Errorf("Metadata = %v", got)
	}
}

// Load names every wrong tensor and changes nothing.
func TestLoadErrors(t *testing.T) {
	data := make([]float32, 14)
	cases := []struct {
		header string
		want   string
	}{
		{strings.Replace(tinyHeader, `"shape":[2,3]`, `"shape":[3,2]`, 1),
			"safetensors: weights do not fit the network: 0.weight has shape [3 2], want [2 3]"},
		{strings.Replace(strings.Replace(tinyHeader, `"2.bias":{"dtype":"F32","shape":[2]`, `"2.bias":{"dtype":"I32","shape":[2]`, 1), `"0.bias"`, `"1.bias"`, 1),
			"safetensors: weights do not fit the network: 0.bias missing (want F32 [2]); 2.bias has dtype I32, want F32; 1.bias is not a parameter of the network"},
		{strings.Replace(tinyHeader, `[48,56]`, `[48,60]`, 1), "safetensors: metadata validation error: info data offsets mismatch"},
		{`{"0.weight":`, "safetensors: invalid header deserialization"},
	}
	for _, c := range cases {
		net := tinyNet(t, 1)
		before := append([]float32(nil), net.Params()[0].Value...)
		_, err := LoadBytes(handFile(c.header, data), net)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("error %v\nwant %s", err, c.want)
		}
		for j, v := range before {
			if net.Params()[0].Value[j] != v {
				t.Fatal("a failed load changed the parameters")
			}
		}
	}
	if _, err := LoadBytes([]byte{1, 2}, tinyNet(t, 1)); err == nil || err.Error() != "safetensors: header too small" {
		t.Errorf("short file: %v", err)
	}
	unbuilt := nn.NewNetwork(nn.Shape{3}, layers.NewDense(3, 2))
	if _, err := LoadBytes(handFile(tinyHeader, data), unbuilt); err == nil || err.Error() != "safetensors: the network is not built" {
		t.Errorf("unbuilt: %v", err)
	}
}

// FuzzLoad feeds arbitrary bytes to the loader: it returns an error or
// loads, and never panics.
func FuzzLoad(f *testing.F) {
	f.Add(handFile(tinyHeader, make([]float32, 14)))
	f.Add(handFile(strings.Replace(tinyHeader, `[2,3]`, `[3,2]`, 1), make([]float32, 14)))
	f.Add([]byte{})
	var buf bytes.Buffer
	if err := Write(&buf, tinyNet(f, 1), nil); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	net := tinyNet(f, 1)
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := LoadBytes(b, net); err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error %q", err)
		}
		_, _ = Metadata(b)
	})
}

// A file written by PyTorch's state_dict of an nn.Sequential
// (testdata/torch_seq.py, run with Debian's python3-torch 1.13) loads into
// the same network built here, and Predict gives PyTorch's eval-mode logits
// for the same inputs: names, layouts (Linear out×in, Conv2d
// out×in×kh×kw), flattening order, pooling and dropout agree.
func TestLoadPyTorch(t *testing.T) {
	var ref struct {
		Inputs []float32 `json:"inputs"`
		Logits []float32 `json:"logits"`
	}
	raw, err := os.ReadFile("testdata/torch_seq.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	net := nn.NewNetwork(nn.Shape{2, 4, 4},
		layers.NewConv2D(2, 3, 3, 1, 1), layers.NewReLU(), layers.NewAvgPool2D(2, 2), layers.NewFlatten(),
		layers.NewDense(12, 4), layers.NewReLU(), layers.NewDropout(0.3), layers.NewDense(4, 3))
	if err := net.BuildInference(0, 1); err != nil {
		t.Fatal(err)
	}
	md, err := Load("testdata/torch_seq.safetensors", net)
	if err != nil {
		t.Fatal(err)
	}
	if md["format"] != "pt" {
		t.Errorf("metadata %v", md)
	}
	const n = 5
	if len(ref.Inputs) != n*32 || len(ref.Logits) != n*3 {
		t.Fatalf("reference of %d inputs and %d logits", len(ref.Inputs), len(ref.Logits))
	}
	out := make([]float32, n*3)
	if err := net.Predict(ref.Inputs, n, out, nn.Logits); err != nil {
		t.Fatal(err)
	}
	for i, want := range ref.Logits {
		if d := math.Abs(float64(out[i] - want)); d > 1e-5*math.Max(1, math.Abs(float64(want))) {
			t.Fatalf("logit %d: %v, PyTorch %v", i, out[i], want)
		}
	}
}
