//go:build amd64 && !noasm

package kernels

func convZZPeak(n int)
