package datasets

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// IDX magic numbers of the two file kinds MNIST uses: unsigned bytes in one
// dimension (labels) and in three dimensions (images).
const (
	IDXLabelsMagic = 0x00000801
	IDXImagesMagic = 0x00000803
)

// maxIDXBytes bounds the payload an IDX header may declare (4 GiB).
const maxIDXBytes = 1 << 32

// IDX is the content of an IDX file of unsigned bytes: its dimensions and
// its elements in row-major order.
type IDX struct {
	Dims []int   // sizes, outermost first
	Data []uint8 // product(Dims) elements
}

// ReadIDX reads an IDX file of unsigned bytes (element type 0x08) from r,
// gunzipping it first if it starts with the gzip signature. name identifies
// the file in error messages. Malformed input (bad magic, unsupported type,
// truncated data or gzip stream, trailing bytes) gives an error, never a
// panic.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	p, err := newPayloadReader(r, name)
	if err != nil {
		return nil, err
	}
	var hdr [4]byte
	if n, err := p.fill(hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("datasets: %s: truncated IDX header (%d of 4 bytes)", name, n)
		}
		return nil, err
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, fmt.Errorf("datasets: %s: bad IDX magic number 0x%08x (want 0x%08x for labels or 0x%08x for images)",
			name, magic, IDXLabelsMagic, IDXImagesMagic)
	}
	if hdr[2] != 0x08 {
		return nil, fmt.Errorf("datasets: %s: unsupported IDX element type 0x%02x (only unsigned bytes, 0x08)", name, hdr[2])
	}
	nd := int(hdr[3])
	if nd == 0 {
		return nil, fmt.Errorf("datasets: %s: IDX header declares 0 dimensions", name)
	}
	dimBytes := make([]byte, 4*nd)
	if n, err := p.fill(dimBytes); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("datasets: %s: truncated IDX header (%d of %d dimension bytes)", name, n, 4*nd)
		}
		return nil, err
	}
	dims := make([]int, nd)
	size := uint64(1)
	for i := range dims {
		d := uint64(binary.BigEndian.Uint32(dimBytes[4*i:]))
		dims[i] = int(d)
		if size *= d; size > maxIDXBytes {
			return nil, fmt.Errorf("datasets: %s: IDX dimensions %v declare more than %d bytes", name, dims[:i+1], uint64(maxIDXBytes))
		}
	}
	if size > math.MaxInt {
		return nil, fmt.Errorf("datasets: %s: IDX dimensions %v too large for this platform", name, dims)
	}
	data, got, err := p.readN(int(size))
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("datasets: %s: truncated IDX data: dimensions %v declare %d bytes, file holds %d",
				name, dims, size, got)
		}
		return nil, err
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return &IDX{Dims: dims, Data: data}, nil
}

// ReadIDXImages reads an IDX image file (magic 0x00000803: n images of
// rows×cols unsigned bytes), raw or gzipped. name identifies the file in
// error messages.
func ReadIDXImages(r io.Reader, name string) (pixels []uint8, n, rows, cols int, err error) {
	x, err := ReadIDX(r, name)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	if len(x.Dims) != 3 {
		return nil, 0, 0, 0, fmt.Errorf("datasets: %s: IDX image file must have 3 dimensions (count, rows, columns), header declares %d %v",
			name, len(x.Dims), x.Dims)
	}
	n, rows, cols = x.Dims[0], x.Dims[1], x.Dims[2]
	if n == 0 || rows == 0 || cols == 0 {
		return nil, 0, 0, 0, fmt.Errorf("datasets: %s: IDX image file has an empty dimension %v", name, x.Dims)
	}
	return x.Data, n, rows, cols, nil
}

// ReadIDXLabels reads an IDX label file (magic 0x00000801: a vector of
// unsigned bytes), raw or gzipped. name identifies the file in error
// messages.
func ReadIDXLabels(r io.Reader, name string) ([]uint8, error) {
	x, err := ReadIDX(r, name)
	if err != nil {
		return nil, err
	}
	if len(x.Dims) != 1 {
		return nil, fmt.Errorf("datasets: %s: IDX label file must have 1 dimension, header declares %d %v", name, len(x.Dims), x.Dims)
	}
	if x.Dims[0] == 0 {
		return nil, fmt.Errorf("datasets: %s: IDX label file holds no labels", name)
	}
	return x.Data, nil
}

// ReadIDXImagesFile is ReadIDXImages on the file at path.
func ReadIDXImagesFile(path string) (pixels []uint8, n, rows, cols int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	return ReadIDXImages(f, path)
}

// ReadIDXLabelsFile is ReadIDXLabels on the file at path.
func ReadIDXLabelsFile(path string) ([]uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	return ReadIDXLabels(f, path)
}
