package datasets

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// gzipMagic is the two-byte signature that starts every gzip stream.
var gzipMagic = [2]byte{0x1f, 0x8b}

// payloadReader is a data file's content stream, gunzipped when the file
// starts with the gzip signature; name is used in error messages.
type payloadReader struct {
	r    io.Reader
	name string
	gz   bool
}

// newPayloadReader detects gzip by its magic bytes and returns the reader of
// the (decompressed) content.
func newPayloadReader(r io.Reader, name string) (*payloadReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err == nil && magic[0] == gzipMagic[0] && magic[1] == gzipMagic[1] {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, gzipError(name, err)
		}
		// Buffer the decompressed side too: record readers ask for few bytes.
		return &payloadReader{r: bufio.NewReaderSize(zr, 64<<10), name: name, gz: true}, nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("datasets: %s: read error: %w", name, err)
	}
	return &payloadReader{r: br, name: name}, nil
}

// gzipError describes a failure of the gzip layer.
func gzipError(name string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("datasets: %s: truncated gzip stream: %w", name, err)
	}
	return fmt.Errorf("datasets: %s: corrupt gzip stream: %w", name, err)
}

// fail turns a read error other than a clean end of data into a message
// naming the file.
func (p *payloadReader) fail(err error) error {
	if p.gz {
		return gzipError(p.name, err)
	}
	return fmt.Errorf("datasets: %s: read error: %w", p.name, err)
}

// fill reads len(buf) bytes. It returns the count read and io.EOF when the
// data ended cleanly before buf was full, or another (already described)
// error.
func (p *payloadReader) fill(buf []byte) (int, error) {
	got, idle := 0, 0
	for got < len(buf) {
		n, err := p.r.Read(buf[got:])
		got += n
		if err != nil {
			if got == len(buf) && errors.Is(err, io.EOF) {
				return got, nil
			}
			if errors.Is(err, io.EOF) {
				return got, io.EOF
			}
			return got, p.fail(err)
		}
		if n == 0 {
			if idle++; idle > 100 {
				return got, p.fail(io.ErrNoProgress)
			}
		} else {
			idle = 0
		}
	}
	return got, nil
}

// readN reads exactly size bytes of payload. The buffer grows with the data
// actually received, so a header that declares a huge size costs no more
// memory than the file really holds. It returns io.EOF (with the count read)
// when the data ends early.
func (p *payloadReader) readN(size int) ([]byte, int, error) {
	buf := make([]byte, min(size, 1<<16))
	got := 0
	for {
		n, err := p.fill(buf[got:])
		got += n
		if err != nil {
			return nil, got, err
		}
		if got == size {
			return buf, got, nil
		}
		nb := make([]byte, min(2*len(buf), size))
		copy(nb, buf[:got])
		buf = nb
	}
}

// expectEnd checks that no data follows the payload (and, for gzip, that
// the stream's checksum verifies, which happens at its end).
func (p *payloadReader) expectEnd() error {
	var one [1]byte
	n, err := p.fill(one[:])
	if n > 0 {
		return fmt.Errorf("datasets: %s: trailing data after the declared payload", p.name)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
