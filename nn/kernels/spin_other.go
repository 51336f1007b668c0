//go:build !amd64 || noasm

package kernels

// spinPause would wait a moment between two polls; without the PAUSE
// instruction the polls simply follow each other.
func spinPause(int) {}
