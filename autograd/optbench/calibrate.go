package optbench

import (
	"fmt"
	"math"

	"github.com/spadlab/spad/autograd"
)

// BaselineRate returns the baseline's ε-success count for function f with
// initial box half-width h (centre f.Init.Center).
func BaselineRate(f FunctionSpec, h, eps float64, s Settings) (Rate, error) {
	box := f.Box()
	box.HalfWidth = h
	cfgs := []Config{{Function: f.TestFunction(), Estimator: autograd.Estimator{Kind: autograd.Baseline}, Box: box}}
	s.Progress = nil
	excess, err := Run(cfgs, s)
	if err != nil {
		return Rate{}, err
	}
	return Rates(cfgs, excess, eps)[0], nil
}

// CalibrateBox finds, for function f, the half-width of its initial box (its
// centre kept) at which the baseline's ε-success rate matches target, by
// bisection in log h on the bracket [lo, hi] assuming the rate falls as the
// box grows: rate(lo) must be ≥ target and rate(hi) ≤ target. After iters
// bisection steps it returns the evaluated half-width whose rate is closest
// to target (the last one on ties). Only the baseline is run: no other
// estimator takes part in the calibration.
func CalibrateBox(f FunctionSpec, target, eps float64, s Settings, lo, hi float64, iters int) (CalibrationRecord, error) {
	rec := CalibrationRecord{Function: f.Name, Target: target, Runs: s.Runs, Steps: s.Steps, Seed: s.Seed}
	if !(lo > 0 && hi > lo) || math.IsInf(hi, 0) {
		return rec, fmt.Errorf("optbench: calibrate %s: bad bracket [%g, %g]", f.Name, lo, hi)
	}
	best := math.Inf(1)
	try := func(h float64) (float64, error) {
		r, err := BaselineRate(f, h, eps, s)
		if err != nil {
			return 0, err
		}
		rec.Iterations++
		if d := math.Abs(r.Rate - target); d <= best {
			best, rec.HalfWidth, rec.Rate = d, h, r.Rate
		}
		return r.Rate, nil
	}
	rlo, err := try(lo)
	if err != nil {
		return rec, err
	}
	rhi, err := try(hi)
	if err != nil {
		return rec, err
	}
	if rlo < target || rhi > target {
		return rec, fmt.Errorf("optbench: calibrate %s: target %.3f not bracketed (rate %.3f at half-width %g, %.3f at %g)",
			f.Name, target, rlo, lo, rhi, hi)
	}
	for i := 0; i < iters; i++ {
		mid := math.Sqrt(lo * hi)
		r, err := try(mid)
		if err != nil {
			return rec, err
		}
		if r > target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return rec, nil
}

// CalibrateProtocol returns p with the initial box of every function
// calibrated on the baseline cell of the paper's Table table (1: ε = 0.05,
// using p.SuccessEps[table-1]) with p's runs, steps, seed and Adam: the
// half-width is bisected (iters steps) on [h/30, 10h], h being p's current
// half-width. A function whose paper baseline is 0 % keeps its box if the
// baseline never succeeds there (any box missing the minimum's basin does,
// so a bisection towards 0 % has no unique answer); otherwise it is an
// error. The records of the calibration are stored in the result, and its
// name is set to name.
func CalibrateProtocol(p Protocol, name string, table, iters, workers int, log func(CalibrationRecord)) (Protocol, error) {
	if table < 1 || table > len(p.SuccessEps) || table > 2 {
		return p, fmt.Errorf("optbench: calibrate: no Table %d", table)
	}
	eps := p.SuccessEps[table-1]
	s := p.Settings()
	s.Workers = workers
	out := p
	out.Name = name
	out.Functions = append([]FunctionSpec(nil), p.Functions...)
	out.Calibration = nil
	for i, f := range out.Functions {
		target, ok := PaperCell(table, f.Name, "baseline")
		if !ok {
			return p, fmt.Errorf("optbench: calibrate: the paper has no baseline cell for %s", f.Name)
		}
		h := f.Init.HalfWidth
		var rec CalibrationRecord
		if target == 0 {
			r, err := BaselineRate(f, h, eps, s)
			if err != nil {
				return p, err
			}
			if r.Successes != 0 {
				return p, fmt.Errorf("optbench: calibrate %s: paper baseline 0 %% but %d/%d successes at half-width %g",
					f.Name, r.Successes, r.Runs, h)
			}
			rec = CalibrationRecord{Function: f.Name, Target: 0, Rate: 0, HalfWidth: h, Iterations: 1,
				Runs: s.Runs, Steps: s.Steps, Seed: s.Seed}
		} else {
			var err error
			rec, err = CalibrateBox(f, target, eps, s, h/30, 10*h, iters)
			if err != nil {
				return p, err
			}
		}
		out.Functions[i].Init.HalfWidth = rec.HalfWidth
		out.Calibration = append(out.Calibration, rec)
		if log != nil {
			log(rec)
		}
	}
	return out, out.Validate()
}
