package inject

import (
	"fmt"
	"strconv"
	"strings"
)

// Mode is the gradient estimator of the injected layers.
type Mode int

const (
	// Baseline saves the full input: the exact minibatch gradient.
	Baseline Mode = iota
	// RAD draws a fresh uniform projection at every step (Oktay et al.).
	RAD
	// SPAD follows the best of m candidate projections for k_max steps
	// (Peseux et al.).
	SPAD
)

var modeNames = [...]string{Baseline: "baseline", RAD: "rad", SPAD: "spad"}

// String returns the name ParseMode accepts.
func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses "baseline", "rad" or "spad".
func ParseMode(s string) (Mode, error) {
	for i, n := range modeNames {
		if s == n {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("inject: unknown estimator mode %q (valid: %s)", s, strings.Join(modeNames[:], ", "))
}

// Variant selects how SPAD uses its selected candidate.
type Variant int

const (
	// Practical uses the selected candidate with scale 1 (paper Algorithm
	// 2); biased.
	Practical Variant = iota
	// Exact draws the candidate from the almost-Dirac distribution around
	// the selected one and rescales by 1/(m·p) (paper Algorithm 1); unbiased
	// for ε > 0.
	Exact
)

var variantNames = [...]string{Practical: "practical", Exact: "exact"}

// String returns the name ParseVariant accepts.
func (v Variant) String() string {
	if v >= 0 && int(v) < len(variantNames) {
		return variantNames[v]
	}
	return fmt.Sprintf("Variant(%d)", int(v))
}

// ParseVariant parses "practical" or "exact".
func ParseVariant(s string) (Variant, error) {
	for i, n := range variantNames {
		if s == n {
			return Variant(i), nil
		}
	}
	return 0, fmt.Errorf("inject: unknown SPAD variant %q (valid: %s)", s, strings.Join(variantNames[:], ", "))
}

// MaxCandidates is the largest m: a candidate's index is the low byte of its
// key's Draw.
const MaxCandidates = 256

// Estimator configures the gradient estimator of the injected layers. Kind
// and Keep matter for RAD and SPAD; KMax, M, Eps and Variant for SPAD only.
type Estimator struct {
	Mode    Mode
	Kind    Kind    // projection family
	Keep    float64 // kept fraction of the features, in (0, 1]; K = ⌈Keep·F⌉
	KMax    int     // k_max ≥ 1: steps a selected projection stays in force
	M       int     // m in [1, 256]: candidates scored at each selection
	Eps     float64 // ε in [0, 1): exploration probability (Exact variant)
	Variant Variant
}

// Validate reports the first invalid field with a message naming it. Fields a
// mode does not use are not checked.
func (e Estimator) Validate() error {
	if e.Mode < Baseline || e.Mode > SPAD {
		return fmt.Errorf("inject: invalid estimator mode %d (valid: %s)", int(e.Mode), strings.Join(modeNames[:], ", "))
	}
	if e.Mode == Baseline {
		return nil
	}
	if e.Kind < Project || e.Kind > DiffSample {
		return fmt.Errorf("inject: invalid projection kind %d (valid: %s)", int(e.Kind), strings.Join(kindNames[:], ", "))
	}
	if !(e.Keep > 0 && e.Keep <= 1) {
		return fmt.Errorf("inject: keep = %v, must be in (0, 1]", e.Keep)
	}
	if e.Mode == RAD {
		return nil
	}
	if e.M < 1 {
		return fmt.Errorf("inject: m = %d, must be ≥ 1", e.M)
	}
	if e.M > MaxCandidates {
		return fmt.Errorf("inject: m = %d, must be ≤ %d", e.M, MaxCandidates)
	}
	if e.KMax < 1 {
		return fmt.Errorf("inject: k_max = %d, must be ≥ 1", e.KMax)
	}
	if !(e.Eps >= 0 && e.Eps < 1) {
		return fmt.Errorf("inject: ε = %v, must be in [0, 1)", e.Eps)
	}
	if e.Variant < Practical || e.Variant > Exact {
		return fmt.Errorf("inject: invalid SPAD variant %d (valid: %s)", int(e.Variant), strings.Join(variantNames[:], ", "))
	}
	return nil
}

// String describes e for run records, e.g. "baseline", "rad(kind=project
// keep=0.1)" or "spad(kind=project keep=0.1 m=10 kmax=5 eps=0.1
// variant=exact)".
func (e Estimator) String() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch e.Mode {
	case Baseline:
		return "baseline"
	case RAD:
		return fmt.Sprintf("rad(kind=%s keep=%s)", e.Kind, f(e.Keep))
	case SPAD:
		return fmt.Sprintf("spad(kind=%s keep=%s m=%d kmax=%d eps=%s variant=%s)",
			e.Kind, f(e.Keep), e.M, e.KMax, f(e.Eps), e.Variant)
	}
	return e.Mode.String()
}

// Projector returns the projector e uses for a layer input of F features.
func (e Estimator) Projector(f int) Projector {
	return NewProjector(e.Kind, f, e.Keep)
}

// exactProb returns p_j of the almost-Dirac distribution D^ε_sel over m
// candidates.
func exactProb(m, sel, j int, eps float64) float64 {
	if m == 1 {
		return 1
	}
	if j == sel {
		return 1 - eps
	}
	return eps / float64(m-1)
}
