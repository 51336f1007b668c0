//go:build linux

package train

import (
	"os"
	"syscall"
)

// processMemory reads VmRSS and VmHWM from /proc/self/status, falling back
// on getrusage's maxrss (kilobytes on Linux) for the peak.
func processMemory() (cur, peak uint64, ok bool) {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		cur, okc := statusField(b, "VmRSS:")
		peak, okp := statusField(b, "VmHWM:")
		if okc && okp {
			return cur, peak, true
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil || ru.Maxrss <= 0 {
		return 0, 0, false
	}
	return 0, uint64(ru.Maxrss) * 1024, true
}
