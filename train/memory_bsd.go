//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package train

import (
	"runtime"
	"syscall"
)

// processMemory reports getrusage's maxrss as the peak (bytes on Darwin,
// kilobytes on the BSDs); the current size is not known.
func processMemory() (cur, peak uint64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil || ru.Maxrss <= 0 {
		return 0, 0, false
	}
	peak = uint64(ru.Maxrss)
	if runtime.GOOS != "darwin" {
		peak *= 1024
	}
	return 0, peak, true
}
