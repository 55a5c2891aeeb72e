// Threads inside the time step: one OpenMP team per layer call, kept alive
// across all steps, with a barrier between the phases of a step (no thread is
// started per step).
//
// The team takes whole batch rows per thread where it pays (no barrier at all:
// rows recur independently), else, without layer norm, hidden units (each thread
// its units' GEMM columns and gate math, one barrier per step); see lstm_team.
// Layer norm needs whole rows; split by columns, each phase cuts its work into
// parts that do not overlap:
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
#include <cstdlib>
#include <cstring>

#include "gemm.h"

namespace lstmkit_cpu {

// ceil(n / d): how many blocks of d cover n.
inline int64_t ceil_div(int64_t n, int64_t d) { return (n + d - 1) / d; }

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

// The split by hidden units (any LSTM variant without layer norm, whose
// statistics need whole rows), where whole rows per thread do not pay: thread (ri, ui) of a pr x pu team owns the batch
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
  const int64_t pu = std::max<int64_t>(1, std::min<int64_t>(nt, ceil_div(units, lanes)));
  return {pu, std::max<int64_t>(1, std::min<int64_t>(nt / pu, rows))};
}
// Whole batch rows per thread (Layout{1, nt}): the rows of a batch run their
// recurrences independently, so such a team needs no barrier at all, but each
// thread reads every recurrent weight at every step; split by units (or, with
// layer norm, by columns), each thread reads only its slice. Whole rows are
// chosen when each thread keeps at least kOwnRowsMin rows and either all the
// weights fit in kOwnRowsBytes (half a core's L2 cache here) or not even one
// thread's slice does (then the split saves no memory traffic, only adds
// barriers). benchmarks/kernels_split.py, 2 threads on the 2-core VM
// (docs/performance.md): whole rows won at (100, 32, 128, 128) (256 KiB of W_hh),
// lost at (200, 16, 256, 256) (1 MiB; slices of 512 KiB), and tied (layer norm:
// won) at (100, 64, 512, 512) (4 MiB; slices of 2 MiB).
constexpr int64_t kOwnRowsBytes = int64_t(512) << 10;
constexpr int64_t kOwnRowsMin = 2;
inline Layout step_layout(int nt, int64_t units, int64_t lanes, int64_t rows, bool own_rows) {
  if (own_rows) return {1, std::max<int64_t>(1, std::min<int64_t>(nt, rows))};
  return unit_layout(nt, units, lanes, rows);
}
inline Range unit_range(int64_t n, int64_t lanes, int64_t parts, int64_t i) {
  const Range b = share(ceil_div(n, lanes), parts, i);
  return {std::min(n, b.lo * lanes), std::min(n, b.hi * lanes)};
}

// What thread tid of a team of nth owns under the layout (whole rows, or units):
// its row-block index ri, its rows, and its units of the H-unit vectors (us) and of
// the H_out-unit state (vs); sync: whether its steps need barriers. A thread beyond
// the layout (a team larger than asked) owns nothing and only meets the barriers.
struct Part {
  Layout lay;
  bool sync;
  int64_t ri;
  Range rows, us, vs;
};
inline Part thread_part(int64_t tid, int64_t nth, int64_t rows, int64_t units, int64_t units_out, int64_t lanes,
                        bool own_rows) {
  const Layout lay = step_layout(static_cast<int>(nth), units, lanes, rows, own_rows);
  const bool sync = nth > 1 && lay.pu > 1;  // with whole rows no thread reads another's data
  if (tid >= lay.pu * lay.pr) return {lay, sync, 0, {0, 0}, {0, 0}, {0, 0}};
  const int64_t ui = tid % lay.pu, ri = tid / lay.pu;
  return {lay, sync, ri, share(rows, lay.pr, ri), unit_range(units, lanes, lay.pu, ui),
          unit_range(units_out, lanes, lay.pu, ui)};
}

// The in-step team of one LSTM layer call: `threads` to start, whether each
// thread takes whole rows, and how many steps' inputs each thread projects at a
// time (proj_steps; 0: one projection of all steps before the loop). A thread
// projects its own rows (and units) at the top of every proj_steps-th step, so
// the pre-activations are still in its cache when the steps read them, and
// W_ih is read once per kProjRows rows (proj_steps = kProjRows / its rows, at
// most kProjMaxSteps). Not with layer norm split by columns (a thread's step
// reads pre-activations that other threads' columns made).
// weight_bytes: the recurrent weights a step reads (W_hh, and W_hr when projected).
// whole_rows: layer norm (its statistics need whole rows; no split by units).
struct Team {
  int threads;
  bool own_rows;
  int64_t proj_steps;
};
constexpr int64_t kProjRows = 64;
constexpr int64_t kProjMaxSteps = 16;
// LSTMKIT_CPU_SPLIT=rows or =units forces the split (benchmarks/kernels_split.py
// times both; rows still needs a row per thread, and layer norm's other split is
// by columns); unset or anything else: the rule above. Read at every call.
inline int forced_split() {
  const char* v = std::getenv("LSTMKIT_CPU_SPLIT");
  if (v == nullptr) return 0;
  if (std::strcmp(v, "rows") == 0) return 1;
  if (std::strcmp(v, "units") == 0) return 2;
  return 0;
}

inline Team lstm_team(int64_t rows, int64_t gate_cols, int64_t hidden_out, int64_t units, int64_t lanes,
                      int64_t weight_bytes, bool whole_rows) {
  const int nt = team_size(rows * gate_cols * hidden_out, whole_rows ? rows : rows * ceil_div(units, lanes));
  const int forced = forced_split();
  const bool own = nt > 1 && (forced == 1   ? rows >= nt
                              : forced == 2 ? false
                                            : rows >= kOwnRowsMin * nt &&
                                                  (weight_bytes <= kOwnRowsBytes || weight_bytes / nt > kOwnRowsBytes));
  const Layout lay = whole_rows ? Layout{1, own ? nt : 1} : step_layout(nt, units, lanes, rows, own);
  const int64_t mine = std::max<int64_t>(1, ceil_div(rows, lay.pr));  // rows per thread
  const bool local = !whole_rows || own || nt == 1;
  const int64_t steps = std::min(kProjMaxSteps, std::max<int64_t>(1, ceil_div(kProjRows, mine)));
  return {whole_rows ? nt : static_cast<int>(lay.pu * lay.pr), own, local ? steps : 0};
}

// Column groups [g0, g1) of C (m x n) = [C +] A·B for `segs` row blocks of m rows:
// block j's A starts at a + j·sa and its C at c + j·sc (see gemm_nn for the
// operands). The column groups are those of gemm_nn_panel (NB = 4 vectors wide,
// the last group the narrower tiles and the scalar edge), so each element
// follows the same path (vector tile or scalar edge, k in chunks of kDepth, p in
// order) however the rows and columns are cut. The row blocks of a column group
// run back to back, so its slice of B stays in cache across them.
template <typename T>
inline void gemm_groups(int64_t segs, int64_t sa, int64_t sc, int64_t m, int64_t n, int64_t g0, int64_t g1, int64_t k,
                        const T* a, int64_t ars, int64_t aks, const T* b, int64_t ldb, bool accumulate, T* c,
                        int64_t ldc) {
  constexpr int64_t L = kLanes<T>, NB = kVecs * L;
  const int64_t blocks = n / NB;
  if (m == 0) return;
  for (int64_t p0 = 0; p0 < k || p0 == 0; p0 += kDepth) {
    const int64_t kc = std::min(kDepth, k - p0);
    const bool acc = accumulate || p0 > 0;
    const T* bp = b + p0 * ldb;
    for (int64_t g = g0; g < g1; ++g) {
      for (int64_t j = 0; j < segs; ++j) {
        const T* ap = a + j * sa + p0 * aks;
        T* cp = c + j * sc;
        if (g < blocks)
          column_block<T, kVecs>(m, g * NB, kc, ap, ars, aks, bp, ldb, acc, cp, ldc);
        else  // the last group: narrower tiles, then the scalar edge
          tail_columns(m, n, kc, ap, ars, aks, bp, ldb, acc, cp, ldc);
      }
    }
  }
}

// Runs body(tid, nth) on a team of `threads` (one parallel region for the whole
// layer call), or on the calling thread alone.
template <typename F>
inline void run_team(int threads, F&& body) {
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    body(omp_get_thread_num(), omp_get_num_threads());
  } else {
    body(0, 1);
  }
}

// The column groups of n columns.
template <typename T>
inline int64_t column_groups(int64_t n) {
  return ceil_div(n, kVecs * kLanes<T>);
}

// Part `part` of `parts` of C (m x n) = [C +] A·B (see gemm_nn for the operands):
// the column groups shared out first, then row ranges when there are more parts
// than groups.
template <typename T>
inline void gemm_nn_part(int64_t m, int64_t n, int64_t k, const T* a, int64_t ars, int64_t aks, const T* b,
                         int64_t ldb, bool accumulate, T* c, int64_t ldc, int64_t part, int64_t parts) {
  const int64_t groups = column_groups<T>(n);
  if (groups == 0 || m == 0) return;
  const int64_t pc = std::min(parts, groups), pr = std::max<int64_t>(1, std::min(parts / pc, m));
  const int64_t ci = part % pc, ri = part / pc;
  if (ri >= pr) return;  // more threads than pieces: this one has no GEMM work
  const Range cols = share(groups, pc, ci), rows = share(m, pr, ri);
  gemm_groups<T>(1, 0, 0, rows.hi - rows.lo, n, cols.lo, cols.hi, k, a + rows.lo * ars, ars, aks, b, ldb, accumulate,
                 c + rows.lo * ldc, ldc);
}

}  // namespace lstmkit_cpu
