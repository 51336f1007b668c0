package kernels

// sgemmKernelRef is the reference meaning of every micro-kernel, for any
// tile size mr×nr: with the packed panels a (k steps of mr values) and b (k
// steps of nr values) it forms T[i][j] = Σ_p a[mr*p+i]·b[nr*p+j] (p
// ascending) and stores c[i*ldc+j] = alpha*T[i][j] if beta == 0 (C is not
// read), else alpha*T[i][j] + beta*c[i*ldc+j]. Assembly kernels may fuse
// the multiply-adds, so they agree with it to rounding, not bitwise.
func sgemmKernelRef(mr, nr, k int, a, b, c []float32, ldc int, alpha, beta float32) {
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			var t float32
			for p := 0; p < k; p++ {
				t += a[mr*p+i] * b[nr*p+j]
			}
			t *= alpha
			if beta == 0 {
				c[i*ldc+j] = t
			} else {
				c[i*ldc+j] = t + beta*c[i*ldc+j]
			}
		}
	}
}

// sgemmKernelGeneric4x4 is the pure-Go micro-kernel: sgemmKernelRef with
// mr = nr = 4 applied to n tiles stacked vertically (A panel t at
// a[4·k·t:], C tile t at c[4·ldc·t:]).
func sgemmKernelGeneric4x4(k, n int, a, b, c []float32, ldc int, alpha, beta float32) {
	for t := 0; t < n; t++ {
		kernel4x4(k, a[4*k*t:], b, c[4*ldc*t:], ldc, alpha, beta)
	}
}

// kernel4x4 computes one 4×4 tile, its sixteen sums held in registers.
func kernel4x4(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	a = a[:4*k]
	b = b[:4*k]
	for p := 0; p < len(a); p += 4 {
		ap := (*[4]float32)(a[p:])
		bp := (*[4]float32)(b[p:])
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := ap[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := ap[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := ap[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := ap[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	storeRow4(c[0:], c00, c01, c02, c03, alpha, beta)
	storeRow4(c[ldc:], c10, c11, c12, c13, alpha, beta)
	storeRow4(c[2*ldc:], c20, c21, c22, c23, alpha, beta)
	storeRow4(c[3*ldc:], c30, c31, c32, c33, alpha, beta)
}

// storeRow4 writes alpha*t + beta*c (or alpha*t when beta == 0) to c[:4].
func storeRow4(c []float32, t0, t1, t2, t3, alpha, beta float32) {
	r := (*[4]float32)(c)
	t0, t1, t2, t3 = alpha*t0, alpha*t1, alpha*t2, alpha*t3
	if beta == 0 {
		r[0], r[1], r[2], r[3] = t0, t1, t2, t3
		return
	}
	r[0] = t0 + beta*r[0]
	r[1] = t1 + beta*r[1]
	r[2] = t2 + beta*r[2]
	r[3] = t3 + beta*r[3]
}
