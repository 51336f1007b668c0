package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/spadlab/spad/datasets"
	"github.com/spadlab/spad/train"
)

// memBudget is what --gogc and --mem-limit ask of the Go runtime; a
// negative gogc or a zero limit leaves the setting alone.
type memBudget struct {
	gogc  int
	limit int64
}

// budget is set by parseFlags and applied by run before anything is loaded.
var budget memBudget

// apply sets the budget and returns the settings in force.
func (b memBudget) apply() (int, int64) { return train.SetMemoryBudget(b.gogc, b.limit) }

// parseBudget turns the --gogc and --mem-limit flags into a budget. A flag
// not given yields to the GOGC or GOMEMLIMIT environment variable when it
// is set; --gogc off needs a limit.
func parseBudget(gogc string, gogcSet bool, limit string, limitSet bool) (memBudget, error) {
	b := memBudget{gogc: train.LeaveGC}
	if limitSet || os.Getenv("GOMEMLIMIT") == "" {
		v, err := parseBytes(limit)
		if err != nil {
			return b, fmt.Errorf("--mem-limit: %v", err)
		}
		b.limit = v
	}
	if !gogcSet && os.Getenv("GOGC") != "" {
		return b, nil
	}
	if g := strings.TrimSpace(gogc); strings.EqualFold(g, "off") {
		if b.limit == 0 && os.Getenv("GOMEMLIMIT") == "" {
			return b, fmt.Errorf("--gogc off needs a --mem-limit (the heap would grow without bound)")
		}
		b.gogc = -1
	} else if v, err := strconv.Atoi(g); err == nil && v >= 1 {
		b.gogc = v
	} else {
		return b, fmt.Errorf("--gogc must be a percentage ≥ 1 or off, got %q", gogc)
	}
	return b, nil
}

// parseBytes reads a size such as 300MiB, 1.5GB, 262144k or 0 (none).
// Units: B, k/kB (1000), KiB (1024), M/MB, MiB, G/GB, GiB; case-insensitive
// except that a lone k, M or G means the decimal unit.
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 1 << 10, "m": 1e6, "mb": 1e6,
		"mib": 1 << 20, "g": 1e9, "gb": 1e9, "gib": 1 << 30}[strings.ToLower(unit)]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || v < 0 || math.IsInf(v*mult, 0) || v*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size (e.g. 300MiB, 1GB, 0 for none)", s)
	}
	return int64(v * mult), nil
}

// parseDataMode reads --data-mode.
func parseDataMode(s string) (datasets.Mode, error) {
	m, err := datasets.ParseMode(s)
	if err != nil {
		return 0, fmt.Errorf("unknown --data-mode %q (valid: %s)", s, strings.Join(datasets.Modes, ", "))
	}
	return m, nil
}
