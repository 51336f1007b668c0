package nn

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Output selects what Predict writes for each sample.
type Output int

const (
	// Logits are the scores of the last layer, before the softmax.
	Logits Output = iota
	// Probabilities are the softmax of the logits (each row sums to 1).
	Probabilities
)

// Predict runs count samples of x (sample-major, count×In.Size() floats)
// forward, chunk by chunk, with nothing saved for backward and dropout off,
// and writes count×Classes() values to out: the logits or the class
// probabilities. count may exceed the batch size. Predict does not allocate;
// like TrainStep and Evaluate it uses the network's buffers, so calls on one
// network must not run at the same time.
func (n *Network) Predict(x []float32, count int, out []float32, what Output) error {
	if !n.built {
		return errors.New("nn: Predict on a network that was not built")
	}
	if what != Logits && what != Probabilities {
		return fmt.Errorf("nn: Predict: unknown output %d", int(what))
	}
	in, classes := n.In.Size(), n.Classes()
	if count < 0 || len(x) < count*in {
		return fmt.Errorf("nn: Predict: %d samples need %d inputs, got %d", count, count*in, len(x))
	}
	if len(out) < count*classes {
		return fmt.Errorf("nn: Predict: %d samples of %d classes need %d outputs, got %d", count, classes, count*classes, len(out))
	}
	st := &n.step
	*st = Step{Iter: -1, Batch: n.chunk}
	for off := 0; off < count; off += n.chunk {
		c := min(n.chunk, count-off)
		// Every chunk is presented at offset 0: a network built for
		// inference has buffers for one chunk only.
		cur := n.forwardChunk(x[off*in:(off+c)*in], 0, c)
		dst := out[off*classes : (off+c)*classes]
		copy(dst, cur)
		if what == Probabilities {
			softmaxRows(dst, classes)
		}
	}
	return nil
}

// softmaxRows replaces each row of classes values by its softmax.
func softmaxRows(v []float32, classes int) {
	for r := 0; r+classes <= len(v); r += classes {
		row := v[r : r+classes]
		m := row[0]
		for _, z := range row[1:] {
			m = max(m, z)
		}
		var sum float64
		for j, z := range row {
			e := math.Exp(float64(z - m))
			row[j] = float32(e)
			sum += e
		}
		inv := 1 / sum
		for j := range row {
			row[j] = float32(float64(row[j]) * inv)
		}
	}
}

// States returns the state of every layer (nil for a layer that does not
// implement Stateful or has no state), in layer order, for a checkpoint: see
// Stateful.
func (n *Network) States() ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(n.Layers))
	for i, l := range n.Layers {
		s, ok := l.(Stateful)
		if !ok {
			continue
		}
		b, err := s.State()
		if err != nil {
			return nil, fmt.Errorf("nn: layer %d (%s): %w", i, l.Name(), err)
		}
		out[i] = b
	}
	return out, nil
}

// RestoreStates restores the states returned by States of a network built
// the same way (same layers, estimators and seed). It checks that the
// number of layers matches and that a layer without state gets none.
func (n *Network) RestoreStates(states []json.RawMessage) error {
	if !n.built {
		return errors.New("nn: RestoreStates on a network that was not built")
	}
	if len(states) != len(n.Layers) {
		return fmt.Errorf("nn: %d layer states for a network of %d layers", len(states), len(n.Layers))
	}
	for i, l := range n.Layers {
		s, ok := l.(Stateful)
		if !ok {
			if len(states[i]) != 0 && string(states[i]) != "null" {
				return fmt.Errorf("nn: layer %d (%s) keeps no state, but the saved state has one", i, l.Name())
			}
			continue
		}
		b := []byte(states[i])
		if string(b) == "null" {
			b = nil
		}
		if err := s.Restore(b); err != nil {
			return fmt.Errorf("nn: layer %d (%s): %w", i, l.Name(), err)
		}
	}
	return nil
}
