// Package onnx exports a trained sequential network to ONNX, the model
// format inference runtimes share: Dense becomes Gemm, Conv2D Conv, ReLU
// Relu, AvgPool2D AveragePool, Flatten Flatten, and Dropout (the identity in
// inference) disappears. The parameters are the graph's initializers, named
// as in the safetensors files ("0.weight", "0.bias", …).
//
// It lives beside models rather than in nn because it maps the concrete
// layer types of package layers to ONNX operators, and nn cannot import
// layers. The protobuf encoding is written by hand (the few messages and
// fields of onnx.proto3 an exported graph needs, in protobuf's wire
// format): it keeps the exporter free of dependencies and buildable for
// every target; the tests decode the files with the protobuf runtime and
// generated types of an independent ONNX runtime and run them there.
package onnx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/nn"
	"github.com/spadlab/spad/nn/safetensors"
)

// Opset is the ONNX operator set version of exported graphs, and IRVersion
// the ONNX IR version that goes with it.
const (
	Opset     = 13
	IRVersion = 7
)

// Options configure an export.
type Options struct {
	// Probabilities ends the graph with a Softmax, so that it outputs
	// class probabilities ("probabilities") instead of logits ("logits").
	Probabilities bool
	// Name is the graph's name (default "spad").
	Name string
	// Doc is a free-form description stored in the model.
	Doc string
}

// The graph's input is named InputName, of shape (N, sample shape…) with a
// symbolic batch dimension N; its output LogitsName or ProbsName, (N,
// classes).
const (
	InputName  = "input"
	LogitsName = "logits"
	ProbsName  = "probabilities"
)

// Marshal returns the ONNX model of net, which must be built (for
// training or inference) and hold only layers of package layers: Dense,
// Conv2D, ReLU, AvgPool2D, Flatten, Dropout.
func Marshal(net *nn.Network, o Options) ([]byte, error) {
	if !net.Built() {
		return nil, fmt.Errorf("onnx: the network is not built")
	}
	if o.Name == "" {
		o.Name = "spad"
	}
	var g msg
	shapes := net.Shapes()
	cur := InputName
	var nodes []*node
	var inits []msg
	out := func(i int, op string) string { return fmt.Sprintf("%d.%s", i, op) }
	for i, l := range net.Layers {
		in := shapes[i]
		switch l := l.(type) {
		case *layers.Dense:
			if len(in) > 1 {
				nodes = append(nodes, &node{op: "Flatten", in: []string{cur}, out: out(i, "flatten"), attrI: map[string]int64{"axis": 1}})
				cur = out(i, "flatten")
			}
			w, b := safetensors.Name(i, l.W), safetensors.Name(i, l.B)
			inits = append(inits, tensorProto(w, l.W), tensorProto(b, l.B))
			nodes = append(nodes, &node{op: "Gemm", in: []string{cur, w, b}, out: out(i, "gemm"),
				attrF: map[string]float32{"alpha": 1, "beta": 1}, attrI: map[string]int64{"transA": 0, "transB": 1}})
			cur = out(i, "gemm")
		case *layers.Conv2D:
			w, b := safetensors.Name(i, l.W), safetensors.Name(i, l.B)
			inits = append(inits, tensorProto(w, l.W), tensorProto(b, l.B))
			p, s := int64(l.Pad), int64(l.Stride)
			nodes = append(nodes, &node{op: "Conv", in: []string{cur, w, b}, out: out(i, "conv"),
				attrI: map[string]int64{"group": 1},
				ints:  map[string][]int64{"kernel_shape": {int64(l.KH), int64(l.KW)}, "strides": {s, s}, "pads": {p, p, p, p}, "dilations": {1, 1}}})
			cur = out(i, "conv")
		case *layers.ReLU:
			nodes = append(nodes, &node{op: "Relu", in: []string{cur}, out: out(i, "relu")})
			cur = out(i, "relu")
		case *layers.AvgPool2D:
			k, s := int64(l.K), int64(l.Stride)
			nodes = append(nodes, &node{op: "AveragePool", in: []string{cur}, out: out(i, "avgpool"),
				ints: map[string][]int64{"kernel_shape": {k, k}, "strides": {s, s}, "pads": {0, 0, 0, 0}}})
			cur = out(i, "avgpool")
		case *layers.Flatten:
			nodes = append(nodes, &node{op: "Flatten", in: []string{cur}, out: out(i, "flatten"), attrI: map[string]int64{"axis": 1}})
			cur = out(i, "flatten")
		case *layers.Dropout:
			// the identity in inference: no node
		default:
			return nil, fmt.Errorf("onnx: layer %d (%s, %T) has no ONNX export (supported: Dense, Conv2D, ReLU, AvgPool2D, Flatten, Dropout)", i, l.Name(), l)
		}
	}
	final := LogitsName
	if o.Probabilities {
		final = ProbsName
		nodes = append(nodes, &node{op: "Softmax", in: []string{cur}, out: final, attrI: map[string]int64{"axis": 1}})
	} else if len(nodes) > 0 && nodes[len(nodes)-1].out == cur {
		nodes[len(nodes)-1].out = final
	} else {
		nodes = append(nodes, &node{op: "Identity", in: []string{cur}, out: final})
	}
	for _, n := range nodes {
		g.msg(1, n.encode())
	}
	g.str(2, o.Name)
	for _, t := range inits {
		g.msg(5, t)
	}
	g.msg(11, valueInfo(InputName, append([]int{-1}, shapes[0]...)))
	g.msg(12, valueInfo(final, []int{-1, net.Classes()}))

	var m msg
	m.int(1, IRVersion)
	m.str(2, "github.com/spadlab/spad")
	m.str(3, "1")
	if o.Doc != "" {
		m.str(6, o.Doc)
	}
	m.msg(7, g)
	var opset msg
	opset.str(1, "")
	opset.int(2, Opset)
	m.msg(8, opset)
	return m, nil
}

// Export writes the ONNX model of net to w (see Marshal).
func Export(w io.Writer, net *nn.Network, o Options) error {
	b, err := Marshal(net, o)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, bytes.NewReader(b))
	return err
}

// Save writes the ONNX model of net to the file path (see Marshal),
// atomically: a temporary file in the same folder, then a rename.
func Save(path string, net *nn.Network, o Options) error {
	b, err := Marshal(net, o)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// node is a NodeProto with its attributes.
type node struct {
	op    string
	in    []string
	out   string
	attrI map[string]int64
	attrF map[string]float32
	ints  map[string][]int64
}

// AttributeProto types.
const (
	attrFloat = 1
	attrInt   = 2
	attrInts  = 7
)

func (n *node) encode() msg {
	var m msg
	for _, s := range n.in {
		m.str(1, s)
	}
	m.str(2, n.out)
	m.str(3, n.out)
	m.str(4, n.op)
	// attributes in a fixed order, for reproducible files
	for _, k := range sortedKeys(n.attrF) {
		var a msg
		a.str(1, k)
		a.fixed32(2, math.Float32bits(n.attrF[k]))
		a.int(20, attrFloat)
		m.msg(5, a)
	}
	for _, k := range sortedKeys(n.attrI) {
		var a msg
		a.str(1, k)
		a.int(3, n.attrI[k])
		a.int(20, attrInt)
		m.msg(5, a)
	}
	for _, k := range sortedKeys(n.ints) {
		var a msg
		a.str(1, k)
		a.packed(8, n.ints[k])
		a.int(20, attrInts)
		m.msg(5, a)
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

// tensorFloat is TensorProto.DataType FLOAT.
const tensorFloat = 1

// tensorProto encodes p as a FLOAT TensorProto named name, its values in
// raw_data (little-endian).
func tensorProto(name string, p *nn.Param) msg {
	var t msg
	dims := make([]int64, len(p.Shape))
	for i, d := range p.Shape {
		dims[i] = int64(d)
	}
	t.packed(1, dims)
	t.int(2, tensorFloat)
	t.str(8, name)
	raw := make([]byte, 4*len(p.Value))
	for i, v := range p.Value {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	t.bytes(9, raw)
	return t
}

// valueInfo encodes a ValueInfoProto of a FLOAT tensor; a dimension < 0 is
// the symbolic batch dimension "N".
func valueInfo(name string, shape []int) msg {
	var sh msg
	for _, d := range shape {
		var dim msg
		if d < 0 {
			dim.str(2, "N")
		} else {
			dim.int(1, int64(d))
		}
		sh.msg(1, dim)
	}
	var tt msg
	tt.int(1, tensorFloat)
	tt.msg(2, sh)
	var ty msg
	ty.msg(1, tt)
	var v msg
	v.str(1, name)
	v.msg(2, ty)
	return v
}

// msg is a protobuf message being encoded in the wire format: each field
// is a key (field number << 3 | wire type) followed by a varint (type 0), a
// length-delimited payload (type 2) or four little-endian bytes (type 5).
type msg []byte

const (
	wireVarint  = 0
	wireBytes   = 2
	wireFixed32 = 5
)

func (m *msg) varint(v uint64) { *m = binary.AppendUvarint(*m, v) }

func (m *msg) key(field, wire int) { m.varint(uint64(field)<<3 | uint64(wire)) }

// int appends an int32/int64/enum field (negative values as ten-byte
// two's complement varints, as protobuf does).
func (m *msg) int(field int, v int64) {
	m.key(field, wireVarint)
	m.varint(uint64(v))
}

func (m *msg) bytes(field int, b []byte) {
	m.key(field, wireBytes)
	m.varint(uint64(len(b)))
	*m = append(*m, b...)
}

func (m *msg) str(field int, s string) { m.bytes(field, []byte(s)) }

func (m *msg) msg(field int, sub msg) { m.bytes(field, sub) }

func (m *msg) fixed32(field int, v uint32) {
	m.key(field, wireFixed32)
	*m = binary.LittleEndian.AppendUint32(*m, v)
}

// packed appends a repeated int64 field in packed encoding (proto3's
// default for repeated scalars).
func (m *msg) packed(field int, vs []int64) {
	var p msg
	for _, v := range vs {
		p.varint(uint64(v))
	}
	m.bytes(field, p)
}
