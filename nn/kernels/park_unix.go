//go:build unix

package kernels

import "os"

// parker parks a goroutine reading one byte from a pipe, which the
// runtime's network poller waits on: parking and waking then allocate
// nothing, ever. One goroutine parks at a time; each unpark ends one park.
type parker struct {
	r, w   *os.File
	rb, wb [1]byte // separate bytes for the reader and the writer
}

// open opens the pipe and reports whether that succeeded.
func (p *parker) open() bool {
	r, w, err := os.Pipe()
	if err != nil {
		return false
	}
	p.r, p.w = r, w
	return true
}

func (p *parker) isOpen() bool { return p.r != nil }

// park blocks until a byte written by unpark has been read.
func (p *parker) park() {
	for {
		if n, err := p.r.Read(p.rb[:]); n > 0 || err != nil {
			return // on an error the caller's checks go on as after a wake-up
		}
	}
}

// unpark writes the byte that ends one park.
func (p *parker) unpark() { p.w.Write(p.wb[:]) }
