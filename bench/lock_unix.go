//go:build unix

package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on dir/.lock, so that two sweeps never
// write one directory at once. The lock dies with the process.
func lockDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is in use by another sweep (lock %s held); wait for it or use another output directory", dir, path)
	}
	return func() { f.Close() }, nil
}

// setParentDeathSignal makes a child die when its parent does (Linux);
// elsewhere it does nothing.
func setParentDeathSignal(cmd *exec.Cmd) { setPdeathsig(cmd) }
