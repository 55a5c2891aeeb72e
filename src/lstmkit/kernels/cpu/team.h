// Threads inside the time step: one OpenMP team per layer call, kept alive
// across all steps, with a barrier between the phases of a step (no thread is
// started per step).
//
// Every variant without layer norm splits the step by hidden units (unit_layout
// below): each thread runs its own units' GEMM columns and gate math, one
// barrier per step. Layer norm needs whole rows; there each phase splits its
// work into parts that do not overlap:
//   - the per-step GEMMs by column groups (NB = 4 vectors wide, the last group
//     the narrower tiles and the scalar edge) and, when there are more threads
//     than groups, by row ranges as well (gemm_nn_part);
//   - the pointwise gate math by batch rows (whole rows, so each row runs the
//     very code the 1-thread path runs).
// Every output element is computed by the same instructions in the same order
// whatever the number of threads and whichever thread computes it, so results
// are bitwise independent of the thread count.
#pragma once

#include <ATen/Parallel.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "gemm.h"

namespace lstmkit_cpu {

// [lo, hi) of part i when [0, n) is cut into `parts` near-equal contiguous ranges.
struct Range {
  int64_t lo, hi;
};
inline Range share(int64_t n, int64_t parts, int64_t i) {
  const int64_t base = n / parts, extra = n % parts;
  const int64_t lo = i * base + std::min(i, extra);
  return {lo, lo + base + (i < extra ? 1 : 0)};
}

// Multiply-adds per step below which one more thread does not pay for its
// barriers (about 2 µs of work per thread and step).
constexpr int64_t kTeamWork = int64_t(1) << 16;

// Threads for a layer call whose per-step GEMM does `work` multiply-adds in
// `parts` pieces at most (batch rows, times unit blocks where the split by units
// is possible): torch's thread count (torch.set_num_threads), at most one per
// kTeamWork and one per piece; 1 when called from inside a parallel region.
inline int team_size(int64_t work, int64_t parts) {
  if (at::in_parallel_region() || omp_in_parallel()) return 1;
  const int64_t want = std::min<int64_t>({static_cast<int64_t>(at::get_num_threads()), work / kTeamWork, parts});
  return static_cast<int>(std::max<int64_t>(1, want));
}

// The split by hidden units, used by every LSTM variant without layer norm (whose
// statistics need whole rows): thread (ri, ui) of a pr x pu team owns the batch
// rows share(B, pr, ri) and, of every n-unit vector (the gates' H, the state's
// H_out), the units of the whole vectors share(ceil(n / lanes), pu, ui). Its part of
// a step needs only its own pre-activations, cell and state: one barrier per step
// (before the next step's GEMM reads the whole state), and nothing crosses cores
// but that state. Block edges fall on whole vectors, so every unit runs in the same
// part of a vectorised loop (body or tail) as on one thread.
struct Layout {
  int64_t pu, pr;  // unit blocks, row blocks
};
inline Layout unit_layout(int nt, int64_t units, int64_t lanes, int64_t rows) {
  const int64_t blocks = (units + lanes - 1) / lanes;
  const int64_t pu = std::max<int64_t>(1, std::min<int64_t>(nt, blocks));
  return {pu, std::max<int64_t>(1, std::min<int64_t>(nt / pu, rows))};
}
// Whole batch rows per thread (Layout{1, nt}): the rows of a batch run their
// recurrences independently, so such a team needs no barrier at all (each thread
// reads every weight at every step). Chosen whenever each thread keeps at least
// kOwnRowsMin rows: on the 2-core VM it beat the split by units at both benchmark
// shapes, training and inference (docs/performance.md); else the split by units.
constexpr int64_t kOwnRowsMin = 2;
inline Layout step_layout(int nt, int64_t units, int64_t lanes, int64_t rows, bool own_rows) {
  if (own_rows) return {1, std::max<int64_t>(1, std::min<int64_t>(nt, rows))};
  return unit_layout(nt, units, lanes, rows);
}
inline Range unit_range(int64_t n, int64_t lanes, int64_t parts, int64_t i) {
  const Range b = share((n + lanes - 1) / lanes, parts, i);
  return {std::min(n, b.lo * lanes), std::min(n, b.hi * lanes)};
}

// The in-step team of one LSTM layer call: `threads` to start, whether each
// thread takes whole rows, and whether each step projects its own inputs
// (bias + x_t W_ihᵀ at the top of the step, in cache, instead of one GEMM over all
// steps before the loop). That pays when W_ih and W_hh fit a core's L2 cache with
// room to spare (kStepProjBytes) or when a thread has at least kStepProjRows rows
// to amortise streaming them per step (measured: 1 thread 0.91x the time at
// (200, 16, 256, 256), but 1.10x at 2 threads, 8 rows each).
// whole_rows: layer norm (its statistics need whole rows; no split by units, the
// step's inputs projected before the loop).
struct Team {
  int threads;
  bool own_rows;
  bool step_proj;
};
constexpr int64_t kStepProjBytes = int64_t(512) << 10;
constexpr int64_t kStepProjRows = 16;
inline Team lstm_team(int64_t rows, int64_t gate_cols, int64_t hidden_out, int64_t units, int64_t lanes,
                      int64_t step_weights, int64_t elem_bytes, bool whole_rows) {
  const int64_t blocks = (units + lanes - 1) / lanes;
  const int nt = team_size(rows * gate_cols * hidden_out, whole_rows ? rows : rows * blocks);
  const bool own = nt > 1 && rows >= kOwnRowsMin * nt;
  const Layout lay = whole_rows ? Layout{1, nt} : step_layout(nt, units, lanes, rows, own);
  const bool step_proj = !whole_rows && (step_weights * elem_bytes <= kStepProjBytes || rows / lay.pr >= kStepProjRows);
  return {whole_rows ? nt : static_cast<int>(lay.pu * lay.pr), own, step_proj};
}

// Part `part` of `parts` of C (m x n) = [C +] A·B (see gemm_nn for the operands).
// The column groups are those of gemm_nn_panel, so each element follows the
// same path (vector tile or scalar edge, k in chunks of kDepth, p in order).
template <typename T>
inline void gemm_nn_part(int64_t m, int64_t n, int64_t k, const T* a, int64_t ars, int64_t aks, const T* b,
                         int64_t ldb, bool accumulate, T* c, int64_t ldc, int64_t part, int64_t parts) {
  constexpr int64_t L = kLanes<T>, NB = kVecs * L;
  const int64_t blocks = n / NB, groups = blocks + (n % NB != 0 ? 1 : 0);
  if (groups == 0 || m == 0) return;
  const int64_t pc = std::min(parts, groups), pr = std::max<int64_t>(1, std::min(parts / pc, m));
  const int64_t ci = part % pc, ri = part / pc;
  if (ri >= pr) return;  // more threads than pieces: this one has no GEMM work
  const Range cols = share(groups, pc, ci), rows = share(m, pr, ri);
  const int64_t mr = rows.hi - rows.lo;
  if (mr == 0) return;
  for (int64_t p0 = 0; p0 < k || p0 == 0; p0 += kDepth) {
    const int64_t kc = std::min(kDepth, k - p0);
    const bool acc = accumulate || p0 > 0;
    const T* ap = a + rows.lo * ars + p0 * aks;
    const T* bp = b + p0 * ldb;
    T* cp = c + rows.lo * ldc;
    for (int64_t g = cols.lo; g < cols.hi; ++g) {
      if (g < blocks) {
        column_block<T, kVecs>(mr, g * NB, kc, ap, ars, aks, bp, ldb, acc, cp, ldc);
        continue;
      }
      int64_t j = blocks * NB;  // the last group: narrower tiles, then the scalar edge
      switch ((n - j) / L) {
        case 3: column_block<T, 3>(mr, j, kc, ap, ars, aks, bp, ldb, acc, cp, ldc); break;
        case 2: column_block<T, 2>(mr, j, kc, ap, ars, aks, bp, ldb, acc, cp, ldc); break;
        case 1: column_block<T, 1>(mr, j, kc, ap, ars, aks, bp, ldb, acc, cp, ldc); break;
        default: break;
      }
      j += (n - j) / L * L;
      if (j < n) edge_columns(mr, j, n, kc, ap, ars, aks, bp, ldb, cp, ldc, acc);
    }
  }
}

}  // namespace lstmkit_cpu
