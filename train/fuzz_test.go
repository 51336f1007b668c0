package train

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"testing"
)

// minimalCheckpoint frames a header and float payload as SaveCheckpoint does.
func minimalCheckpoint(hdr string, vals []float32) []byte {
	var b []byte
	b = append(b, ckptMagic...)
	b = binary.LittleEndian.AppendUint32(b, ckptVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(hdr)))
	b = append(b, hdr...)
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// FuzzReadCheckpoint: the checkpoint reader never panics and either
// accepts a consistent file or returns a CheckpointError naming it.
func FuzzReadCheckpoint(f *testing.F) {
	good := minimalCheckpoint(`{"model":"smallfc","iter":3,"tensors":[{"name":"w","len":2}]}`, []float32{1, 2})
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte(ckptMagic))
	f.Add(minimalCheckpoint(`{"tensors":[{"name":"w","len":-1}]}`, nil))
	f.Add(minimalCheckpoint(`{"tensors":[{"name":"w","len":1000000000}]}`, []float32{1}))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, payload, err := readCheckpoint("fuzz.ckpt", bytes.NewReader(data))
		if err != nil {
			if _, ok := err.(*CheckpointError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if !bytes.Contains([]byte(err.Error()), []byte("fuzz.ckpt")) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		total := 0
		for _, tn := range h.Tensors {
			total += tn.Len
		}
		if total*4 != len(payload) {
			t.Fatalf("accepted a checkpoint whose tensors (%d values) do not match its payload (%d bytes)", total, len(payload))
		}
	})
}
