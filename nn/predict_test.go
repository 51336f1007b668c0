package nn_test

import (
	"encoding/json"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/spadlab/spad/inject"
	"github.com/spadlab/spad/layers"
	"github.com/spadlab/spad/models"
	"github.com/spadlab/spad/nn"
)

// dropoutNet is smallNet with dropout after the ReLU.
func dropoutNet() *nn.Network {
	return nn.NewNetwork(nn.Shape{12}, layers.NewDense(12, 9), layers.NewReLU(), layers.NewDropout(0.5), layers.NewDense(9, 4))
}

// Predict's logits agree with Evaluate's loss and correct count, do not
// depend on the chunk, are the same from a training build and an
// inference-only build with the same seed, and its probabilities are the
// softmax of its logits. Dropout is off.
func TestPredict(t *testing.T) {
	const n = 23
	x, y := randInput(n*12, 7), randLabels(n, 4, 8)
	train, infer, small := dropoutNet(), dropoutNet(), dropoutNet()
	if err := train.Build(10, 4, 3); err != nil {
		t.Fatal(err)
	}
	if err := infer.BuildInference(0, 3); err != nil {
		t.Fatal(err)
	}
	if err := small.BuildInference(3, 3); err != nil {
		t.Fatal(err)
	}
	if infer.Chunk() < n || small.Chunk() != 3 || !infer.InferenceOnly() || train.InferenceOnly() {
		t.Fatalf("chunks %d, %d; inference only %v %v", infer.Chunk(), small.Chunk(), infer.InferenceOnly(), train.InferenceOnly())
	}
	logits := make([][]float32, 3)
	for i, net := range []*nn.Network{train, infer, small} {
		logits[i] = make([]float32, n*4)
		if err := net.Predict(x, n, logits[i], nn.Logits); err != nil {
			t.Fatal(err)
		}
	}
	for i := range logits[0] {
		if logits[0][i] != logits[1][i] || math.Abs(float64(logits[0][i]-logits[2][i])) > 1e-5 {
			t.Fatalf("logit %d: train build %v, inference build %v, chunk 3 %v", i, logits[0][i], logits[1][i], logits[2][i])
		}
	}
	var loss float64
	correct := 0
	for s := 0; s < n; s++ {
		row := logits[0][s*4 : s*4+4]
		best, m := 0, row[0]
		for j, v := range row {
			if v > m {
				best, m = j, v
			}
		}
		if best == int(y[s]) {
			correct++
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v - m))
		}
		loss += math.Log(sum) - float64(row[y[s]]-m)
	}
	el, ec := infer.Evaluate(x, y, n)
	if ec != correct || math.Abs(el-loss) > 1e-4*loss {
		t.Fatalf("Evaluate: loss %v correct %d; from Predict's logits %v, %d", el, ec, loss, correct)
	}
	probs := make([]float32, n*4)
	if err := small.Predict(x, n, probs, nn.Probabilities); err != nil {
		t.Fatal(err)
	}
	for s := 0; s < n; s++ {
		row := logits[2][s*4 : s*4+4]
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v))
		}
		for j, v := range row {
			if want := math.Exp(float64(v)) / sum; math.Abs(float64(probs[s*4+j])-want) > 1e-6 {
				t.Fatalf("probability [%d,%d] = %v, want %v", s, j, probs[s*4+j], want)
			}
		}
	}
	// Parameters of the inference build have no gradient, and it refuses
	// training.
	for _, p := range infer.Params() {
		if p.Grad != nil {
			t.Fatalf("%s has a gradient in an inference build", p.Name)
		}
	}
	if err := infer.CheckTrain(x, y, 3); err == nil || err.Error() != "nn: TrainStep on a network built for inference only" {
		t.Fatalf("CheckTrain on an inference build: %v", err)
	}
	if infer.SavedBytes() != 0 {
		t.Fatalf("an inference build saves %d bytes for backward", infer.SavedBytes())
	}
}

// SmallConvNet (with dropout) built for training and for inference with the
// same seed predicts the same logits; the inference build keeps nothing
// for backward and no gradients.
func TestPredictConvBuilds(t *testing.T) {
	spec, _ := models.Get("smallconv")
	a, b := spec.New(models.Options{Dropout: 0.3}), spec.New(models.Options{Dropout: 0.3})
	if err := a.Build(8, 3, 2); err != nil {
		t.Fatal(err)
	}
	if err := b.BuildInference(3, 2); err != nil {
		t.Fatal(err)
	}
	const n = 4
	x := randInput(n*spec.Input.Size(), 4)
	la, lb := make([]float32, n*10), make([]float32, n*10)
	if err := a.Predict(x, n, la, nn.Logits); err != nil {
		t.Fatal(err)
	}
	if err := b.Predict(x, n, lb, nn.Logits); err != nil {
		t.Fatal(err)
	}
	for i := range la {
		if la[i] != lb[i] {
			t.Fatalf("logit %d: training build %v, inference build %v", i, la[i], lb[i])
		}
	}
	if b.SavedBytes() != 0 {
		t.Fatalf("inference build saves %d bytes", b.SavedBytes())
	}
	for _, p := range b.Params() {
		if p.Grad != nil {
			t.Fatalf("%s has a gradient", p.Name)
		}
	}
}

// Predict's misuse errors.
func TestPredictErrors(t *testing.T) {
	net := smallNet(inject.Estimator{})
	out := make([]float32, 8)
	if err := net.Predict(make([]float32, 24), 2, out, nn.Logits); err == nil || err.Error() != "nn: Predict on a network that was not built" {
		t.Fatalf("before Build: %v", err)
	}
	if err := net.Build(4, 0, 1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x, out []float32
		count  int
		want   string
	}{
		{make([]float32, 23), out, 2, "nn: Predict: 2 samples need 24 inputs, got 23"},
		{make([]float32, 24), out[:7], 2, "nn: Predict: 2 samples of 4 classes need 8 outputs, got 7"},
		{nil, out, -1, "nn: Predict: -1 samples need -12 inputs, got 0"},
	} {
		if err := net.Predict(c.x, c.count, c.out, nn.Logits); err == nil || err.Error() != c.want {
			t.Errorf("Predict error %v, want %q", err, c.want)
		}
	}
	if err := net.Predict(make([]float32, 24), 2, out, nn.Output(7)); err == nil || err.Error() != "nn: Predict: unknown output 7" {
		t.Errorf("unknown output: %v", err)
	}
}

// Predict on SmallConvNet allocates nothing after the first call.
func TestPredictAllocatesNothing(t *testing.T) {
	spec, _ := models.Get("smallconv")
	net := spec.New(models.Options{Dropout: 0.2})
	if err := net.BuildInference(0, 1); err != nil {
		t.Fatal(err)
	}
	const n = 10
	x := randInput(n*spec.Input.Size(), 1)
	out := make([]float32, n*10)
	if a := testing.AllocsPerRun(10, func() { // a real per-call allocation counts ≥ 1 per run; a rare one of the worker team parking does not
		if err := net.Predict(x, n, out, nn.Probabilities); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Fatalf("%v allocations per Predict, want 0", a)
	}
}

// Misuse is reported as errors: calls before Build, a layer of another
// network, a layer listed twice, wrong sample counts, a zero-value SPAD
// estimator.
func TestMisuseErrors(t *testing.T) {
	net := smallNet(inject.Estimator{})
	if net.Classes() != 0 || net.Batch() != 0 || net.Params() != nil || net.Built() {
		t.Fatal("an unbuilt network reports classes, batch or parameters")
	}
	x, y := randInput(8*12, 1), randLabels(8, 4, 2)
	if err := net.CheckTrain(x, y, 2); err == nil || err.Error() != "nn: TrainStep on a network that was not built" {
		t.Fatalf("CheckTrain before Build: %v", err)
	}
	if err := net.CheckEval(x, y, 2); err == nil || err.Error() != "nn: Evaluate on a network that was not built" {
		t.Fatalf("CheckEval before Build: %v", err)
	}
	if err := net.Build(4, 0, 1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		count int
		y     []uint8
		want  string
	}{
		{5, y, "nn: TrainStep with 5 samples; the network was built for batches of 1..4"},
		{0, y, "nn: TrainStep with 0 samples; the network was built for batches of 1..4"},
		{4, y[:3], "nn: TrainStep: 4 samples need 48 inputs and 4 labels, got 96 and 3"},
		{2, []uint8{1, 4}, "nn: TrainStep: label 4 of sample 1 out of range for 4 classes"},
	} {
		if err := net.CheckTrain(x, c.y, c.count); err == nil || err.Error() != c.want {
			t.Errorf("CheckTrain(%d): %v, want %q", c.count, err, c.want)
		}
	}
	if err := net.CheckEval(x, y, 9); err == nil || err.Error() != "nn: Evaluate: 9 samples need 108 inputs and 9 labels, got 96 and 8" {
		t.Errorf("CheckEval(9): %v", err)
	}
	if a := testing.AllocsPerRun(10, func() { _ = net.CheckTrain(x, y, 4) }); a != 0 {
		t.Errorf("CheckTrain allocates %v times", a)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "built for batches of 1..4") {
				t.Errorf("TrainStep with 5 samples: recovered %v", r)
			}
		}()
		net.TrainStep(x, y, 5, 0, nil)
	}()

	// A layer of a built network cannot join another.
	other := nn.NewNetwork(nn.Shape{12}, net.Layers[0], layers.NewReLU(), layers.NewDense(9, 4))
	if err := other.Build(4, 0, 1); err == nil || err.Error() != "nn: layer 0 (dense 12→9) already belongs to another network; create a new layer" {
		t.Fatalf("second Build: %v", err)
	}
	relu := layers.NewReLU()
	twice := nn.NewNetwork(nn.Shape{12}, layers.NewDense(12, 9), relu, layers.NewDense(9, 9), relu, layers.NewDense(9, 4))
	if err := twice.Build(4, 0, 1); err == nil || !strings.Contains(err.Error(), "layer 3 (relu) already belongs to this network") {
		t.Fatalf("layer twice: %v", err)
	}
	// A failed Build releases its layers: they can serve a new network.
	d := layers.NewDense(5, 4)
	bad := nn.NewNetwork(nn.Shape{12}, layers.NewDense(12, 9), d)
	if err := bad.Build(4, 0, 1); err == nil {
		t.Fatal("mismatched sizes built")
	}
	if bad.Built() || bad.Batch() != 0 || bad.Classes() != 0 || bad.Params() != nil {
		t.Fatal("a failed Build left the network looking built")
	}
	if err := nn.NewNetwork(nn.Shape{5}, d).Build(4, 0, 1); err != nil {
		t.Fatalf("layer of a failed Build: %v", err)
	}

	spad := layers.NewDense(12, 4)
	spad.Estimator = inject.Estimator{Mode: inject.SPAD}
	err := nn.NewNetwork(nn.Shape{12}, spad).Build(4, 0, 1)
	if err == nil || !strings.Contains(err.Error(), "dense 12→4: the spad estimator needs Keep, M, KMax set") {
		t.Fatalf("zero SPAD estimator: %v", err)
	}
}

// States and RestoreStates carry the SPAD schedulers across networks: a
// network restored from another's states after step t continues exactly as
// the original does.
func TestStatesResume(t *testing.T) {
	e := inject.Estimator{Mode: inject.SPAD, Kind: inject.Project, Keep: 0.3, KMax: 3, M: 4, Eps: 0.2, Variant: inject.Exact}
	mk := func() *nn.Network {
		n := smallNet(e)
		if err := n.Build(6, 0, 11); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, b := mk(), mk()
	x, y := randInput(6*12, 3), randLabels(6, 4, 4)
	for it := int64(0); it < 5; it++ {
		a.TrainStep(x, y, 6, it, nil)
	}
	st, err := a.States()
	if err != nil {
		t.Fatal(err)
	}
	if st[1] != nil || st[0] == nil || st[2] == nil {
		t.Fatalf("states %q", st)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back []json.RawMessage
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if err := b.RestoreStates(back); err != nil {
		t.Fatal(err)
	}
	for i, p := range a.Params() {
		copy(b.Params()[i].Value, p.Value)
	}
	for it := int64(5); it < 9; it++ {
		la, _ := a.TrainStep(x, y, 6, it, nil)
		lb, _ := b.TrainStep(x, y, 6, it, nil)
		for i, p := range a.Params() {
			for j, g := range p.Grad {
				if b.Params()[i].Grad[j] != g {
					t.Fatalf("step %d: %s grad[%d] differs after resume", it, p.Name, j)
				}
			}
		}
		if la != lb {
			t.Fatalf("step %d: loss %v vs %v", it, la, lb)
		}
	}
	if err := b.RestoreStates(back[:2]); err == nil || err.Error() != "nn: 2 layer states for a network of 3 layers" {
		t.Fatalf("short states: %v", err)
	}
	bad := append([]json.RawMessage(nil), back...)
	bad[1] = json.RawMessage(`{"Step":1}`)
	if err := b.RestoreStates(bad); err == nil || err.Error() != "nn: layer 1 (relu) keeps no state, but the saved state has one" {
		t.Fatalf("state for relu: %v", err)
	}
	bad[1], bad[0] = nil, json.RawMessage(`{"Seed":12,"Layer":0,"Step":4,"Selected":0,"Pending":-1}`)
	if err := b.RestoreStates(bad); err == nil || !strings.Contains(err.Error(), "nn: layer 0 (dense 12→9): inject: scheduler state is for seed 12 layer 0, not seed 11 layer 0") {
		t.Fatalf("wrong seed: %v", err)
	}
	bad[0] = nil
	if err := b.RestoreStates(bad); err == nil || err.Error() != "nn: layer 0 (dense 12→9): no state for a layer whose spad estimator keeps one" {
		t.Fatalf("missing state: %v", err)
	}
}

// BenchmarkPredictSmallConvNet runs Predict on 150 SmallConvNet samples with
// an inference-only build and reports the bytes the build holds: the
// parameters, the chunk's work (its two activation buffers and the
// convolution scratch), and the heap the build took (HeapAlloc before and
// after, after a GC); heap/budget is that heap over 1.2 × parameter bytes +
// chunk work, which must stay ≤ 1.
func BenchmarkPredictSmallConvNet(b *testing.B) {
	spec, _ := models.Get("smallconv")
	net := spec.New(models.Options{})
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	if err := net.BuildInference(0, 1); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	const n = 150
	x := randInput(n*spec.Input.Size(), 1)
	out := make([]float32, n*10)
	paramBytes := float64(net.ParamCount() * 4)
	work := float64(net.WorkBytes())
	built := float64(m1.HeapAlloc) - float64(m0.HeapAlloc)
	if err := net.Predict(x, n, out, nn.Logits); err != nil { // first call: worker threads start
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := net.Predict(x, n, out, nn.Logits); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(paramBytes, "param-B")
	b.ReportMetric(work, "chunk-work-B")
	b.ReportMetric(built, "build-heap-B")
	b.ReportMetric(built/(1.2*paramBytes+work), "heap/budget")
	b.ReportMetric((built-work)/paramBytes, "(heap-work)/param")
	if built > 1.2*paramBytes+work {
		b.Errorf("the inference build holds %.0f bytes, more than 1.2 × %.0f parameter bytes + %.0f of chunk work", built, paramBytes, work)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n/1e3, "µs/sample")
}
