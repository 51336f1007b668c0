//go:build unix

package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestMain runs the command itself when the test binary is started as a
// child by TestSIGTERMExits130.
func TestMain(m *testing.M) {
	if os.Getenv("SPAD_TRAIN_AS_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// SIGTERM (as Ctrl-C's SIGINT) to a training process: it finishes its step,
// writes run.json marked interrupted, the curves and a checkpoint, and
// exits 130.
func TestSIGTERMExits130(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network in a child process")
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		out := filepath.Join(t.TempDir(), "out")
		c := exec.Command(os.Args[0], "--iters", "100000", "--eval-every", "5", "--train-size", "300", "--test-size", "100", "--no-download", "--out", out)
		c.Env = append(os.Environ(), "SPAD_TRAIN_AS_MAIN=1")
		var stderr strings.Builder
		c.Stderr = &stderr
		pipe, err := c.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "iter ") { // first evaluation done
				c.Process.Signal(sig)
				break
			}
		}
		for sc.Scan() {
		}
		err = c.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			if strings.Contains(stderr.String(), "MNIST") {
				t.Skipf("MNIST not available: %s", stderr.String())
			}
			t.Fatalf("%v: exit %v, want 130; stderr %q", sig, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "training interrupted at iteration") {
			t.Errorf("%v: stderr %q", sig, stderr.String())
		}
		rec := readRecord(t, out)
		if rec["status"] != "interrupted" || len(rec["curves"].([]any)) < 1 {
			t.Errorf("%v: status %v, %d curve points", sig, rec["status"], len(rec["curves"].([]any)))
		}
		for _, f := range []string{"curves.csv", "checkpoint.ckpt"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("%v: %v", sig, err)
			}
		}
	}
}

// Output files get the permissions the umask gives new files (0644 under
// umask 022, 0600 under 077), not os.CreateTemp's 0600.
func TestOutputFilesFollowUmask(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	for _, c := range []struct {
		umask int
		want  os.FileMode
	}{{0o022, 0o644}, {0o077, 0o600}} {
		old := syscall.Umask(c.umask)
		out := filepath.Join(t.TempDir(), "out")
		code, _, stderr := cmd(t, tiny(out, "--checkpoint-every", "10")...)
		syscall.Umask(old)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, f := range []string{"run.json", "curves.csv", "checkpoint.ckpt"} {
			st, err := os.Stat(filepath.Join(out, f))
			if err != nil {
				t.Error(err)
			} else if st.Mode().Perm() != c.want {
				t.Errorf("umask %03o: %s mode %v, want %v", c.umask, f, st.Mode().Perm(), c.want)
			}
		}
	}
}

// Two training processes into one --out: while the first trains, the
// second is refused, naming the first; the first then ends normally.
func TestTwoProcessesOneOut(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network in child processes")
	}
	out := filepath.Join(t.TempDir(), "out")
	child := func(args ...string) *exec.Cmd {
		c := exec.Command(os.Args[0], append([]string{"--train-size", "300", "--test-size", "100", "--no-download", "--out", out}, args...)...)
		c.Env = append(os.Environ(), "SPAD_TRAIN_AS_MAIN=1")
		return c
	}
	first := child("--iters", "100000", "--eval-every", "5")
	pipe, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var firstErr strings.Builder
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(pipe)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "iter ") {
	}
	second := child("--iters", "10")
	msg, err := second.CombinedOutput()
	var ee *exec.ExitError
	want := "is in use by another training (locked by process " + strconv.Itoa(first.Process.Pid)
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(msg), want) {
		t.Errorf("second training: %v, output %q; want exit 2 and %q", err, msg, want)
	}
	first.Process.Signal(syscall.SIGTERM)
	for sc.Scan() {
	}
	if err := first.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 130 {
		if strings.Contains(firstErr.String(), "MNIST") {
			t.Skipf("MNIST not available: %s", firstErr.String())
		}
		t.Errorf("first training: %v (%s)", err, firstErr.String())
	}
}
