package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestArrayRanges(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{4}, "4"},
		{[]int{0, 1, 2, 3}, "0-3"},
		{[]int{9, 0, 1, 2, 3, 5, 7, 8}, "0-3,5,7-9"},
		{[]int{1, 1, 2}, "1-2"},
		{[]int{0, 2, 4}, "0,2,4"},
	} {
		if got := ArrayRanges(c.in); got != c.want {
			t.Errorf("ArrayRanges(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseJobID(t *testing.T) {
	for in, want := range map[string]string{"123\n": "123", "77;cluster\n": "77"} {
		if got, err := ParseJobID(in); err != nil || got != want {
			t.Errorf("ParseJobID(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseJobID("sbatch: error: Batch job submission failed\n"); err == nil || !strings.Contains(err.Error(), "not a job id") {
		t.Errorf("bad output: %v", err)
	}
}

func testSlurmOptions() SlurmOptions {
	return SlurmOptions{Bench: "/shared/my bin/it's/bench", Dir: "/shared/sweeps/cifar-fig9", Label: "cifar-fig9",
		RunArgs: []string{"--suite", "cifar-fig9", "--iters", "40000"}, Indices: []int{0, 1, 2, 5, 7, 8},
		Partition: "cpu", Account: "proj42", Time: "06:00:00", Mem: "4G", CPUs: 4, MaxParallel: 8}
}

// TestSlurmScripts checks the directives of both scripts, that bash
// parses them, and the quoting of the paths.
func TestSlurmScripts(t *testing.T) {
	o := testSlurmOptions()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	arr, rep := o.ArrayScript(), o.ReportScript()
	for _, want := range []string{"#!/bin/bash\n", "#SBATCH --array=0-2,5,7-8%8\n", "#SBATCH --cpus-per-task=4\n",
		"#SBATCH --time=06:00:00\n", "#SBATCH --mem=4G\n", "#SBATCH --partition=cpu\n", "#SBATCH --account=proj42\n",
		"#SBATCH --requeue\n", "#SBATCH --signal=B:USR1@300\n", "#SBATCH --open-mode=append\n",
		"#SBATCH --output=/shared/sweeps/cifar-fig9/logs/slurm-%A_%a.out\n",
		`bench='/shared/my bin/it'\''s/bench'`, "dir=/shared/sweeps/cifar-fig9\n",
		`"$bench" run --suite cifar-fig9 --iters 40000 --index "$idx" --out "$dir" --threads 4 &`,
		`scontrol requeue "${SLURM_JOB_ID}"`} {
		if !strings.Contains(arr, want) {
			t.Errorf("array script lacks %q:\n%s", want, arr)
		}
	}
	for _, want := range []string{"#SBATCH --job-name=spad-cifar-fig9-report\n", "#SBATCH --partition=cpu\n",
		`exec "$bench" report --in "$dir"`} {
		if !strings.Contains(rep, want) {
			t.Errorf("report script lacks %q:\n%s", want, rep)
		}
	}
	// Every #SBATCH line comes before the first command, or sbatch ignores it.
	for name, s := range map[string]string{"array": arr, "report": rep} {
		cmds := false
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "#SBATCH") && cmds {
				t.Errorf("%s script: %q after the first command", name, l)
			}
			if l != "" && !strings.HasPrefix(l, "#") {
				cmds = true
			}
		}
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		dir := t.TempDir()
		for name, s := range map[string]string{"array.sh": arr, "report.sh": rep} {
			p := filepath.Join(dir, name)
			os.WriteFile(p, []byte(s), 0o644)
			if out, err := exec.Command(bash, "-n", p).CombinedOutput(); err != nil {
				t.Errorf("bash -n %s: %v\n%s", name, err, out)
			}
		}
	}
	o.MaxParallel, o.Time, o.Mem, o.Partition, o.Account = 0, "", "", "", ""
	arr = o.ArrayScript()
	for _, bad := range []string{"%", "--time", "--mem", "--partition", "--account"} {
		if strings.Contains(arr, "#SBATCH "+bad) || strings.Contains(arr, "--array=0-2,5,7-8"+bad) {
			t.Errorf("unset option %q in the script:\n%s", bad, arr)
		}
	}
}

func TestSlurmValidate(t *testing.T) {
	for _, c := range []struct {
		edit func(*SlurmOptions)
		want string
	}{
		{func(o *SlurmOptions) { o.CPUs = 0 }, "--cpus must be ≥ 1, got 0"},
		{func(o *SlurmOptions) { o.MaxParallel = -1 }, "--max-parallel must be ≥ 0"},
		{func(o *SlurmOptions) { o.Time = "6h" }, `--time "6h": want HH:MM:SS`},
		{func(o *SlurmOptions) { o.Partition = "a b" }, `"a b": Slurm names and sizes have no spaces`},
		{func(o *SlurmOptions) { o.Mem = "4G$(rm)" }, "have no spaces, quotes or '$'"},
		{func(o *SlurmOptions) { o.Dir = "/a b" }, `sweep directory "/a b": sbatch takes the log path as it is`},
		{func(o *SlurmOptions) { o.Dir = "/a%j" }, "no spaces, quotes, '%' or '\\'"},
		{func(o *SlurmOptions) { o.Time = "00:09:59" }, "--time 00:09:59 is less than twice --grace 300 s"},
		{func(o *SlurmOptions) { o.Time = "9" }, "--time 9 is less than twice --grace 300 s"},
		{func(o *SlurmOptions) { o.Time, o.Grace = "00:01:00", 31 }, "less than twice --grace 31 s"},
	} {
		o := testSlurmOptions()
		c.edit(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", o, err, c.want)
		}
	}
	for tm, sec := range map[string]int{"06:00:00": 6 * 3600, "2-00:00:00": 48 * 3600, "90": 90 * 60, "100:00:00": 100 * 3600, "1-02:03:04": 93784} {
		o := testSlurmOptions()
		o.Time = tm
		if err := o.Validate(); err != nil {
			t.Errorf("time %q: %v", tm, err)
		}
		if got, ok := timeSeconds(tm); !ok || got != sec {
			t.Errorf("timeSeconds(%q) = %d, %v; want %d", tm, got, ok, sec)
		}
	}
}

func testK8sOptions() K8sOptions {
	return K8sOptions{Name: "spad-cifar-fig9", Namespace: "ml", Image: "registry.example/spad:1", Bench: "/usr/local/bin/bench",
		Claim: "sweeps", Mount: "/results", Dir: "/results/cifar-fig9", RunArgs: []string{"--suite", "cifar-fig9"},
		Runs: 45, Parallelism: 10, CPUs: 2, Mem: "4Gi", Retries: 3, Grace: 120}
}

// TestK8sIndexedJob parses the manifest and checks the fields the Job
// controller reads.
func TestK8sIndexedJob(t *testing.T) {
	o := testK8sOptions()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	var m struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name, Namespace string
			Labels          map[string]string
		}
		Spec struct {
			CompletionMode       string `yaml:"completionMode"`
			Completions          int    `yaml:"completions"`
			Parallelism          int    `yaml:"parallelism"`
			BackoffLimitPerIndex int    `yaml:"backoffLimitPerIndex"`
			PodFailurePolicy     struct {
				Rules []struct {
					Action          string                  `yaml:"action"`
					OnPodConditions []struct{ Type string } `yaml:"onPodConditions"`
				}
			} `yaml:"podFailurePolicy"`
			Template struct {
				Metadata struct{ Labels map[string]string }
				Spec     struct {
					RestartPolicy string `yaml:"restartPolicy"`
					Grace         int    `yaml:"terminationGracePeriodSeconds"`
					Containers    []struct {
						Name    string
						Image   string
						Command []string
						Env     []struct {
							Name      string
							ValueFrom struct {
								FieldRef struct {
									FieldPath string `yaml:"fieldPath"`
								} `yaml:"fieldRef"`
							} `yaml:"valueFrom"`
						}
						Resources struct {
							Requests map[string]string
							Limits   map[string]string
						}
						VolumeMounts []struct {
							Name      string
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					}
					Volumes []struct {
						Name                  string
						PersistentVolumeClaim struct {
							ClaimName string `yaml:"claimName"`
						} `yaml:"persistentVolumeClaim"`
					}
				}
			}
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(o.IndexedJob()))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%v\n%s", err, o.IndexedJob())
	}
	s := m.Spec
	if m.APIVersion != "batch/v1" || m.Kind != "Job" || m.Metadata.Name != "spad-cifar-fig9" || m.Metadata.Namespace != "ml" {
		t.Errorf("header: %+v", m)
	}
	if s.CompletionMode != "Indexed" || s.Completions != 45 || s.Parallelism != 10 || s.BackoffLimitPerIndex != 3 {
		t.Errorf("spec: %+v", s)
	}
	if r := s.PodFailurePolicy.Rules; len(r) != 1 || r[0].Action != "Ignore" || r[0].OnPodConditions[0].Type != "DisruptionTarget" {
		t.Errorf("pod failure policy: %+v", r)
	}
	ps := s.Template.Spec
	if ps.RestartPolicy != "Never" || ps.Grace != 120 || len(ps.Containers) != 1 {
		t.Fatalf("pod spec: %+v", ps)
	}
	c := ps.Containers[0]
	want := []string{"/usr/local/bin/bench", "run", "--suite", "cifar-fig9", "--index", "$(JOB_COMPLETION_INDEX)", "--out", "/results/cifar-fig9", "--threads", "2"}
	if strings.Join(c.Command, "|") != strings.Join(want, "|") || c.Image != "registry.example/spad:1" {
		t.Errorf("container: %q %q", c.Image, c.Command)
	}
	if len(c.Env) != 1 || c.Env[0].Name != "JOB_COMPLETION_INDEX" || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("env: %+v", c.Env)
	}
	if c.Resources.Requests["cpu"] != "2" || c.Resources.Limits["memory"] != "4Gi" {
		t.Errorf("resources: %+v", c.Resources)
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/results" || len(ps.Volumes) != 1 ||
		ps.Volumes[0].Name != c.VolumeMounts[0].Name || ps.Volumes[0].PersistentVolumeClaim.ClaimName != "sweeps" {
		t.Errorf("volumes: %+v %+v", c.VolumeMounts, ps.Volumes)
	}

	// Strings YAML would misread (a colon and space, a leading '*',
	// quotes) come back as they went in.
	o.RunArgs = []string{"--suite-file", "/results/my suite: \"v2\".json", "*x"}
	o.Namespace, o.Mem, o.Parallelism = "", "", 0
	var back struct {
		Metadata map[string]any
		Spec     struct {
			Parallelism int
			Template    struct {
				Spec struct {
					Containers []struct {
						Command   []string
						Resources struct{ Requests map[string]string }
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal([]byte(o.IndexedJob()), &back); err != nil {
		t.Fatal(err)
	}
	got := back.Spec.Template.Spec.Containers[0]
	if got.Command[3] != o.RunArgs[1] || got.Command[4] != "*x" || back.Spec.Parallelism != 45 {
		t.Errorf("round trip: %q, parallelism %d", got.Command, back.Spec.Parallelism)
	}
	if _, ok := back.Metadata["namespace"]; ok || got.Resources.Requests["memory"] != "" {
		t.Errorf("unset namespace or memory written: %+v %+v", back.Metadata, got.Resources)
	}
}

func TestK8sValidate(t *testing.T) {
	for _, c := range []struct {
		edit func(*K8sOptions)
		want string
	}{
		{func(o *K8sOptions) { o.Name = "Spad_1" }, `job name "Spad_1": lower-case letters`},
		{func(o *K8sOptions) { o.Image = "" }, "--image is required"},
		{func(o *K8sOptions) { o.Claim = "" }, "PersistentVolumeClaim is required"},
		{func(o *K8sOptions) { o.Mount = "results" }, "--mount \"results\": an absolute path is required"},
		{func(o *K8sOptions) { o.Dir = "/elsewhere/x" }, "--out /elsewhere/x must be under the volume's mount point /results"},
		{func(o *K8sOptions) { o.Dir = "/resultsx" }, "must be under the volume's mount point"},
		{func(o *K8sOptions) { o.CPUs = 0 }, "--cpus must be ≥ 1"},
	} {
		o := testK8sOptions()
		c.edit(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", o, err, c.want)
		}
	}
}
