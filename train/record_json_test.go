package train

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// A diverged run's record has NaN or infinite figures: run.json writes them
// as null (JSON has neither) instead of failing, and keeps the field order
// and names of a finite record.
func TestRecordJSONNonFinite(t *testing.T) {
	rec := Record{Model: "smallfc", Status: StatusDiverged, TestLoss: math.NaN(), TrainLoss: math.Inf(1), TestAccuracy: 0.1,
		Curves: []Point{{Iter: 1, TrainLoss: 2.3, TestLoss: 2.2, TestAccuracy: 0.1, LR: 1}, {Iter: 2, TrainLoss: math.NaN(), TestLoss: math.Inf(1), LR: 1}}}
	js, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	s := string(js)
	for _, want := range []string{`"test_loss": null`, `"train_loss": null`, `"test_accuracy": 0.1`, `"train_loss": 2.3`, `"status": "diverged"`, `"model": "smallfc"`} {
		if !strings.Contains(s, want) {
			t.Errorf("run.json lacks %s:\n%s", want, s)
		}
	}
	if strings.Count(s, `"test_loss"`) != 3 {
		t.Errorf("test_loss should appear once in the record and once per point:\n%s", s)
	}
	var back Record
	if err := json.Unmarshal(js, &back); err != nil || back.Model != "smallfc" || len(back.Curves) != 2 || back.Curves[0].TestLoss != 2.2 {
		t.Errorf("read back: %+v, %v", back, err)
	}
}
