package train

import (
	"reflect"

	"github.com/spadlab/spad/datasets"
)

// isNilSource reports whether s is nil or a nil pointer (a nil *Dataset
// passed as a Source).
func isNilSource(s datasets.Source) bool {
	if s == nil {
		return true
	}
	v := reflect.ValueOf(s)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// dataMode returns the name of the mode the samples of s are held in: the
// Mode of a Dataset (or of any source with a Mode method), "memory" for
// any other source.
func dataMode(s datasets.Source) string {
	if m, ok := s.(interface{ Mode() datasets.Mode }); ok && !isNilSource(s) {
		return m.Mode().String()
	}
	return datasets.Memory.String()
}
