// Package inject implements random matrix injection for memory-lean training:
// a Dense or Conv2D layer saves a compressed copy of its input instead of the
// input itself, and rebuilds an unbiased estimate of it for the weight gradient.
//
// # Injection
//
// A Dense layer y = x·Wᵀ + b (x: rows×F, W: out×F) needs x only for the weight
// gradient dW = δᵀ·x, where δ = ∂L/∂y. With injection it saves
//
//	c = x·P          (rows×K, K = ⌈keep·F⌉ ≪ F)
//
// and in backward rebuilds x̂ = c·Pᵀ = x·P·Pᵀ. Whenever E[P·Pᵀ] = I,
//
//	E[x̂] = x·E[P·Pᵀ] = x   and   E[δᵀ·x̂] = δᵀ·x = dW,
//
// so the weight gradient is unbiased (Oktay et al., "Randomized Automatic
// Differentiation", 2020). The input gradient dX = δ·W does not need x and
// stays exact. For Conv2D the same is done per (sample, channel) map: the rows
// are the n·C maps and F = H·W positions.
//
// Three families of P are provided (type Kind):
//
//   - Project: P is F×K with independent Rademacher entries ±1/√K. Then
//     E[(P·Pᵀ)ᵢⱼ] = Σₖ E[PᵢₖPⱼₖ] = K·(1/K)·δᵢⱼ, i.e. E[P·Pᵀ] = I. P is never
//     stored: it is regenerated from its rng.Key in backward. With K = F the
//     estimate is still only unbiased, not exact (P·Pᵀ ≠ I in general).
//   - SameSample: P = √(F/K)·S with S the F×K selection of a uniform K-subset of
//     the features, the same for every row. Saving c = x·S (the kept columns)
//     and rebuilding x̂ = (F/K)·c·Sᵀ gives E[x̂ᵢ] = (F/K)·Pr[i kept]·xᵢ =
//     (F/K)·(K/F)·xᵢ = xᵢ. With K = F the reconstruction is exact.
//   - DiffSample: as SameSample but with an independent subset for every row.
//     The subset of a row depends only on the key and the row's global index,
//     so a batch compressed in chunks (rowOffset) gives the same draw as the
//     whole batch at once.
//
// Projector.WeightGrad computes dW += δᵀ·x̂ in compressed space without
// materialising x̂: (δᵀ·c)·Pᵀ for Project, and a scatter-add of the scaled
// columns of δᵀ·c (SameSample) or of the scaled rank-one row terms δᵣᵀ·cᵣ
// (DiffSample) for the sampling families.
//
// # Estimators
//
// An Estimator chooses, for every layer and every iteration t, the key of the
// P used by that layer:
//
//   - Baseline: no injection, the exact minibatch gradient.
//   - RAD: a fresh uniform P at every step, key {Seed, Stream: layer,
//     Draw: t<<8}.
//   - SPAD (Peseux et al., "Selective Path Automatic Differentiation", 2023):
//     the gradient is a sum of path contributions ∇f = Σᵢ gᵢ (paper Eq. 2).
//     Every k_max iterations m candidate paths (here: m candidate projections
//     P₁..Pₘ, drawn uniformly and independently of the data) are scored by the
//     norm of the gradient they induce, ‖gⱼ‖ = ‖δᵀ·x̂ⱼ‖, and the best one,
//     i_max, is followed for the next k_max iterations.
//
// # SPAD schedule (one-step lag)
//
// A Scheduler drives one layer. Steps t with (t+1) mod k_max = 0 are selection
// steps. At a selection step t the layer's forward also compresses the first
// ⌈B/m⌉ rows of its batch under each of the m candidate keys of the next set
// (Draw = (t+1)<<8 | j, j < m ≤ 256), so the extra memory is about one
// compressed copy; its backward scores every candidate and calls Select. The
// winner is in force for steps t+1 … t+k_max, exactly k_max steps. The set in
// force at step t therefore has Draw base ⌊t/k_max⌋·k_max << 8; the first set
// (Draw 0<<8 | j) is in force from step 0, and since no batch has scored it its
// candidate 0 is used. With m = k_max = 1 every key equals RAD's key for the
// same step (and no scoring is done, the choice being forced), so SPAD reduces
// to RAD exactly, as stated in the paper.
//
// The step's own update always uses the key in force (Scheduler.StepKey) at
// both ends: forward compresses with it and backward reconstructs with it. A
// mismatch — compressing with a fresh P′ but reconstructing with the persisted
// P — would give E[x·P′·Pᵀ] = x·E[P′]·Pᵀ = 0: the estimate would have expectation
// zero instead of dW. The one-step lag also makes the parameters θ_t at the
// first step of a block independent of the candidates of that block, since the
// update of the selection step itself used the previous key.
//
// # Variants
//
// Practical (paper Algorithm 2): the selected candidate is used with scale 1.
// This estimator is biased towards projections with a large gradient norm; the
// tests measure that bias rather than assert it away.
//
// Exact (paper Algorithm 1 with Eq. 4–6 adapted to injection): the m candidates
// of the set in force form the finite path set, and at every step an index I
// is drawn from the almost-Dirac distribution (Eq. 5 restricted to the m
// candidates)
//
//	D^ε_{i_max}(j) = (1−ε)·[j = i_max] + ε/(m−1)·[j ≠ i_max]   (p = 1 when m = 1)
//
// with a per-step key-derived draw, and the gradient of P_I is scaled by
// 1/(m·p_I) (the normalisation trick of Eq. 4 applied to the decomposition
// ∇ ≈ (1/m)·Σⱼ g_{Pⱼ}, whose terms are g_{Pⱼ}/m). Conditioned on the candidate
// set and on θ,
//
//	E_I[g] = Σⱼ pⱼ · g_{Pⱼ}/(m·pⱼ) = (1/m)·Σⱼ g_{Pⱼ},
//
// whatever i_max is (as long as every pⱼ > 0). Each Pⱼ is a uniform draw
// independent of the batch, so E[g_{Pⱼ}] = δᵀ·x and the estimator is unbiased
// for any ε > 0. The argmax only changes the variance. With ε = 0 the other
// candidates have probability zero, the estimate is g_{P_{i_max}}/m, and it is
// biased (shrunk by m and tilted towards large norms); ε = 0 is accepted for
// experiments but documented as biased. Unbiasedness holds at fixed θ; within
// a block of k_max steps θ itself depends on the earlier updates made with the
// same set, as for any persisted projection.
//
// All randomness is counter-based (package rng): a projection is regenerated
// from its key instead of stored, and a Scheduler's whole state is a few
// integers (SchedulerState) for exact checkpoint and resume.
package inject
