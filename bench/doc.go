// Package bench holds the benchmark suites: training steps per model and
// estimator (time, allocations, peak heap, saved bytes), the
// memory-versus-accuracy sweeps that reproduce the paper's figures (run
// locally, as a Slurm job array or as a Kubernetes indexed job; resumable
// mid-run), their reports, and the paired test of two finished runs' final
// networks on the same test set (PairedTest).
package bench
