//go:build !unix

package bench

// lockDirShared is a no-op where flock is not available.
func lockDirShared(string) (func(), error) { return func() {}, nil }

// lockRun is a no-op where flock is not available.
func lockRun(string, string) (func(), error) { return func() {}, nil }
