package datasets

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readCSV(t *testing.T, text string, opt CSVOptions) *Floats {
	t.Helper()
	f, err := ReadCSV(strings.NewReader(text), "t.csv", opt)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReadCSV(t *testing.T) {
	// A header (found automatically), quoted and spaced fields, a blank
	// line, a float-written label.
	f := readCSV(t, "label,a,b,c\n1, 0.5,\"-2\",3e1\n\n0,1,2,3\n2.0,4,5,6\n", CSVOptions{})
	if in := f.Info(); in != (Info{Name: "t.csv", N: 3, C: 1, H: 1, W: 3, Classes: 3}) {
		t.Fatalf("Info %+v", in)
	}
	if !slices.Equal(f.X, []float32{0.5, -2, 30, 1, 2, 3, 4, 5, 6}) || !slices.Equal(f.Labels, []int{1, 0, 2}) {
		t.Fatalf("X %v labels %v", f.X, f.Labels)
	}
	// No header; the label last; a shape; Classes given; semicolons.
	f = readCSV(t, "1;2;3;4;0\n5;6;7;8;1\n", CSVOptions{LabelColumn: -1, C: 1, H: 2, W: 2, Classes: 5, Comma: ';'})
	if in := f.Info(); in.N != 2 || in.C != 1 || in.H != 2 || in.W != 2 || in.Classes != 5 || f.Labels[1] != 1 || f.X[4] != 5 {
		t.Fatalf("Info %+v, X %v", in, f.X)
	}
	// HeaderYes skips a numeric first row; HeaderNo reads it.
	if f := readCSV(t, "0,1\n1,2\n", CSVOptions{Header: HeaderYes}); f.Len() != 1 || f.X[0] != 2 {
		t.Fatalf("HeaderYes: %v", f.X)
	}
	if f := readCSV(t, "0,1\n1,2\n", CSVOptions{Header: HeaderNo}); f.Len() != 2 {
		t.Fatalf("HeaderNo: %d samples", f.Len())
	}
	// Class names, sorted; then fixed by the training set's.
	text := "x,y,species\n1,2,virginica\n3,4,setosa\n5,6,virginica\n"
	f = readCSV(t, text, CSVOptions{LabelColumn: 2, LabelNames: true})
	if !slices.Equal(f.ClassNames, []string{"setosa", "virginica"}) || !slices.Equal(f.Labels, []int{1, 0, 1}) || f.Classes != 2 {
		t.Fatalf("names %v labels %v", f.ClassNames, f.Labels)
	}
	g := readCSV(t, "7,8,virginica\n", CSVOptions{LabelColumn: 2, LabelNames: true, ClassNames: []string{"setosa", "versicolor", "virginica"}})
	if g.Labels[0] != 2 || g.Classes != 3 {
		t.Fatalf("with ClassNames: labels %v, %d classes", g.Labels, g.Classes)
	}
	path := filepath.Join(t.TempDir(), "iris.csv")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := LoadCSV(path, CSVOptions{LabelColumn: -1, LabelNames: true})
	if err != nil || f.Name != "iris" || f.Len() != 3 {
		t.Fatalf("LoadCSV: %v %+v", err, f)
	}
}

func TestReadCSVErrors(t *testing.T) {
	cases := []struct {
		text string
		opt  CSVOptions
		want string
	}{
		{"", CSVOptions{}, "t.csv: no samples"},
		{"label,a\n", CSVOptions{}, "t.csv: no samples"},
		{"1\n2\n", CSVOptions{}, "t.csv: line 1: 1 field, want a label and at least one feature"},
		{"0,1,2\n1,2\n", CSVOptions{}, "t.csv: line 2: 2 fields, want 3 as on line 1"},
		{"l,a\n0,1\n1,x\n", CSVOptions{}, `t.csv: line 3: field 2: "x" is not a finite number`},
		{"0,1\n1,NaN\n", CSVOptions{}, `line 2: field 2: "NaN" is not a finite number`},
		{"0,1\n1,1e60\n", CSVOptions{}, `line 2: field 2: "1e60" is not a finite number`},
		{"0,1\n-1,2\n", CSVOptions{}, `line 2: label "-1" is not an integer in 0..255 (set CSVOptions.LabelNames for class names)`},
		{"0,1\n\n\n2.5,2\n", CSVOptions{}, `line 4: label "2.5" is not an integer`},
		{"0,1\n3,2\n", CSVOptions{Classes: 3}, "line 2: label 3, want 0..2 (3 classes)"},
		{"0,1\n1,\"2\n", CSVOptions{}, "t.csv: line 2: extraneous or missing \" in quoted-field"},
		{"0,1,2\n", CSVOptions{LabelColumn: 3}, "line 1: label column 3 does not exist in 3 fields"},
		{"0,1,2\n", CSVOptions{LabelColumn: -4}, "line 1: label column -4 does not exist in 3 fields"},
		{"0,1,2,3\n", CSVOptions{C: 2, H: 2, W: 1}, "line 1: 3 feature columns, but samples of 2×2×1 have 4 values"},
		{"0,1\n", CSVOptions{C: 2}, "sample shape 2×0×0: give all three of C, H and W (positive) or none"},
		{"0,1\n", CSVOptions{Classes: 257}, "257 classes, want 1..256"},
		{"0,1\n", CSVOptions{Header: 7}, "unknown header setting 7"},
		{"1,a\n2,b\n", CSVOptions{LabelColumn: 1, LabelNames: true, ClassNames: []string{"a"}, Header: HeaderNo}, `t.csv: line 2: class "b" is not one of the 1 given (a)`},
	}
	for _, c := range cases {
		_, err := ReadCSV(strings.NewReader(c.text), "t.csv", c.opt)
		wantErr(t, err, c.want)
	}
	_, err := LoadCSV(filepath.Join(t.TempDir(), "none.csv"), CSVOptions{})
	wantErr(t, err, "none.csv")
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("label,a,b\n1,0.5,2\n0,3,4\n"), int8(0), false)
	f.Add([]byte("a;b;c\n1;2;x\n"), int8(-1), true)
	f.Add([]byte("0,\"1\n\",2\n1,2,3\n"), int8(2), false)
	f.Add([]byte("3,1e39,2\n"), int8(0), false)
	f.Fuzz(func(t *testing.T, data []byte, label int8, names bool) {
		const name = "fuzz.csv"
		opt := CSVOptions{LabelColumn: int(label), LabelNames: names}
		d, err := ReadCSV(strings.NewReader(string(data)), name, opt)
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		in := d.Info()
		if in.N == 0 || len(d.X) != in.N*in.SampleSize() || in.Classes < 1 || in.Classes > 256 {
			t.Fatalf("%+v with %d values", in, len(d.X))
		}
		for i := 0; i < in.N; i++ {
			if l := d.Label(i); l < 0 || l >= in.Classes {
				t.Fatalf("label %d of %d classes", l, in.Classes)
			}
		}
		for _, v := range d.X {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("value %v accepted", v)
			}
		}
	})
}
