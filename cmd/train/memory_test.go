package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/train"
)

func TestMemoryFlagErrors(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--data-mode", "disk"}, `unknown --data-mode "disk" (valid: memory, stream, auto)`},
		{[]string{"--mem-limit", "lots"}, `--mem-limit: "lots" is not a size`},
		{[]string{"--mem-limit", "-5MiB"}, `--mem-limit: "-5MiB" is not a size`},
		{[]string{"--mem-limit", "12 parsecs"}, `--mem-limit: "12 parsecs" is not a size`},
		{[]string{"--gogc", "0"}, `--gogc must be a percentage ≥ 1 or off, got "0"`},
		{[]string{"--gogc", "off"}, "--gogc off needs a --mem-limit"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		msg := errb.String()
		if code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, code, msg, c.want)
		}
	}
}

func TestMemoryFlags(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	cfg, _, _, err := parse([]string{"--data-mode", "Stream", "--mem-limit", "200MiB", "--gogc", "30"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Data.Mode != datasets.Stream || budget != (memBudget{gogc: 30, limit: 200 << 20}) {
		t.Errorf("mode %v, budget %+v", cfg.Data.Mode, budget)
	}
	if cfg, _, _, err = parse(nil, io.Discard); err != nil || cfg.Data.Mode != datasets.Auto ||
		budget != (memBudget{gogc: train.DefaultGCPercent}) {
		t.Errorf("defaults: mode %v, budget %+v, %v", cfg.Data.Mode, budget, err)
	}
	if _, _, _, err = parse([]string{"--gogc", "off", "--mem-limit", "1GB"}, io.Discard); err != nil || budget != (memBudget{gogc: -1, limit: 1e9}) {
		t.Errorf("off with a limit: budget %+v, %v", budget, err)
	}
	// The environment rules where the flags are not given.
	t.Setenv("GOGC", "50")
	t.Setenv("GOMEMLIMIT", "300MiB")
	if _, _, _, err = parse(nil, io.Discard); err != nil || budget != (memBudget{gogc: train.LeaveGC}) {
		t.Errorf("with GOGC and GOMEMLIMIT set: budget %+v, %v", budget, err)
	}
	if _, _, _, err = parse([]string{"--gogc", "off"}, io.Discard); err != nil || budget != (memBudget{gogc: -1}) {
		t.Errorf("off under GOMEMLIMIT: budget %+v, %v", budget, err)
	}
}

func TestParseBytes(t *testing.T) {
	good := map[string]int64{"0": 0, "1234": 1234, "300MiB": 300 << 20, "1.5GB": 1.5e9, "64k": 64e3,
		"64KiB": 64 << 10, "2 gib": 2 << 30, "512M": 512e6, "7b": 7}
	for s, want := range good {
		if got, err := parseBytes(s); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "MiB", "1.2.3MB", "-1", "5TB", "1e30GB"} {
		if got, err := parseBytes(s); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", s, got)
		}
	}
}
