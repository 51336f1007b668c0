package train

import "runtime/metrics"

// MemMeter samples the heap in use (runtime.MemStats.HeapInuse, read through
// runtime/metrics so that sampling neither stops the world nor allocates)
// and keeps the largest value seen.
type MemMeter struct {
	samples [2]metrics.Sample
	Peak    uint64 // largest heap in use sampled, in bytes
	Last    uint64 // most recent sample
}

// NewMemMeter returns a meter with no samples.
func NewMemMeter() *MemMeter {
	m := &MemMeter{}
	m.samples[0].Name = "/memory/classes/heap/objects:bytes"
	m.samples[1].Name = "/memory/classes/heap/unused:bytes"
	return m
}

// HeapInuse returns the current heap in use: live and dead objects plus
// the free space inside in-use spans, exactly runtime.MemStats.HeapInuse.
func (m *MemMeter) HeapInuse() uint64 {
	metrics.Read(m.samples[:])
	var s uint64
	for _, x := range m.samples {
		if x.Value.Kind() == metrics.KindUint64 {
			s += x.Value.Uint64()
		}
	}
	return s
}

// Sample reads the heap in use and updates Peak.
func (m *MemMeter) Sample() {
	m.Last = m.HeapInuse()
	if m.Last > m.Peak {
		m.Peak = m.Last
	}
}
