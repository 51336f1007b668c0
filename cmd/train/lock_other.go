//go:build !unix

package main

import "os"

// lockFile creates path and holds it open; without flock on this system it
// does not exclude other processes.
func lockFile(path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}
