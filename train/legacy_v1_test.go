package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
)

// legacyV1 returns the bytes of a version-1 checkpoint of r written the way
// the code that introduced version 1 wrote it (the layers' schedulers found
// through layers.Scheduled, the tensors framed by hand), kept independent
// of checkpoint.go so that the files written by earlier builds stay
// readable whatever that file becomes.
func legacyV1(r *Runner) []byte {
	c := r.Cfg
	h := &ckptHeader{
		Model: c.Model, Dataset: c.Dataset, Estimator: c.Estimator.String(), Dropout: c.Dropout,
		Batch: c.Batch, Seed: c.Seed, Iters: c.Iters, Optimizer: r.Opt.Name(), Bootstrap: c.Bootstrap,
		TrainSize: c.TrainSize, Iter: r.Iter, OptStep: r.Opt.State().Step, Batcher: r.batcher.State(),
		Curves: r.curves, WinLoss: r.winLoss, WinSteps: r.winSteps, ElapsedNs: r.elapsed.Nanoseconds(),
		LR: &c.LR, WD: &c.WD, Momentum: &c.Momentum, LRFactor: &c.LRFactor, LRSteps: c.LRSteps,
		LRDecayEvery: c.LRDecayEvery, TestSize: c.TestSize, TrainEvalSize: c.TrainEvalSize,
		EvalEvery: c.EvalEvery, Chunk: r.Net.Chunk(),
		ResumedAt: r.resumedAt, ExtendedFrom: r.extendedFrom,
	}
	rec := r.Record()
	h.PeakHeap, h.TrainHeap = rec.PeakHeapBytes, rec.TrainHeapBytes
	for _, l := range r.Net.Layers {
		var st *inject.SchedulerState
		if s, ok := l.(layers.Scheduled); ok && s.Scheduler() != nil {
			v := s.Scheduler().State()
			st = &v
		}
		h.Schedulers = append(h.Schedulers, st)
	}
	var data [][]float32
	for _, p := range r.Net.Params() {
		h.Tensors = append(h.Tensors, ckptTensor{p.Name, len(p.Value)})
		data = append(data, p.Value)
	}
	for i, b := range r.Opt.State().Buffers {
		h.Tensors = append(h.Tensors, ckptTensor{fmt.Sprintf("%s.buffer%d", r.Opt.Name(), i), len(b)})
		data = append(data, b)
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	buf.WriteString("SPADCKPT")
	_ = binary.Write(&buf, binary.LittleEndian, uint32(1))
	_ = binary.Write(&buf, binary.LittleEndian, uint32(len(hdr)))
	buf.Write(hdr)
	for _, d := range data {
		for _, v := range d {
			_ = binary.Write(&buf, binary.LittleEndian, math.Float32bits(v))
		}
	}
	sum := crc32.Checksum(buf.Bytes(), crc32.MakeTable(crc32.Castagnoli))
	_ = binary.Write(&buf, binary.LittleEndian, sum)
	return buf.Bytes()
}
