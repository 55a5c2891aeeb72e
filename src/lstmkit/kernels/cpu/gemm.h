// Row-major GEMM on raw pointers, without per-call tensor allocation or
// operator dispatch: C (m x n, ldc) = beta * C + A (m x k, lda) * op(W), where
// op(W) = Wᵀ for W (n x k, ldw) when trans_w, else W (k x n, ldw).
//
// It calls the BLAS that torch itself links (the Fortran sgemm_ / dgemm_
// symbols, found once with dlsym); if the process has none, a plain loop
// computes the same product (slower, same results up to rounding).
#pragma once

#include <dlfcn.h>

#include <cstdint>

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

}  // namespace lstmkit_cpu
