package kernels

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"
)

// convBenchBatch is the batch of the SmallConvNet benchmarks.
const convBenchBatch = 150

// convBenchChunk is the number of samples a layer hands to one kernel call
// (the batch runs in chunks of this size; the last chunk may be smaller).
// 16 matches ConvDirectGroup, so that each call is one group.
// SPAD_CONV_CHUNK overrides it; SPAD_CONV_DIRECT=0 turns the direct path
// off (every pass then runs im2col and SGEMM, for comparison).
var convBenchChunk = 16

// smallConvNet lists the convolutions of SmallConvNet: conv 5×5 3→16 pad 2
// on 32×32, conv 5×5 16→32 pad 2 on 32×32, avgpool 2, conv 5×5 32→32 pad 2
// on 16×16, conv 5×5 32→32 pad 2 on 16×16, avgpool 2.
var smallConvNet = []struct {
	name     string
	s        ConvShape
	needData bool // the data gradient is needed in training
}{
	{"conv1", ConvShape{C: 3, H: 32, W: 32, K: 16, KH: 5, KW: 5, Stride: 1, Pad: 2}, false},
	{"conv2", ConvShape{C: 16, H: 32, W: 32, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2}, true},
	{"conv3", ConvShape{C: 32, H: 16, W: 16, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2}, true},
	{"conv4", ConvShape{C: 32, H: 16, W: 16, K: 32, KH: 5, KW: 5, Stride: 1, Pad: 2}, true},
}

func convBenchSettings(b *testing.B) int {
	chunk := convBenchChunk
	if v, err := strconv.Atoi(os.Getenv("SPAD_CONV_CHUNK")); err == nil && v > 0 {
		chunk = v
	}
	if os.Getenv("SPAD_CONV_DIRECT") == "0" {
		old := convDirect
		convDirect = false
		b.Cleanup(func() { convDirect = old })
	}
	if v, err := strconv.Atoi(os.Getenv("SPAD_CONV_GROUP")); err == nil && v > 0 {
		old := ConvGroupColumns
		ConvGroupColumns = v
		b.Cleanup(func() { ConvGroupColumns = old })
	}
	return chunk
}

// convLayerBuffers holds the batch tensors of one layer.
type convLayerBuffers struct {
	x, w, bias, y, dy, dx, dw, db, scratch []float32
}

func newConvLayerBuffers(s ConvShape, chunk int) *convLayerBuffers {
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(i%17)*0.0625 - 0.5
		}
		return x
	}
	return &convLayerBuffers{
		x:       fill(convBenchBatch * s.InSize()),
		w:       fill(s.WeightSize()),
		bias:    fill(s.K),
		y:       make([]float32, convBenchBatch*s.OutSize()),
		dy:      fill(convBenchBatch * s.OutSize()),
		dx:      make([]float32, convBenchBatch*s.InSize()),
		dw:      make([]float32, s.WeightSize()),
		db:      make([]float32, s.K),
		scratch: make([]float32, ConvScratchSize(s, chunk)),
	}
}

// run processes the whole batch in chunks, as a layer does, for pass
// "fwd", "bwd-data" or "bwd-filter".
func (l *convLayerBuffers) run(s ConvShape, chunk int, pass string) {
	in, out := s.InSize(), s.OutSize()
	for s0 := 0; s0 < convBenchBatch; s0 += chunk {
		n := min(chunk, convBenchBatch-s0)
		x := l.x[s0*in : (s0+n)*in]
		dx := l.dx[s0*in : (s0+n)*in]
		y := l.y[s0*out : (s0+n)*out]
		dy := l.dy[s0*out : (s0+n)*out]
		switch pass {
		case "fwd":
			Conv2DForward(s, n, x, l.w, l.bias, y, l.scratch)
		case "bwd-data":
			Conv2DBackwardData(s, n, dy, l.w, dx, l.scratch)
		case "bwd-filter":
			Conv2DBackwardFilter(s, n, x, dy, l.dw, l.db, l.scratch)
		}
	}
}

// BenchmarkConv2D measures every convolution pass of SmallConvNet at batch
// 150 (passes fwd, bwd-data and bwd-filter) and the convolution work of
// one training step (step: all forwards, the data gradients of conv2–4 and
// all filter gradients). GFLOP/s counts 2 FLOPs per multiply-add.
//
// Sub-benchmarks are <path>/<layer>/<pass> and <path>/step for every
// assembly path the machine has (the generic path only where there is no
// other: it takes tens of seconds per step).
func BenchmarkConv2D(b *testing.B) {
	saved := Active()
	defer func() { _ = SetPath(saved) }()
	paths := AvailablePaths()
	if len(paths) > 1 {
		paths = paths[1:] // generic comes first
	}
	for _, p := range paths {
		b.Run(p.String(), func(b *testing.B) {
			_ = SetPath(p)
			benchConv2D(b)
		})
	}
}

func benchConv2D(b *testing.B) {
	chunk := convBenchSettings(b)
	b.Logf("batch %d, chunk %d, threads %d, path %s, direct path %v, direct group %d, lowered group columns %d", convBenchBatch, chunk, Threads(), Active(), convDirect, ConvDirectGroup, ConvGroupColumns)
	bufs := make([]*convLayerBuffers, len(smallConvNet))
	for i, l := range smallConvNet {
		bufs[i] = newConvLayerBuffers(l.s, chunk)
	}
	for i, l := range smallConvNet {
		for _, pass := range []string{"fwd", "bwd-data", "bwd-filter"} {
			b.Run(l.name+"/"+pass, func(b *testing.B) {
				flops := float64(l.s.ForwardFLOPs(convBenchBatch))
				for b.Loop() {
					bufs[i].run(l.s, chunk, pass)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(float64(Threads()), "threads")
			})
		}
	}
	b.Run("step", func(b *testing.B) {
		var flops float64
		for _, l := range smallConvNet {
			f := float64(l.s.ForwardFLOPs(convBenchBatch))
			flops += 2 * f
			if l.needData {
				flops += f
			}
		}
		for b.Loop() {
			for i, l := range smallConvNet {
				bufs[i].run(l.s, chunk, "fwd")
			}
			for i := len(smallConvNet) - 1; i >= 0; i-- {
				l := smallConvNet[i]
				bufs[i].run(l.s, chunk, "bwd-filter")
				if l.needData {
					bufs[i].run(l.s, chunk, "bwd-data")
				}
			}
		}
		sec := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(flops/sec/1e9, "GFLOP/s")
		b.ReportMetric(sec*1e3, "ms/step")
		b.ReportMetric(float64(Threads()), "threads")
	})
}

// BenchmarkAvgPool2D measures the two 2×2 stride-2 poolings of
// SmallConvNet at batch 150 (32 channels of 32×32 and of 16×16).
func BenchmarkAvgPool2D(b *testing.B) {
	for _, sz := range []int{32, 16} {
		c, n := 32, convBenchBatch
		x := make([]float32, n*c*sz*sz)
		y := make([]float32, n*c*sz*sz/4)
		name := strconv.Itoa(sz)
		b.Run("fwd"+name, func(b *testing.B) {
			b.SetBytes(int64(4 * (len(x) + len(y))))
			for b.Loop() {
				AvgPool2DForward(c, sz, sz, 2, 2, n, x, y)
			}
		})
		b.Run("bwd"+name, func(b *testing.B) {
			b.SetBytes(int64(4 * (len(x) + len(y))))
			for b.Loop() {
				AvgPool2DBackward(c, sz, sz, 2, 2, n, y, x)
			}
		})
	}
}

// BenchmarkConvFwdTile measures each path's forward tile kernel alone on
// data that stays in L1 (400 filter taps of a 5×5 window over 16 channels):
// <path>/k400. GFLOP/s counts 2 FLOPs per multiply-add.
func BenchmarkConvFwdTile(b *testing.B) {
	names, cks := convTestTables()
	for ci, ck := range cks {
		b.Run(names[ci]+"/k400", func(b *testing.B) {
			const k = 400
			L := ck.lanes
			w := make([]float32, 4*k)
			offs := make([]float32, k)
			for p := range offs {
				c, r := p/25, p%25
				offs[p] = math.Float32frombits(uint32(int32(c*20*36 + (r/5)*36 + r%5)))
			}
			x := make([]float32, 16*20*36+64)
			bias := make([]float32, 4)
			ldy := 8 * L
			y := make([]float32, 4*ldy)
			var xv, yv [convMaxVecs]int
			for v := range xv {
				xv[v], yv[v] = v*L, v*L
			}
			for b.Loop() {
				convFwdTile(ck, ck.vecs, k, w, offs, x, &xv, bias, y, &yv, ldy, false)
			}
			b.ReportMetric(2*4*float64(ck.vecs*L*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkConvFilterTiles measures each path's filter-gradient tiles
// kernel alone (tiles of 3 rows and of the path's own row count) on one
// sample of 16×16 outputs whose data stays in L1/L2: <path>/rows<np>.
// GFLOP/s counts 2 FLOPs per multiply-add.
func BenchmarkConvFilterTiles(b *testing.B) {
	names, cks := convTestTables()
	for ci, ck := range cks {
		for _, np := range ck.filterRowCounts() {
			b.Run(fmt.Sprintf("%s/rows%d", names[ci], np), func(b *testing.B) {
				const rows, wp, nt = 16, 20, 4
				nv := 16 / ck.lanes
				offs := make([]float32, np*nt)
				for p := range offs {
					offs[p] = math.Float32frombits(uint32(int32(p)))
				}
				x := make([]float32, np*nt+rows*wp+16)
				dy := make([]float32, 4*rows*16)
				dw := make([]float32, 4*np*nt)
				for b.Loop() {
					convFilterTiles(ck, np, 1, x, 0, offs, 0, nt, dy, 0, rows*16, rows, nv, wp, dw, 0, np*nt)
				}
				b.ReportMetric(2*float64(4*np*nt*rows*16)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
