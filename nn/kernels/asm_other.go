//go:build !amd64 || noasm

package kernels

const (
	haveAsmAVX2   = false
	haveAsmAVX512 = false
)
