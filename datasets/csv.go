package datasets

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Header says whether the first row of a CSV file names its columns.
type Header int

const (
	// HeaderAuto takes the first row for a header when one of its feature
	// fields is not a number, or its label field is not one (with numeric
	// labels).
	HeaderAuto Header = iota
	// HeaderYes skips the first row.
	HeaderYes
	// HeaderNo reads the first row as a sample.
	HeaderNo
)

// CSVOptions says how ReadCSV reads a table of samples.
type CSVOptions struct {
	// LabelColumn is the index of the label column, counting from 0; a
	// negative index counts from the end (-1: the last column). Every
	// other column is a feature, in order.
	LabelColumn int
	// Header says whether the first row is a header (default HeaderAuto).
	Header Header
	// C, H and W are the per-sample shape; all zero means 1×1×F for F
	// feature columns. Otherwise C*H*W must equal F.
	C, H, W int
	// Classes is the number of classes of integer labels; 0 takes the
	// largest label plus one.
	Classes int
	// LabelNames reads the labels as class names instead of integers: the
	// classes are the sorted distinct names, or ClassNames when set.
	LabelNames bool
	// ClassNames, with LabelNames, fixes the classes and their order (for
	// a test set, the training set's ClassNames); another name is an
	// error.
	ClassNames []string
	// Comma is the field separator (default ',').
	Comma rune
}

// LoadCSV reads the CSV file at path (see ReadCSV); the set is named after
// the file, without its extension.
func LoadCSV(path string, opt CSVOptions) (*Floats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	d, err := ReadCSV(f, path, opt)
	if err != nil {
		return nil, err
	}
	d.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return d, nil
}

// ReadCSV reads a table of samples, one a row: a label column and feature
// columns (numbers, read as float32 and used as they are: standardise them
// with SourceStats and Floats.Standardize when needed). Blank lines are
// skipped; fields may be quoted and are trimmed of spaces. name names the
// set and the input in messages; every error about the content gives the
// line (and column) at fault.
func ReadCSV(r io.Reader, name string, opt CSVOptions) (*Floats, error) {
	fail := func(line int, format string, args ...any) (*Floats, error) {
		return nil, fmt.Errorf("datasets: %s: line %d: %s", name, line, fmt.Sprintf(format, args...))
	}
	if opt.Header < HeaderAuto || opt.Header > HeaderNo {
		return nil, fmt.Errorf("datasets: %s: unknown header setting %d", name, int(opt.Header))
	}
	if opt.C < 0 || opt.H < 0 || opt.W < 0 || (opt.C|opt.H|opt.W != 0 && (opt.C == 0 || opt.H == 0 || opt.W == 0)) {
		return nil, fmt.Errorf("datasets: %s: sample shape %d×%d×%d: give all three of C, H and W (positive) or none", name, opt.C, opt.H, opt.W)
	}
	if opt.Classes < 0 || opt.Classes > 256 {
		return nil, fmt.Errorf("datasets: %s: %d classes, want 1..256 (or 0: from the labels)", name, opt.Classes)
	}
	if len(opt.ClassNames) > 256 {
		return nil, fmt.Errorf("datasets: %s: %d class names, at most 256", name, len(opt.ClassNames))
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	if opt.Comma != 0 {
		cr.Comma = opt.Comma
	}
	var (
		x       []float32
		labels  []int
		names   []string // per sample, with LabelNames
		nameRow []int    // line of each sample, with LabelNames
		fields  = -1     // fields per row
		first   = 0      // line of the first row
		labelAt int
		feat    int
	)
	for row := 0; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fail(pe.Line, "%v", pe.Err)
			}
			return nil, fmt.Errorf("datasets: %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if fields < 0 {
			fields, first = len(rec), line
			if fields < 2 {
				return fail(line, "%d field, want a label and at least one feature", fields)
			}
			labelAt = opt.LabelColumn
			if labelAt < 0 {
				labelAt += fields
			}
			if labelAt < 0 || labelAt >= fields {
				return fail(line, "label column %d does not exist in %d fields", opt.LabelColumn, fields)
			}
			feat = fields - 1
			if opt.C != 0 && opt.C*opt.H*opt.W != feat {
				return fail(line, "%d feature columns, but samples of %d×%d×%d have %d values", feat, opt.C, opt.H, opt.W, opt.C*opt.H*opt.W)
			}
			if opt.Header == HeaderYes || (opt.Header == HeaderAuto && isHeader(rec, labelAt, opt.LabelNames)) {
				continue
			}
		} else if len(rec) != fields {
			return fail(line, "%d fields, want %d as on line %d", len(rec), fields, first)
		}
		for j, f := range rec {
			f = strings.TrimSpace(f)
			if j == labelAt {
				if opt.LabelNames {
					names = append(names, f)
					nameRow = append(nameRow, line)
					continue
				}
				l, ok := parseLabel(f)
				if !ok {
					return fail(line, "label %q is not an integer in 0..255 (set CSVOptions.LabelNames for class names)", f)
				}
				if opt.Classes > 0 && l >= opt.Classes {
					return fail(line, "label %d, want 0..%d (%d classes)", l, opt.Classes-1, opt.Classes)
				}
				labels = append(labels, l)
				continue
			}
			v, err := strconv.ParseFloat(f, 32)
			if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
				return fail(line, "field %d: %q is not a finite number", j+1, f)
			}
			x = append(x, float32(v))
		}
	}
	if fields < 0 || (len(labels) == 0 && len(names) == 0) {
		return nil, fmt.Errorf("datasets: %s: no samples", name)
	}
	d := &Floats{Name: name, C: opt.C, H: opt.H, W: opt.W, X: x, Labels: labels, Classes: opt.Classes}
	if opt.C == 0 {
		d.C, d.H, d.W = 1, 1, feat
	}
	if opt.LabelNames {
		classes := opt.ClassNames
		if len(classes) == 0 {
			classes = slices.Clone(names)
			slices.Sort(classes)
			classes = slices.Compact(classes)
			if len(classes) > 256 {
				return nil, fmt.Errorf("datasets: %s: %d distinct class names, at most 256", name, len(classes))
			}
		}
		index := make(map[string]int, len(classes))
		for i, c := range classes {
			index[c] = i
		}
		d.Labels = make([]int, len(names))
		for i, n := range names {
			l, ok := index[n]
			if !ok {
				return fail(nameRow[i], "class %q is not one of the %d given (%s)", n, len(classes), strings.Join(classes, ", "))
			}
			d.Labels[i] = l
		}
		d.ClassNames = slices.Clone(classes)
		d.Classes = len(classes)
	} else if d.Classes == 0 {
		for _, l := range d.Labels {
			d.Classes = max(d.Classes, l+1)
		}
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// parseLabel parses an integer label in 0..255, also written as a float
// with no fractional part ("3.0").
func parseLabel(s string) (int, bool) {
	if l, err := strconv.Atoi(s); err == nil {
		return l, l >= 0 && l <= 255
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != math.Trunc(v) || v < 0 || v > 255 {
		return 0, false
	}
	return int(v), true
}

// isHeader reports whether the first row rec is a header: a field that is
// not a number (the label field too, with numeric labels).
func isHeader(rec []string, labelAt int, labelNames bool) bool {
	for j, f := range rec {
		f = strings.TrimSpace(f)
		if j == labelAt {
			if _, err := strconv.ParseFloat(f, 64); err != nil && !labelNames {
				return true
			}
			continue
		}
		if _, err := strconv.ParseFloat(f, 32); err != nil {
			return true
		}
	}
	return false
}
