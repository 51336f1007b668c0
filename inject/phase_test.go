package inject

import "testing"

// With a phase, selections happen at (t+1+phase) mod k_max = 0, the winner
// is in force for exactly k_max steps from the next step, and its key's
// block base is the step it came into force.
func TestSchedulerPhase(t *testing.T) {
	e := Estimator{Mode: SPAD, Kind: Project, Keep: 0.5, KMax: 5, M: 3}
	s := NewScheduler(e, 1, 2)
	s.SetPhase(3)
	if s.Period() != 5 || s.Phase() != 3 {
		t.Fatalf("period %d phase %d", s.Period(), s.Phase())
	}
	var selections []int64
	inForceSince := int64(0)
	winner := 0
	for step := int64(0); step < 30; step++ {
		s.Begin(step)
		key := s.StepKey()
		if base := int64(key.Draw >> 8); base != inForceSince {
			t.Fatalf("step %d: key base %d, want %d", step, base, inForceSince)
		}
		if int(key.Draw&0xff) != winner {
			t.Fatalf("step %d: candidate %d in force, want %d", step, key.Draw&0xff, winner)
		}
		if s.Selecting() {
			selections = append(selections, step)
			scores := []float64{1, 1, 1}
			w := int(step) % 3
			scores[w] = 2
			if s.Select(scores) != w {
				t.Fatal("argmax not selected")
			}
			winner, inForceSince = w, step+1
		}
	}
	want := []int64{1, 6, 11, 16, 21, 26}
	if len(selections) != len(want) {
		t.Fatalf("selections at %v, want %v", selections, want)
	}
	for i := range want {
		if selections[i] != want[i] {
			t.Fatalf("selections at %v, want %v", selections, want)
		}
	}
	st := s.State()
	r := NewScheduler(e, 1, 2)
	r.SetPhase(3)
	if err := r.Restore(st); err != nil {
		t.Fatal(err)
	}
	s.Begin(30)
	r.Begin(30)
	if s.StepKey() != r.StepKey() {
		t.Fatal("restored scheduler diverges")
	}
}
