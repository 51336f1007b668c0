package inject

import (
	"math/bits"

	"github.com/spadlab/spad/nn/rng"
)

// tableSize returns the length of the open-addressing hash set sampleK uses for
// k values: the smallest power of two ≥ 2k (at least 4), so the load factor
// stays at most 1/2.
func tableSize(k int) int {
	n := 4
	for n < 2*k {
		n <<= 1
	}
	return n
}

// sampleK writes a uniform k-subset of [0, n) to idx[:k] (as exact float32
// integers) with Floyd's algorithm: for j = n−k … n−1 draw t uniform in
// [0, j]; insert t, or j if t is already in the set. Every k-subset is equally
// likely, exactly k draws are made, and membership uses the hash set table
// (length tableSize(k)), so the cost is O(k) expected time whatever n is,
// without allocation. With k = n the identity is returned without draws.
func sampleK(src *rng.Source, n, k int, idx, table []float32) {
	idx = idx[:k]
	if k == n {
		for i := range idx {
			idx[i] = float32(i)
		}
		return
	}
	size := tableSize(k)
	table = table[:size]
	clear(table)
	mask := uint32(size - 1)
	shift := uint(32 - bits.TrailingZeros(uint(size)))
	for i, j := 0, n-k; j < n; i, j = i+1, j+1 {
		t := src.Intn(j + 1)
		if !insert(table, mask, shift, t) {
			insert(table, mask, shift, j)
			t = j
		}
		idx[i] = float32(t)
	}
}

// insert adds v to the hash set (entries hold v+1; 0 marks an empty slot) and
// reports whether v was absent.
func insert(table []float32, mask uint32, shift uint, v int) bool {
	key := float32(v + 1)
	h := (uint32(v) * 0x9E3779B1) >> shift
	for {
		e := table[h&mask]
		if e == 0 {
			table[h&mask] = key
			return true
		}
		if e == key {
			return false
		}
		h++
	}
}
