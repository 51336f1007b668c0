//go:build unix

package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDirShared takes a shared lock on dir/.lock: any number of single
// runs (RunIndex) may hold it at once, but not while a Sweep holds it
// exclusively (nor a sweep of an older version of this program, which
// takes the same lock). Where the file system does not support locks
// (some network file systems) the run goes on without.
func lockDirShared(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		f.Close()
		if noLocks(err) {
			return func() {}, nil
		}
		return nil, fmt.Errorf("%s is in use by a local sweep (lock %s held); wait for it to end", dir, path)
	}
	return func() { f.Close() }, nil
}

// lockRun takes an exclusive lock on the run's lock file in dir/runs, so
// that one run never executes twice at once (an array resubmitted while
// its first submission still runs, or a requeued task racing a slow
// predecessor).
func lockRun(dir, id string) (unlock func(), err error) {
	path := filepath.Join(dir, RunsDir, "."+fileSafe(id)+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if noLocks(err) {
			return func() {}, nil
		}
		return nil, fmt.Errorf("run %s is running in another process (lock %s held)", id, path)
	}
	return func() { f.Close() }, nil
}

// noLocks reports whether a flock error means that the file system has no
// locks, rather than that the lock is held.
func noLocks(err error) bool {
	return errors.Is(err, syscall.ENOLCK) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS)
}
