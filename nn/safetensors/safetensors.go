// Package safetensors saves and loads the parameters of a Network in the
// safetensors format (a little-endian header length, a JSON header of
// names, dtypes, shapes and byte offsets, then the raw data), the weights
// format the ML ecosystem shares.
//
// A parameter is named after its layer's position and its role, as
// PyTorch names the state of an nn.Sequential: "0.weight", "0.bias",
// "4.weight", …; Dense weights are out×in and Conv2D filters
// out×in×kh×kw, PyTorch's layouts, so a file written by
// torch's Sequential of the same layers loads here and the other way
// round. Values are stored as F32.
//
// Load checks that every parameter of the network is in the file with
// dtype F32 and its exact shape, and that the file holds nothing else; its
// error names each tensor that is missing, extra or wrong. Parsing and
// validating the container is done by github.com/nlpodyssey/safetensors,
// which bounds the header and checks that the offsets tile the data.
package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unsafe"

	st "github.com/nlpodyssey/safetensors"

	"github.com/spadlab/spad/nn"
)

// Name returns the safetensors name of parameter p of layer index i: the
// layer's index and the last dot-separated part of the parameter's name
// ("weight", "bias"), as in PyTorch's Sequential.
func Name(i int, p *nn.Param) string {
	role := p.Name
	if k := strings.LastIndexByte(role, '.'); k >= 0 {
		role = role[k+1:]
	}
	return fmt.Sprintf("%d.%s", i, role)
}

// named is a parameter with its file name.
type named struct {
	name string
	p    *nn.Param
}

// params lists net's parameters with their file names, in layer order.
func params(net *nn.Network) ([]named, error) {
	if !net.Built() {
		return nil, errors.New("safetensors: the network is not built")
	}
	var out []named
	seen := map[string]bool{}
	for i, l := range net.Layers {
		for _, p := range l.Params() {
			n := Name(i, p)
			if seen[n] {
				return nil, fmt.Errorf("safetensors: two parameters of layer %d (%s) are named %q", i, l.Name(), n)
			}
			seen[n] = true
			out = append(out, named{n, p})
		}
	}
	return out, nil
}

// view is one parameter as a safetensors view.
type view struct {
	shape []uint64
	data  []byte
}

func (v view) DType() st.DType { return st.F32 }
func (v view) Shape() []uint64 { return v.shape }
func (v view) Data() []byte    { return v.data }
func (v view) DataLen() uint64 { return uint64(len(v.data)) }

// littleEndian reports whether the machine stores a float32 as the
// safetensors format does (little-endian).
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// toBytes returns x as the little-endian bytes of a safetensors file.
func toBytes(x []float32) []byte {
	if littleEndian && len(x) > 0 {
		// The values' own memory already holds the file's bytes: no copy,
		// so that saving a model does not grow the heap.
		return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x))
	}
	b := make([]byte, 4*len(x))
	for i, f := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// Write writes net's parameters to w in safetensors format, with the given
// free-form metadata (the header's "__metadata__"; may be nil).
func Write(w io.Writer, net *nn.Network, metadata map[string]string) error {
	ps, err := params(net)
	if err != nil {
		return err
	}
	views := make(map[string]view, len(ps))
	for _, np := range ps {
		shape := make([]uint64, len(np.p.Shape))
		for i, d := range np.p.Shape {
			shape[i] = uint64(d)
		}
		views[np.name] = view{shape, toBytes(np.p.Value)}
	}
	if err := st.SerializeToWriter(views, metadata, w); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// Save writes net's parameters to the file path atomically (a temporary
// file in the same folder, synced, then renamed).
func Save(path string, net *nn.Network, metadata map[string]string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if err := Write(f, net, metadata); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Metadata returns the "__metadata__" map of a safetensors file held in
// data, after checking the container.
func Metadata(data []byte) (map[string]string, error) {
	_, md, err := st.ReadMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return md.Metadata(), nil
}

// Load reads the safetensors file at path into net's parameters (see
// LoadBytes) and returns the file's metadata.
func Load(path string, net *nn.Network) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	md, err := LoadBytes(data, net)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return md, nil
}

// maxProblems bounds how many wrong tensors an error lists.
const maxProblems = 8

// LoadBytes copies the tensors of the safetensors file held in data into
// net's parameters and returns the file's metadata. It changes nothing
// unless every parameter is present with dtype F32 and its exact shape and
// the file holds no other tensor; otherwise its one-line error names the
// wrong tensors.
func LoadBytes(data []byte, net *nn.Network) (map[string]string, error) {
	ps, err := params(net)
	if err != nil {
		return nil, err
	}
	file, err := st.Deserialize(data)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	_, md, err := st.ReadMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	var problems []string
	want := map[string]bool{}
	views := make([]st.TensorView, len(ps))
	for i, np := range ps {
		want[np.name] = true
		v, ok := file.Tensor(np.name)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s missing (want F32 %v)", np.name, np.p.Shape))
			continue
		}
		if v.DType() != st.F32 {
			problems = append(problems, fmt.Sprintf("%s has dtype %v, want F32", np.name, v.DType()))
			continue
		}
		if !sameShape(v.Shape(), np.p.Shape) {
			problems = append(problems, fmt.Sprintf("%s has shape %v, want %v", np.name, v.Shape(), np.p.Shape))
			continue
		}
		views[i] = v
	}
	var extra []string
	for _, n := range file.Names() {
		if !want[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	for _, n := range extra {
		problems = append(problems, fmt.Sprintf("%s is not a parameter of the network", n))
	}
	if len(problems) > 0 {
		more := ""
		if len(problems) > maxProblems {
			more = fmt.Sprintf("; and %d more", len(problems)-maxProblems)
			problems = problems[:maxProblems]
		}
		return nil, fmt.Errorf("safetensors: weights do not fit the network: %s%s", strings.Join(problems, "; "), more)
	}
	for i, np := range ps {
		b := views[i].Data()
		for j := range np.p.Value {
			np.p.Value[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
		}
	}
	return md.Metadata(), nil
}

func sameShape(got []uint64, want []int) bool {
	return slices.EqualFunc(got, want, func(g uint64, w int) bool { return g == uint64(w) })
}
