package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	bad := [][]string{
		{"-runs", "0"}, {"-runs", "abc"}, {"-steps", "-1"}, {"-workers", "-2"},
		{"-m", "-1"}, {"-kmax-values", "5,x"}, {"-kmax-values", "0"}, {"-nosuch"}, {"extra"},
	}
	for _, args := range bad {
		var stderr bytes.Buffer
		if _, err := parse(args, &stderr); err == nil || errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v accepted", args)
		} else if strings.Contains(err.Error(), "\n") || stderr.Len() != 0 {
			t.Errorf("%v: error %q is not one line (stderr %q)", args, err, stderr.String())
		}
	}
}

func TestParseHelpAndModes(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := parse([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, f := range []string{"-runs", "-steps", "-seed", "-workers", "-m", "-out", "-kmax-sweep", "-f1", "-tables", "-kmax-values"} {
		if !strings.Contains(stderr.String(), f) {
			t.Errorf("usage does not document %s", f)
		}
	}
	o, err := parse(nil, &stderr)
	if err != nil || !o.tables || o.sweep || o.f1 || o.runs != 1000 || o.steps != 2000 {
		t.Errorf("defaults %+v, %v", o, err)
	}
	o, _ = parse([]string{"-f1"}, &stderr)
	if o.tables || !o.f1 {
		t.Errorf("-f1 alone: %+v", o)
	}
	o, _ = parse([]string{"-f1", "-tables"}, &stderr)
	if !o.tables || !o.f1 {
		t.Errorf("-f1 -tables: %+v", o)
	}
}

func TestRunSmall(t *testing.T) {
	dir := t.TempDir()
	o, err := parse([]string{"-runs", "8", "-steps", "60", "-tables", "-kmax-sweep", "-kmax-values", "1,10", "-f1", "-out", dir}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(o, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Table 1", "Table 2", "Figure 7", "Figure 3", "SPAD_kmax=50"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, f := range []string{"table1.csv", "table2.csv", "sweep.csv", "fig7_beale.png", "fig7_levi.png", "fig3_f1.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}
