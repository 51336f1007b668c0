//go:build !unix

package bench

import "os/exec"

// lockDir is a no-op where flock is not available.
func lockDir(string) (func(), error) { return func() {}, nil }

func setParentDeathSignal(*exec.Cmd) {}
