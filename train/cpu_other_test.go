//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package train

import "time"

// processCPU is unknown on this platform.
func processCPU() time.Duration { return 0 }
