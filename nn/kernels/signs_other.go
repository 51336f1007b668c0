//go:build !amd64 || noasm

package kernels

func signFillAsm(dst []float32, words []uint32, mag uint32) { signFillGeneric(dst, words, mag) }
