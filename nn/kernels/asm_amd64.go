//go:build amd64 && !noasm

package kernels

const (
	haveAsmAVX2   = true
	haveAsmAVX512 = true
)
