// Row-major GEMM on raw pointers, without per-call tensor allocation or
// operator dispatch: C (m x n, ldc) = beta * C + A (m x k, lda) * op(W), where
// op(W) = Wᵀ for W (n x k, ldw) when trans_w, else W (k x n, ldw).
//
// It calls the BLAS that torch itself links (the Fortran sgemm_ / dgemm_
// symbols, found once with dlsym); if the process has none, a plain loop
// computes the same product (slower, same results up to rounding).
#pragma once

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <cstdint>
#include <cstring>

namespace lstmkit_cpu {

using sgemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                          const int*, const float*, const int*, const float*, float*, const int*);
using dgemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const double*,
                          const double*, const int*, const double*, const int*, const double*, double*, const int*);

inline sgemm_fn blas_sgemm() {
  static const sgemm_fn fn = reinterpret_cast<sgemm_fn>(dlsym(RTLD_DEFAULT, "sgemm_"));
  return fn;
}

inline dgemm_fn blas_dgemm() {
  static const dgemm_fn fn = reinterpret_cast<dgemm_fn>(dlsym(RTLD_DEFAULT, "dgemm_"));
  return fn;
}

template <typename T>
inline void gemm_loop(bool trans_w, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* w,
                      int64_t ldw, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    T* __restrict ci = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) ci[j] = beta == T(0) ? T(0) : beta * ci[j];
    for (int64_t p = 0; p < k; ++p) {
      const T av = a[i * lda + p];
      if (trans_w) {
        for (int64_t j = 0; j < n; ++j) ci[j] += av * w[j * ldw + p];
      } else {
        const T* __restrict wp = w + p * ldw;
        for (int64_t j = 0; j < n; ++j) ci[j] += av * wp[j];
      }
    }
  }
}

// Row-major C = A·op(W) seen column-major is Cᵀ = op(W)ᵀ·Aᵀ: BLAS gets (W, A) swapped.
template <typename T>
inline void gemm(bool trans_w, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* w, int64_t ldw,
                 T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  const char ta = trans_w ? 'T' : 'N', tb = 'N';
  const int M = static_cast<int>(n), N = static_cast<int>(m), K = static_cast<int>(k);
  const int LDA = static_cast<int>(ldw), LDB = static_cast<int>(lda), LDC = static_cast<int>(ldc);
  const T one = T(1);
  if constexpr (sizeof(T) == sizeof(float)) {
    if (sgemm_fn fn = blas_sgemm()) {
      fn(&ta, &tb, &M, &N, &K, &one, w, &LDA, a, &LDB, &beta, c, &LDC);
      return;
    }
  } else {
    if (dgemm_fn fn = blas_dgemm()) {
      fn(&ta, &tb, &M, &N, &K, &one, w, &LDA, a, &LDB, &beta, c, &LDC);
      return;
    }
  }
  gemm_loop(trans_w, m, n, k, a, lda, w, ldw, beta, c, ldc);
}

// ---------------------------------------------------------------------------
// Register-blocked GEMM for the per-step products: C (m x n) = beta * C + A·B,
// A element (i, p) at a[i * ars + p * aks] (so Aᵀ needs no copy), B (k x n)
// row-major. Each micro-kernel keeps a 4 x (4 vectors) block of C in
// registers and streams B by rows (outer products), so the summation order of
// every element is fixed: results are bitwise reproducible and independent of
// the thread count. It avoids the BLAS call overhead and, on CPUs where the
// linked BLAS takes a slow generic path, is faster at these shapes.

template <typename T>
struct VecOf {
  typedef T type __attribute__((vector_size(64)));
};
template <typename T>
using Vec = typename VecOf<T>::type;
template <typename T>
constexpr int64_t kLanes = 64 / static_cast<int64_t>(sizeof(T));
constexpr int kVecs = 4;  // vectors per micro-tile row
constexpr int kRows = 6;  // rows per micro-tile (6 x 4 accumulators + 4 B vectors fit 32 registers)
constexpr int64_t kPackSteps = 4;  // from this many steps on, forward packs transposed weights
constexpr int64_t kPackRows = 16;  // the same for the input projection, in rows T·B

template <typename T, int MR, int NV = kVecs>
inline void micro_tile(int64_t k, const T* a, int64_t ars, int64_t aks, const T* b, int64_t ldb, T* c, int64_t ldc,
                       bool accumulate) {
  constexpr int64_t L = kLanes<T>;
  Vec<T> acc[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int q = 0; q < NV; ++q) {
      if (accumulate)
        std::memcpy(&acc[r][q], c + r * ldc + q * L, sizeof(Vec<T>));
      else
        acc[r][q] = Vec<T>{};
    }
  for (int64_t p = 0; p < k; ++p) {
    const T* bp = b + p * ldb;
    Vec<T> bv[NV];
    for (int q = 0; q < NV; ++q) std::memcpy(&bv[q], bp + q * L, sizeof(Vec<T>));
    for (int r = 0; r < MR; ++r) {
      const Vec<T> av = Vec<T>{} + a[r * ars + p * aks];
      for (int q = 0; q < NV; ++q) acc[r][q] += av * bv[q];
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int q = 0; q < NV; ++q) std::memcpy(c + r * ldc + q * L, &acc[r][q], sizeof(Vec<T>));
}

// Columns left over after the vector tiles (fewer than one vector): per row,
// the same order of summation over p, vectorised across the columns.
template <typename T>
inline void edge_columns(int64_t m, int64_t j0, int64_t n, int64_t k, const T* a, int64_t ars, int64_t aks,
                         const T* b, int64_t ldb, T* c, int64_t ldc, bool accumulate) {
  for (int64_t i = 0; i < m; ++i) {
    T* __restrict ci = c + i * ldc;
    if (!accumulate)
      for (int64_t j = j0; j < n; ++j) ci[j] = T(0);
    for (int64_t p = 0; p < k; ++p) {
      const T av = a[i * ars + p * aks];
      const T* __restrict bp = b + p * ldb;
      for (int64_t j = j0; j < n; ++j) ci[j] += av * bp[j];
    }
  }
}

// All row tiles of one column block of NV vectors: ceil(m / kRows) tiles of
// near-equal height (32 rows: 6, 6, 5, 5, 5, 5 rather than 6 x 5 and a tile of 2,
// whose few rows leave the FMA units waiting on the loads of B).
template <typename T, int NV>
inline void column_block(int64_t m, int64_t j, int64_t k, const T* a, int64_t ars, int64_t aks, const T* b,
                         int64_t ldb, bool accumulate, T* c, int64_t ldc) {
  const int64_t tiles = (m + kRows - 1) / kRows;
  if (tiles == 0) return;
  const int64_t base = m / tiles, extra = m % tiles;  // the first `extra` tiles take one row more
  int64_t i = 0;
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t rows = base + (t < extra ? 1 : 0);
    const T* ai = a + i * ars;
    T* ci = c + i * ldc + j;
    switch (rows) {
      case 6: micro_tile<T, 6, NV>(k, ai, ars, aks, b + j, ldb, ci, ldc, accumulate); break;
      case 5: micro_tile<T, 5, NV>(k, ai, ars, aks, b + j, ldb, ci, ldc, accumulate); break;
      case 4: micro_tile<T, 4, NV>(k, ai, ars, aks, b + j, ldb, ci, ldc, accumulate); break;
      case 3: micro_tile<T, 3, NV>(k, ai, ars, aks, b + j, ldb, ci, ldc, accumulate); break;
      case 2: micro_tile<T, 2, NV>(k, ai, ars, aks, b + j, ldb, ci, ldc, accumulate); break;
      case 1: micro_tile<T, 1, NV>(k, ai, ars, aks, b + j, ldb, ci, ldc, accumulate); break;
      default: break;
    }
    i += rows;
  }
}

// The columns from the last whole block of NB (kVecs vectors) on: one narrower
// tile for the remaining whole vectors, then the scalar edge.
template <typename T>
inline void tail_columns(int64_t m, int64_t n, int64_t k, const T* a, int64_t ars, int64_t aks, const T* b,
                         int64_t ldb, bool accumulate, T* c, int64_t ldc) {
  constexpr int64_t L = kLanes<T>, NB = kVecs * L;
  int64_t j = n / NB * NB;
  switch ((n - j) / L) {
    case 3: column_block<T, 3>(m, j, k, a, ars, aks, b, ldb, accumulate, c, ldc); break;
    case 2: column_block<T, 2>(m, j, k, a, ars, aks, b, ldb, accumulate, c, ldc); break;
    case 1: column_block<T, 1>(m, j, k, a, ars, aks, b, ldb, accumulate, c, ldc); break;
    default: break;
  }
  j += (n - j) / L * L;
  if (j < n) edge_columns(m, j, n, k, a, ars, aks, b, ldb, c, ldc, accumulate);
}

template <typename T>
inline void gemm_nn_panel(int64_t m, int64_t n, int64_t k, const T* a, int64_t ars, int64_t aks, const T* b,
                          int64_t ldb, bool accumulate, T* c, int64_t ldc) {
  constexpr int64_t L = kLanes<T>, NB = kVecs * L;
  const int64_t blocks = n / NB;
  auto run = [&](int64_t first, int64_t last) {
    for (int64_t jb = first; jb < last; ++jb) column_block<T, kVecs>(m, jb * NB, k, a, ars, aks, b, ldb, accumulate, c, ldc);
  };
  // split the column blocks across threads only when there is enough work
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 21) / std::max<int64_t>(1, m * k * NB));
  if (blocks > 1 && m * n * k >= (int64_t(1) << 21))
    at::parallel_for(0, blocks, grain, run);
  else
    run(0, blocks);
  tail_columns(m, n, k, a, ars, aks, b, ldb, accumulate, c, ldc);
}

// The long dimension k in chunks of kDepth, so that a B panel (kDepth x 4 vectors)
// stays in the L2 cache while every row tile passes over it. Each element still
// sums over p = 0 .. k-1 in order (a chunk resumes from the stored partial sum).
constexpr int64_t kDepth = 256;

template <typename T>
inline void gemm_nn(int64_t m, int64_t n, int64_t k, const T* a, int64_t ars, int64_t aks, const T* b, int64_t ldb,
                    bool accumulate, T* c, int64_t ldc) {
  for (int64_t p0 = 0; p0 < k || p0 == 0; p0 += kDepth) {
    const int64_t kc = std::min(kDepth, k - p0);
    gemm_nn_panel<T>(m, n, kc, a + p0 * aks, ars, aks, b + p0 * ldb, ldb, accumulate || p0 > 0, c, ldc);
  }
}

}  // namespace lstmkit_cpu
