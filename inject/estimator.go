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

// Validate reports the first invalid field as a *FieldError naming it.
// Fields a mode does not use are not checked.
func (e Estimator) Validate() error {
	if e.Mode < Baseline || e.Mode > SPAD {
		return &FieldError{Field: FieldMode, Value: strconv.Itoa(int(e.Mode)), Reason: "invalid (valid: " + strings.Join(modeNames[:], ", ") + ")",
			text: fmt.Sprintf("invalid estimator mode %d (valid: %s)", int(e.Mode), strings.Join(modeNames[:], ", "))}
	}
	if e.Mode == Baseline {
		return nil
	}
	if e.Kind < Project || e.Kind > DiffSample {
		return &FieldError{Field: FieldKind, Value: strconv.Itoa(int(e.Kind)), Reason: "invalid (valid: " + strings.Join(kindNames[:], ", ") + ")",
			text: fmt.Sprintf("invalid projection kind %d (valid: %s)", int(e.Kind), strings.Join(kindNames[:], ", "))}
	}
	if !(e.Keep > 0 && e.Keep <= 1) {
		return &FieldError{Field: FieldKeep, Value: fmtFloat(e.Keep), Reason: "must be in (0, 1]"}
	}
	if e.Mode == RAD {
		return nil
	}
	if e.M < 1 {
		return &FieldError{Field: FieldM, Value: strconv.Itoa(e.M), Reason: "must be ≥ 1"}
	}
	if e.M > MaxCandidates {
		return &FieldError{Field: FieldM, Value: strconv.Itoa(e.M), Reason: fmt.Sprintf("must be ≤ %d", MaxCandidates)}
	}
	if e.KMax < 1 {
		return &FieldError{Field: FieldKMax, Value: strconv.Itoa(e.KMax), Reason: "must be ≥ 1"}
	}
	if !(e.Eps >= 0 && e.Eps < 1) {
		return &FieldError{Field: FieldEps, Value: fmtFloat(e.Eps), Reason: "must be in [0, 1)"}
	}
	if e.Variant < Practical || e.Variant > Exact {
		return &FieldError{Field: FieldVariant, Value: strconv.Itoa(int(e.Variant)), Reason: "invalid (valid: " + strings.Join(variantNames[:], ", ") + ")",
			text: fmt.Sprintf("invalid SPAD variant %d (valid: %s)", int(e.Variant), strings.Join(variantNames[:], ", "))}
	}
	return nil
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Field names a field of an estimator configuration, as suite files spell
// it; command lines map it to their flags.
type Field string

// The fields of an estimator configuration.
const (
	FieldMode    Field = "estimator"
	FieldKind    Field = "kind"
	FieldKeep    Field = "keep"
	FieldKMax    Field = "kmax"
	FieldM       Field = "m"
	FieldEps     Field = "eps"
	FieldVariant Field = "variant"
)

// symbol is the field's name in the paper's notation, used by Error.
func (f Field) symbol() string {
	switch f {
	case FieldKMax:
		return "k_max"
	case FieldEps:
		return "ε"
	}
	return string(f)
}

// FieldError is an invalid estimator configuration: the field at fault,
// the value given (as text, strings quoted) and what is wrong with it.
// Callers phrase it in their own terms (a flag, a suite field) from these
// parts; Error gives a complete sentence in the package's terms.
type FieldError struct {
	Field  Field
	Value  string
	Reason string // e.g. "must be ≥ 1", "needs estimator spad"
	text   string // Error's sentence when it is not "<field> = <value>, <reason>"
}

func (e *FieldError) Error() string {
	if e.text != "" {
		return "inject: " + e.text
	}
	return fmt.Sprintf("inject: %s = %s, %s", e.Field.symbol(), e.Value, e.Reason)
}

// Spec is an estimator configuration as a person writes it, on a command
// line or in a suite file: names as text, numbers as given, and the list of
// fields given explicitly. ParseConfig turns it into an Estimator.
type Spec struct {
	Mode    string // "baseline", "rad" or "spad"
	Kind    string // rad/spad: projection kind ("" = project)
	Keep    float64
	KMax    int
	M       int
	Eps     float64
	Variant string // spad: "practical" (also "") or "exact"
	// Given lists the fields set explicitly. One that Mode does not use is
	// an error: a setting that would be silently ignored.
	Given []Field
}

func (s Spec) given(f Field) bool {
	for _, g := range s.Given {
		if g == f {
			return true
		}
	}
	return false
}

// ParseConfig parses and validates an estimator configuration. Every error
// is a *FieldError naming the field: an unknown name, a value out of range,
// or a field given that the mode does not use (keep with baseline, kmax
// with rad, ...).
func ParseConfig(s Spec) (Estimator, error) {
	mode, err := ParseMode(s.Mode)
	if err != nil {
		return Estimator{}, &FieldError{Field: FieldMode, Value: strconv.Quote(s.Mode),
			Reason: "unknown estimator (valid: " + strings.Join(modeNames[:], ", ") + ")", text: strings.TrimPrefix(err.Error(), "inject: ")}
	}
	e := Estimator{Mode: mode}
	unused := func(fs []Field, needs string) error {
		for _, f := range fs {
			if s.given(f) {
				v := map[Field]string{FieldKind: strconv.Quote(s.Kind), FieldKeep: fmtFloat(s.Keep), FieldKMax: strconv.Itoa(s.KMax),
					FieldM: strconv.Itoa(s.M), FieldEps: fmtFloat(s.Eps), FieldVariant: strconv.Quote(s.Variant)}[f]
				return &FieldError{Field: f, Value: v, Reason: "needs estimator " + needs + " (" + mode.String() + " does not use it)"}
			}
		}
		return nil
	}
	spadOnly := []Field{FieldKMax, FieldM, FieldEps, FieldVariant}
	switch mode {
	case Baseline:
		return e, unused(append([]Field{FieldKind, FieldKeep}, spadOnly...), "rad or spad")
	case RAD:
		if err := unused(spadOnly, "spad"); err != nil {
			return e, err
		}
	}
	kind := s.Kind
	if kind == "" {
		kind = Project.String()
	}
	if e.Kind, err = ParseKind(kind); err != nil {
		return e, &FieldError{Field: FieldKind, Value: strconv.Quote(s.Kind),
			Reason: "unknown projection kind (valid: " + strings.Join(kindNames[:], ", ") + ")", text: strings.TrimPrefix(err.Error(), "inject: ")}
	}
	e.Keep = s.Keep
	if mode == SPAD {
		e.KMax, e.M, e.Eps = s.KMax, s.M, s.Eps
		if s.Variant != "" {
			if e.Variant, err = ParseVariant(s.Variant); err != nil {
				return e, &FieldError{Field: FieldVariant, Value: strconv.Quote(s.Variant),
					Reason: "unknown SPAD variant (valid: " + strings.Join(variantNames[:], ", ") + ")", text: strings.TrimPrefix(err.Error(), "inject: ")}
			}
		}
	}
	if err := e.Validate(); err != nil {
		return e, err
	}
	return e, nil
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
