package bench

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// K8sOptions describe a Kubernetes Indexed Job running a sweep: pod i
// runs run i of the suite, from JOB_COMPLETION_INDEX.
type K8sOptions struct {
	Name      string   // the Job's name (lower-case letters, digits and '-')
	Namespace string   // "" : the current one
	Image     string   // a container image holding this program
	Bench     string   // the program's path in the image
	Claim     string   // PersistentVolumeClaim holding the sweep directory
	Mount     string   // where the claim is mounted
	Dir       string   // the sweep directory in the container (under Mount)
	RunArgs   []string // arguments that select the suite for "bench run"
	Runs      int      // the suite's number of runs (completions)
	// Parallelism is the number of pods at once (0: all).
	Parallelism int
	CPUs        int    // cores per pod, also the run's kernel threads
	Mem         string // memory per pod, a Kubernetes quantity ("" : none asked)
	// Retries is the number of failures of one index before it is given
	// up (backoffLimitPerIndex); evictions and preemptions do not count.
	Retries int
	// Grace is the pod's terminationGracePeriodSeconds: time to finish a
	// step and write the checkpoint after SIGTERM.
	Grace int
}

var k8sName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Validate checks the options a user gives.
func (o K8sOptions) Validate() error {
	switch {
	case len(o.Name) > 52 || !k8sName.MatchString(o.Name):
		return fmt.Errorf("job name %q: lower-case letters, digits and '-', at most 52 characters", o.Name)
	case o.Namespace != "" && !k8sName.MatchString(o.Namespace):
		return fmt.Errorf("namespace %q: lower-case letters, digits and '-'", o.Namespace)
	case o.Image == "":
		return fmt.Errorf("--image is required: a container image holding the bench program")
	case o.Claim == "" || !k8sName.MatchString(o.Claim):
		return fmt.Errorf("--claim %q: the name of a PersistentVolumeClaim is required", o.Claim)
	case !strings.HasPrefix(o.Mount, "/"):
		return fmt.Errorf("--mount %q: an absolute path is required", o.Mount)
	case o.Dir != o.Mount && !strings.HasPrefix(o.Dir, strings.TrimSuffix(o.Mount, "/")+"/"):
		return fmt.Errorf("--out %s must be under the volume's mount point %s", o.Dir, o.Mount)
	case o.Runs < 1:
		return fmt.Errorf("the suite has no runs")
	case o.CPUs < 1:
		return fmt.Errorf("--cpus must be ≥ 1, got %d", o.CPUs)
	case o.Parallelism < 0 || o.Retries < 0 || o.Grace < 0:
		return fmt.Errorf("--max-parallel, --retries and --grace must be ≥ 0")
	}
	return nil
}

// yq quotes s as a YAML double-quoted scalar (JSON's string syntax is a
// subset of it).
func yq(s string) string {
	js, _ := json.Marshal(s)
	return string(js)
}

// IndexedJob is the manifest (YAML) of the Indexed Job.
func (o K8sOptions) IndexedJob() string {
	par := o.Parallelism
	if par == 0 || par > o.Runs {
		par = o.Runs
	}
	grace := o.Grace
	if grace == 0 {
		grace = 120
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Sweep as a Kubernetes Indexed Job: pod i runs run i of the suite.\n")
	fmt.Fprintf(&b, "# Written by \"bench k8s\". Finished runs are skipped at once, partial\n")
	fmt.Fprintf(&b, "# ones resume from their checkpoint in the volume.\n")
	fmt.Fprintf(&b, "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: %s\n", yq(o.Name))
	if o.Namespace != "" {
		fmt.Fprintf(&b, "  namespace: %s\n", yq(o.Namespace))
	}
	fmt.Fprintf(&b, "  labels:\n    app.kubernetes.io/name: spad-bench\n")
	fmt.Fprintf(&b, "spec:\n  completionMode: Indexed\n  completions: %d\n  parallelism: %d\n", o.Runs, par)
	fmt.Fprintf(&b, "  backoffLimitPerIndex: %d\n", o.Retries)
	fmt.Fprintf(&b, "  podFailurePolicy:\n    rules:\n    - action: Ignore\n      onPodConditions:\n      - type: DisruptionTarget\n")
	fmt.Fprintf(&b, "  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: spad-bench\n")
	fmt.Fprintf(&b, "    spec:\n      restartPolicy: Never\n      terminationGracePeriodSeconds: %d\n", grace)
	fmt.Fprintf(&b, "      containers:\n      - name: run\n        image: %s\n", yq(o.Image))
	args := append([]string{o.Bench, "run"}, o.RunArgs...)
	args = append(args, "--index", "$(JOB_COMPLETION_INDEX)", "--out", o.Dir, "--threads", strconv.Itoa(o.CPUs))
	fmt.Fprintf(&b, "        command:\n")
	for _, a := range args {
		fmt.Fprintf(&b, "        - %s\n", yq(a))
	}
	fmt.Fprintf(&b, "        env:\n        - name: JOB_COMPLETION_INDEX\n          valueFrom:\n            fieldRef:\n")
	fmt.Fprintf(&b, "              fieldPath: %s\n", yq("metadata.annotations['batch.kubernetes.io/job-completion-index']"))
	fmt.Fprintf(&b, "        resources:\n          requests:\n            cpu: %s\n", yq(strconv.Itoa(o.CPUs)))
	if o.Mem != "" {
		fmt.Fprintf(&b, "            memory: %s\n", yq(o.Mem))
	}
	fmt.Fprintf(&b, "          limits:\n            cpu: %s\n", yq(strconv.Itoa(o.CPUs)))
	if o.Mem != "" {
		fmt.Fprintf(&b, "            memory: %s\n", yq(o.Mem))
	}
	fmt.Fprintf(&b, "        volumeMounts:\n        - name: sweep\n          mountPath: %s\n", yq(o.Mount))
	fmt.Fprintf(&b, "      volumes:\n      - name: sweep\n        persistentVolumeClaim:\n          claimName: %s\n", yq(o.Claim))
	return b.String()
}
