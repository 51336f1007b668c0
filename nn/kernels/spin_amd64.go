//go:build amd64 && !noasm

package kernels

// spinPause executes the PAUSE instruction n times (n ≥ 1): a polling loop
// that waits a few nanoseconds without taking the scheduler's lock and
// while leaving the core's resources to the other hardware thread.
//
//go:noescape
func spinPause(n int)
