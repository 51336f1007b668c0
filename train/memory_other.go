//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package train

// processMemory knows no way to read the resident set on this platform.
func processMemory() (cur, peak uint64, ok bool) { return 0, 0, false }
