//go:build (!amd64 && !arm64) || noasm

package kernels

// Without the assembly (noasm build tag or neither amd64 nor arm64) ewAsm is
// constant false and these are never called; they exist so that the
// dispatching code in elementwise.go compiles, and route to pure Go.

func addBiasAsm(x, bias []float32, rows, cols int) { addBiasGeneric(x, bias, rows, cols) }

func addBiasChannelsAsm(x, bias []float32, n, chans, hw int) {
	addBiasChannelsGeneric(x, bias, n, chans, hw)
}

func sumRowsAsm(dst, x []float32, rows, cols int) { sumRowsGeneric(dst, x, rows, cols) }

func sumChannelsAsm(dst, x []float32, n, chans, hw int) {
	sumChannelsGeneric(dst, x, n, chans, hw)
}

func reluAsm(y, x []float32) { reluGeneric(y, x) }

func reluMaskAsm(y, x []float32, mask []uint64) { reluMaskGeneric(y, x, mask) }

func maskMulAsm(dx, dy []float32, mask []uint64, scale float32) {
	maskMulGeneric(dx, dy, mask, scale)
}

func adamAsm(w, g, m, v []float32, lr, b1, b2, eps, wd, c1, c2 float32) {
	adamGeneric(w, g, m, v, lr, b1, b2, eps, wd, c1, c2)
}

func axpyAsm(alpha float32, x, y []float32) { axpyGeneric(alpha, x, y) }

func scaleAsm(alpha float32, x []float32) { scaleGeneric(alpha, x) }

func sumSquaresAsm(x []float32) float64 { return sumSquaresGeneric(x) }
