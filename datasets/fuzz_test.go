package datasets

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzReadIDX(f *testing.F) {
	f.Add(genImages(0, 2, 2, 3))
	f.Add(gzipBytes(genLabels(0, 4)))
	f.Add([]byte{0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 1, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.idx"
		x, err := ReadIDX(bytes.NewReader(data), name)
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error does not name the file: %v", err)
			}
		} else {
			size := 1
			for _, d := range x.Dims {
				size *= d
			}
			if size != len(x.Data) {
				t.Fatalf("dims %v but %d bytes", x.Dims, len(x.Data))
			}
		}
		pix, n, rows, cols, err := ReadIDXImages(bytes.NewReader(data), name)
		if err == nil && len(pix) != n*rows*cols {
			t.Fatalf("images %d×%d×%d but %d bytes", n, rows, cols, len(pix))
		}
		if _, err := ReadIDXLabels(bytes.NewReader(data), name); err != nil && !strings.Contains(err.Error(), name) {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

func FuzzReadCIFAR(f *testing.F) {
	f.Add(cifarRecords(0, 1))
	f.Add(gzipBytes(cifarRecords(1, 2)))
	f.Add([]byte{3, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.bin"
		pix, lab, err := ReadCIFAR10(bytes.NewReader(data), name)
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(lab) == 0 || len(pix) != len(lab)*CIFAR10PixelBytes {
			t.Fatalf("%d labels, %d pixel bytes", len(lab), len(pix))
		}
		for _, l := range lab {
			if l > 9 {
				t.Fatalf("label %d accepted", l)
			}
		}
	})
}
