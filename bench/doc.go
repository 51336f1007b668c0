// Package bench holds the benchmark suites: training steps per model and
// estimator (time, allocations, peak heap, saved bytes), and the
// memory-versus-accuracy sweeps that reproduce the paper's figures.
package bench
