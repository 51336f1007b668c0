package inject

import (
	"errors"
	"testing"
)

// ParseConfig names the field at fault in a typed error, for every kind of
// mistake: unknown names, values out of range, and fields the mode ignores.
func TestParseConfigErrors(t *testing.T) {
	spad := Spec{Mode: "spad", Keep: 0.1, KMax: 5, M: 4}
	with := func(s Spec, f func(*Spec)) Spec { f(&s); return s }
	cases := []struct {
		name  string
		spec  Spec
		field Field
		value string
		msg   string // Error()
	}{
		{"unknown mode", Spec{Mode: "sgd"}, FieldMode, `"sgd"`, `inject: unknown estimator mode "sgd" (valid: baseline, rad, spad)`},
		{"keep with baseline", Spec{Mode: "baseline", Keep: 0.3, Given: []Field{FieldKeep}}, FieldKeep, "0.3", "inject: keep = 0.3, needs estimator rad or spad (baseline does not use it)"},
		{"kind with baseline", Spec{Mode: "baseline", Kind: "project", Given: []Field{FieldKind}}, FieldKind, `"project"`, ""},
		{"kmax with rad", Spec{Mode: "rad", Keep: 0.1, KMax: 3, Given: []Field{FieldKMax}}, FieldKMax, "3", "inject: k_max = 3, needs estimator spad (rad does not use it)"},
		{"variant with rad", Spec{Mode: "rad", Keep: 0.1, Variant: "exact", Given: []Field{FieldVariant}}, FieldVariant, `"exact"`, ""},
		{"unknown kind", Spec{Mode: "rad", Keep: 0.1, Kind: "zip"}, FieldKind, `"zip"`, `inject: unknown projection kind "zip" (valid: project, same-sample, diff-sample)`},
		{"keep out of range", Spec{Mode: "rad", Keep: 1.5}, FieldKeep, "1.5", "inject: keep = 1.5, must be in (0, 1]"},
		{"keep missing", Spec{Mode: "rad"}, FieldKeep, "0", "inject: keep = 0, must be in (0, 1]"},
		{"m zero", with(spad, func(s *Spec) { s.M = 0 }), FieldM, "0", "inject: m = 0, must be ≥ 1"},
		{"m too big", with(spad, func(s *Spec) { s.M = 300 }), FieldM, "300", "inject: m = 300, must be ≤ 256"},
		{"kmax zero", with(spad, func(s *Spec) { s.KMax = 0 }), FieldKMax, "0", "inject: k_max = 0, must be ≥ 1"},
		{"eps one", with(spad, func(s *Spec) { s.Eps = 1 }), FieldEps, "1", "inject: ε = 1, must be in [0, 1)"},
		{"unknown variant", with(spad, func(s *Spec) { s.Variant = "fast" }), FieldVariant, `"fast"`, `inject: unknown SPAD variant "fast" (valid: practical, exact)`},
	}
	for _, c := range cases {
		_, err := ParseConfig(c.spec)
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v is not a *FieldError", c.name, err)
			continue
		}
		if fe.Field != c.field || fe.Value != c.value || fe.Reason == "" {
			t.Errorf("%s: field %q value %q reason %q, want field %q value %q", c.name, fe.Field, fe.Value, fe.Reason, c.field, c.value)
		}
		if c.msg != "" && err.Error() != c.msg {
			t.Errorf("%s: Error() = %q, want %q", c.name, err.Error(), c.msg)
		}
	}
}

// Valid configurations parse to the estimator they describe; defaults fill
// the kind and the variant.
func TestParseConfigValid(t *testing.T) {
	cases := []struct {
		spec Spec
		want Estimator
	}{
		{Spec{Mode: "baseline"}, Estimator{Mode: Baseline}},
		{Spec{Mode: "rad", Keep: 0.2, Given: []Field{FieldKeep}}, Estimator{Mode: RAD, Kind: Project, Keep: 0.2}},
		{Spec{Mode: "rad", Kind: "diff-sample", Keep: 1}, Estimator{Mode: RAD, Kind: DiffSample, Keep: 1}},
		{Spec{Mode: "spad", Keep: 0.1, KMax: 3, M: 4, Eps: 0.1, Variant: "exact", Given: []Field{FieldKMax, FieldM, FieldEps, FieldVariant}},
			Estimator{Mode: SPAD, Kind: Project, Keep: 0.1, KMax: 3, M: 4, Eps: 0.1, Variant: Exact}},
	}
	for _, c := range cases {
		got, err := ParseConfig(c.spec)
		if err != nil || got != c.want {
			t.Errorf("ParseConfig(%+v) = %+v, %v; want %+v", c.spec, got, err, c.want)
		}
	}
}
