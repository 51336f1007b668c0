package bench

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Unfinished returns the indices, in jobs, of the runs not finished at
// their horizon in the sweep directory dir (see LoadLines): the tasks an
// array job still has to run. A run recorded there with another
// configuration is an error, found before anything is submitted.
func Unfinished(dir string, jobs []Job) ([]int, error) {
	lines, _, err := LoadLines(dir)
	if err != nil && !isNoRuns(err) {
		return nil, err
	}
	last := map[string]Line{}
	for _, l := range lines {
		last[l.ID] = l
	}
	var todo []int
	for i, j := range jobs {
		l, ok := last[j.ID]
		switch {
		case !ok:
			todo = append(todo, i)
		case l.Hash == ConfigHash(j.Config):
		case l.BaseHash != "" && l.BaseHash == BaseHash(j.Config) && l.Record.Iters < j.Config.Iters && j.Config.LRDecayEvery > 0:
			todo = append(todo, i) // to be extended to the longer horizon
		default:
			return nil, fmt.Errorf("%s already holds run %s with another configuration or a horizon it cannot be continued to; use another output directory", dir, j.ID)
		}
	}
	return todo, nil
}

// ArrayRanges writes indices as a Slurm --array list: ascending, runs of
// consecutive indices as ranges ("0-3,5,7-9").
func ArrayRanges(indices []int) string {
	idx := append([]int(nil), indices...)
	sort.Ints(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] <= idx[j]+1 {
			j++
		}
		if idx[j] == idx[i] {
			parts = append(parts, strconv.Itoa(idx[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// SlurmOptions describe the Slurm jobs of a sweep: one array task per
// unfinished run, and a report job after them.
type SlurmOptions struct {
	Bench   string   // absolute path of this program, readable on the compute nodes
	Dir     string   // absolute sweep directory, on a file system the nodes share
	RunArgs []string // arguments that select the suite for "bench run" (--suite or --suite-file, --quick, --iters …)
	Label   string   // the suite's label (job names)
	Indices []int    // the runs to do (Unfinished)

	Partition, Account string
	Time               string // per task, HH:MM:SS or D-HH:MM:SS ("" : the partition's default)
	Mem                string // per task, e.g. 4G ("" : the partition's default)
	CPUs               int    // cores per task, also the run's kernel threads
	MaxParallel        int    // tasks running at once (0: no limit)
	// Grace is how many seconds before the time limit a task is told to
	// checkpoint and requeue itself (0: 300).
	Grace int
}

var slurmTime = regexp.MustCompile(`^(?:(\d+)-)?(\d{1,3}):(\d{2}):(\d{2})$|^(\d+)$`)

// timeSeconds reads a time limit in one of the forms slurmTime accepts.
func timeSeconds(t string) (int, bool) {
	m := slurmTime.FindStringSubmatch(t)
	if m == nil {
		return 0, false
	}
	if m[5] != "" {
		n, err := strconv.Atoi(m[5])
		return 60 * n, err == nil
	}
	v := [4]int{}
	for i, f := range m[1:5] {
		if f != "" {
			n, err := strconv.Atoi(f)
			if err != nil {
				return 0, false
			}
			v[i] = n
		}
	}
	return ((v[0]*24+v[1])*60+v[2])*60 + v[3], true
}

// Validate checks the options a user gives.
func (o SlurmOptions) Validate() error {
	grace := o.Grace
	if grace == 0 {
		grace = 300
	}
	switch {
	case o.CPUs < 1:
		return fmt.Errorf("--cpus must be ≥ 1, got %d", o.CPUs)
	case o.MaxParallel < 0:
		return fmt.Errorf("--max-parallel must be ≥ 0, got %d", o.MaxParallel)
	case o.Grace < 0:
		return fmt.Errorf("--grace must be ≥ 0, got %d", o.Grace)
	case strings.ContainsAny(o.Dir, " \t\n'\"%\\"):
		return fmt.Errorf("sweep directory %q: sbatch takes the log path as it is, so no spaces, quotes, '%%' or '\\'", o.Dir)
	}
	if o.Time != "" {
		sec, ok := timeSeconds(o.Time)
		switch {
		case !ok:
			return fmt.Errorf("--time %q: want HH:MM:SS, D-HH:MM:SS or minutes", o.Time)
		case sec < 2*grace:
			return fmt.Errorf("--time %s is less than twice --grace %d s: a task would be told to checkpoint and requeue itself before doing much", o.Time, grace)
		}
	}
	for _, s := range []string{o.Partition, o.Account, o.Mem} {
		if strings.ContainsAny(s, " \t\n'\"$`\\") {
			return fmt.Errorf("%q: Slurm names and sizes have no spaces, quotes or '$'", s)
		}
	}
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func (o SlurmOptions) common(b *strings.Builder) {
	if o.Partition != "" {
		fmt.Fprintf(b, "#SBATCH --partition=%s\n", o.Partition)
	}
	if o.Account != "" {
		fmt.Fprintf(b, "#SBATCH --account=%s\n", o.Account)
	}
}

// ArrayScript is the sbatch script of the array job: task i runs run i
// of the suite ("bench run --index i"), resuming from its checkpoint when
// it has one. A task is requeued when it is preempted or its node fails
// (--requeue; the scheduler's SIGTERM makes the run finish its step and
// write its checkpoint), and, near its time limit, it checkpoints and
// requeues itself (--signal=B:USR1), so runs longer than the partition's
// limit finish over several allocations.
func (o SlurmOptions) ArrayScript() string {
	grace := o.Grace
	if grace == 0 {
		grace = 300
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# Sweep %s as a Slurm job array: task i is run i of the suite\n", o.Label)
	fmt.Fprintf(&b, "# (\"bench list\" prints the table). Written by \"bench slurm\"; submit with\n")
	fmt.Fprintf(&b, "# sbatch, then the report job with --dependency=afterany:<this job's id>.\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=spad-%s\n", o.Label)
	array := ArrayRanges(o.Indices)
	if o.MaxParallel > 0 {
		array += "%" + strconv.Itoa(o.MaxParallel)
	}
	fmt.Fprintf(&b, "#SBATCH --array=%s\n", array)
	fmt.Fprintf(&b, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n", o.CPUs)
	if o.Time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", o.Time)
	}
	if o.Mem != "" {
		fmt.Fprintf(&b, "#SBATCH --mem=%s\n", o.Mem)
	}
	o.common(&b)
	fmt.Fprintf(&b, "#SBATCH --requeue\n#SBATCH --open-mode=append\n")
	fmt.Fprintf(&b, "#SBATCH --signal=B:USR1@%d\n", grace)
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", o.Dir+"/logs/slurm-%A_%a.out")
	fmt.Fprintf(&b, `set -u
bench=%s
dir=%s
idx=${SLURM_ARRAY_TASK_ID:?this script is a Slurm array job: submit it with sbatch}
echo "== run index $idx: job ${SLURM_JOB_ID:-?}, restart ${SLURM_RESTART_COUNT:-0}, on $(hostname), $(date -u +%%FT%%TZ)"
"$bench" run %s --index "$idx" --out "$dir" --threads %d &
child=$!
near_limit=0
trapped=0
# Near the time limit (USR1) or when cancelled, preempted or requeued
# (TERM): the run finishes its step and writes its checkpoint.
trap 'trapped=1; near_limit=1; kill -TERM "$child" 2>/dev/null' USR1
trap 'trapped=1; kill -TERM "$child" 2>/dev/null' TERM INT
rc=0
while :; do
	trapped=0
	wait "$child"; r=$?
	[ "$r" != 127 ] && rc=$r
	[ "$trapped" = 1 ] || break
done
if [ "$rc" != 0 ] && [ "$near_limit" = 1 ]; then
	echo "== run index $idx checkpointed before the time limit: requeueing job ${SLURM_JOB_ID}"
	scontrol requeue "${SLURM_JOB_ID}"
fi
exit "$rc"
`, shellQuote(o.Bench), shellQuote(o.Dir), shellJoin(o.RunArgs), o.CPUs)
	return b.String()
}

// ReportScript is the sbatch script of the job that writes the report
// once the array has ended (submitted with --dependency=afterany:<array>,
// so that it runs whatever the tasks' outcome and reports what finished).
func (o SlurmOptions) ReportScript() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# Report of sweep %s, after its array job. Written by \"bench slurm\".\n", o.Label)
	fmt.Fprintf(&b, "#SBATCH --job-name=spad-%s-report\n", o.Label)
	fmt.Fprintf(&b, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n#SBATCH --time=00:30:00\n")
	o.common(&b)
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", o.Dir+"/logs/slurm-report-%j.out")
	fmt.Fprintf(&b, "set -u\nbench=%s\ndir=%s\n", shellQuote(o.Bench), shellQuote(o.Dir))
	fmt.Fprintf(&b, "\"$bench\" status --in \"$dir\"\nexec \"$bench\" report --in \"$dir\"\n")
	return b.String()
}

// ParseJobID reads the job id that "sbatch --parsable" prints ("id" or
// "id;cluster").
func ParseJobID(out string) (string, error) {
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("sbatch printed %q, not a job id", strings.TrimSpace(out))
	}
	return id, nil
}
