//go:build !unix

package kernels

// parker is not available here: signals park on a channel.
type parker struct{}

func (*parker) open() bool   { return false }
func (*parker) isOpen() bool { return false }
func (*parker) park()        {}
func (*parker) unpark()      {}
