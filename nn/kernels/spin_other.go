//go:build !amd64 || noasm

package kernels

// spinPause waits a moment: n rounds of an empty loop.
func spinPause(n int) {
	for i := 0; i < n; i++ {
		spinSink++
	}
}

// spinSink keeps spinPause's loop from being removed.
var spinSink int
