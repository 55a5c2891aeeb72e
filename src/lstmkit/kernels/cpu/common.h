// Shared helpers of the fused CPU kernels (see lstmkit/kernels/spec.py for the
// equations). Everything here works on raw pointers to contiguous rows so that
// the compiler can vectorise the loops (with glibc's libmvec for exp/tanh).
#pragma once

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>

#include "gemm.h"

#include <cmath>
#include <cstring>
#include <cstdint>
#include <optional>
#include <vector>

namespace lstmkit_cpu {

using Opt = std::optional<at::Tensor>;
using OptList = std::vector<Opt>;
constexpr double kLnEps = 1e-5;

inline bool has(const Opt& t) { return t.has_value() && t->defined(); }

// The parameter list of one direction, in the order the Python side passes it.
enum Param { W_IH = 0, W_HH, B_IH, B_HH, W_HR, W_CH, LN_GW, LN_GB, LN_CW, LN_CB, NUM_PARAMS };
// The mask list: recurrent dropout (B, H_out), zoneout c (T, B, H), zoneout h (T, B, H_out).
enum Mask { M_REC = 0, Z_C, Z_H, NUM_MASKS };

template <typename T>
inline T sigmoid(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

template <typename T>
inline const T* cptr(const Opt& t) {
  return has(t) ? t->data_ptr<T>() : nullptr;
}

// The time index of processing step s (reverse walks T-1 ... 0).
inline int64_t time_of(int64_t s, int64_t steps, bool reverse) { return reverse ? steps - 1 - s : s; }

// Whether sequence b runs at time t (no lengths: always).
inline bool runs(const int64_t* lens, int64_t b, int64_t t) { return lens == nullptr || t < lens[b]; }

// Sum of f(j) for j < n in a fixed order that the compiler can vectorise:
// kSumLanes running partial sums (lane k takes j = k, k + kSumLanes, ...), combined
// in a fixed pairwise tree. The order depends only on n, never on the thread
// count or the run, so results stay bitwise reproducible.
constexpr int64_t kSumLanes = 16;

template <typename T, typename F>
inline T fixed_sum(int64_t n, F f) {
  T part[kSumLanes] = {};
  int64_t j = 0;
  for (; j + kSumLanes <= n; j += kSumLanes) {
#pragma omp simd
    for (int64_t k = 0; k < kSumLanes; ++k) part[k] += f(j + k);
  }
  for (int64_t k = 0; j + k < n; ++k) part[k] += f(j + k);
  for (int64_t w = kSumLanes / 2; w >= 1; w /= 2) {
    for (int64_t k = 0; k < w; ++k) part[k] += part[k + w];
  }
  return part[0];
}

// LN forward over n values and its affine map:
//   mean = Σ a / n,  var = Σ (a - mean)² / n  (two passes, fixed-order sums),
//   hat = (a - mean) / sqrt(var + eps) (kept for backward),  out = hat * gain + bias
// in one pass (out may be a itself). Returns rstd = 1 / sqrt(var + eps).
template <typename T>
inline T ln_affine(const T* a, T* __restrict hat, const T* __restrict gain, const T* __restrict bias, T* out,
                   int64_t n) {
  const T mean = fixed_sum<T>(n, [a](int64_t j) { return a[j]; }) / T(n);
  const T var = fixed_sum<T>(n, [a, mean](int64_t j) {
                  const T d = a[j] - mean;
                  return d * d;
                }) /
                T(n);
  const T rstd = T(1) / std::sqrt(var + T(kLnEps));
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const T h = (a[j] - mean) * rstd;
    hat[j] = h;
    out[j] = h * gain[j] + bias[j];
  }
  return rstd;
}

// LN backward in place: dv holds dL/d(hat) on entry and dL/da on exit:
//   da = rstd * (dhat - mean(dhat) - hat * mean(dhat * hat)).
template <typename T>
inline void ln_backward(T* __restrict dv, const T* __restrict hat, T rstd, int64_t n) {
  const T s1 = fixed_sum<T>(n, [dv](int64_t j) { return dv[j]; }) / T(n);
  const T s2 = fixed_sum<T>(n, [dv, hat](int64_t j) { return dv[j] * hat[j]; }) / T(n);
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) dv[j] = rstd * (dv[j] - s1 - hat[j] * s2);
}

// The step stride (elements) of the leading dimension of a zoneout mask: (T, B, n) per step, or
// (1, B, n) for a mask constant over time (evaluation: the rate itself).
inline int64_t step_stride(const Opt& z, int64_t batch, int64_t n) {
  return has(z) && z->size(0) == 1 ? 0 : batch * n;
}

// A zero-filled buffer standing in for an absent per-feature vector (peephole
// weights, zoneout rates): the loops then need no branch.
inline at::Tensor zeros_like_row(const at::Tensor& like, int64_t n) { return at::zeros({n}, like.options()); }

}  // namespace lstmkit_cpu

namespace lstmkit_cpu {

// Zoneout on h and the length rule, one step (`batch` rows of n values, rows ld
// apart; ld = 0: ld = n):
//   h_t = z_h * h_{t-1} + (1 - z_h) * h̃   where the sequence runs, else h_{t-1};
//   y_t = h_t where it runs, else 0 (y == nullptr: no separate output buffer).
template <typename T>
inline void mix_state(const T* hc, const T* hp, const T* z, const int64_t* lens, int64_t t, int64_t batch,
                      int64_t n, T* out, T* y, int64_t ld = 0) {
  const int64_t s = ld != 0 ? ld : n;
  for (int64_t b = 0; b < batch; ++b) {
    const T* __restrict c = hc + b * s;
    const T* __restrict p = hp + b * s;
    T* __restrict o = out + b * s;
    if (!runs(lens, b, t)) {
      for (int64_t j = 0; j < n; ++j) o[j] = p[j];
      continue;
    }
    if (z != nullptr) {
      const T* __restrict zr = z + b * s;
      for (int64_t j = 0; j < n; ++j) o[j] = zr[j] * p[j] + (T(1) - zr[j]) * c[j];
    } else {
      for (int64_t j = 0; j < n; ++j) o[j] = c[j];
    }
    if (y != nullptr) {
      T* __restrict yr = y + b * s;
      for (int64_t j = 0; j < n; ++j) yr[j] = o[j];
    }
  }
}

// Backward of the step's output side: dh += dy_t on running rows, then the
// gradient reaching h̃: dht = (1 - z_h) * dh where the sequence runs, else 0
// (rows ld apart; ld = 0: ld = n).
template <typename T>
inline void split_dh(T* dh, const T* dy, const T* z, const int64_t* lens, int64_t t, int64_t batch, int64_t n,
                     T* dht, int64_t ld = 0) {
  const int64_t s = ld != 0 ? ld : n;
  for (int64_t b = 0; b < batch; ++b) {
    T* __restrict d = dh + b * s;
    T* __restrict o = dht + b * s;
    if (!runs(lens, b, t)) {
      for (int64_t j = 0; j < n; ++j) o[j] = T(0);
      continue;
    }
    if (dy != nullptr) {
      const T* __restrict yr = dy + b * s;
      for (int64_t j = 0; j < n; ++j) d[j] += yr[j];
    }
    if (z != nullptr) {
      const T* __restrict zr = z + b * s;
      for (int64_t j = 0; j < n; ++j) o[j] = (T(1) - zr[j]) * d[j];
    } else {
      for (int64_t j = 0; j < n; ++j) o[j] = d[j];
    }
  }
}

// The gradient reaching h_{t-1}: on running rows dhin * m_rec + z_h * dh (dhin
// is the gradient w.r.t. the masked recurrent input), else dh passes through
// (rows ld apart; ld = 0: ld = n).
template <typename T>
inline void join_dh(T* dhin, const T* dh, const T* m, const T* z, const int64_t* lens, int64_t t, int64_t batch,
                    int64_t n, int64_t ld = 0) {
  const int64_t s = ld != 0 ? ld : n;
  for (int64_t b = 0; b < batch; ++b) {
    T* __restrict o = dhin + b * s;
    const T* __restrict d = dh + b * s;
    if (!runs(lens, b, t)) {
      for (int64_t j = 0; j < n; ++j) o[j] = d[j];
      continue;
    }
    if (m != nullptr) {
      const T* __restrict mr = m + b * s;
      for (int64_t j = 0; j < n; ++j) o[j] *= mr[j];
    }
    if (z != nullptr) {
      const T* __restrict zr = z + b * s;
      for (int64_t j = 0; j < n; ++j) o[j] += zr[j] * d[j];
    }
  }
}

// out = h * m (the recurrent input under recurrent dropout), B·n values.
template <typename T>
inline void masked(const T* __restrict h, const T* __restrict m, T* __restrict out, int64_t count) {
  for (int64_t j = 0; j < count; ++j) out[j] = h[j] * m[j];
}

// Sum of the biases present (b_ih + b_hh), or an undefined tensor.
inline at::Tensor bias_sum(const Opt& a, const Opt& b) {
  if (has(a) && has(b)) return *a + *b;
  if (has(a)) return *a;
  if (has(b)) return *b;
  return at::Tensor();
}

// (T·B, I) x (I, G·H) [+ bias] into out: the input projections of all steps at once,
// with the register-blocked kernel on W_ihᵀ packed once.
template <typename T>
inline void input_projection_t(at::Tensor out, const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& bias) {
  const int64_t rows = x.size(0) * x.size(1), in = x.size(2), width = out.size(2);
  at::Tensor xc = x.contiguous();
  T* o = out.data_ptr<T>();
  if (bias.defined()) {
    const T* bp = bias.data_ptr<T>();
    for (int64_t r = 0; r < rows; ++r) std::memcpy(o + r * width, bp, sizeof(T) * width);
  }
  const T beta = bias.defined() ? T(1) : T(0);
  if (rows < kPackRows) {  // a step or two: BLAS on W_ih as it is, no packing
    gemm<T>(true, rows, width, in, xc.data_ptr<T>(), in, w_ih.data_ptr<T>(), in, beta, o, width);
    return;
  }
  at::Tensor wt = w_ih.t().contiguous();  // (I, G·H)
  gemm_nn<T>(rows, width, in, xc.data_ptr<T>(), in, 1, wt.data_ptr<T>(), width, bias.defined(), o, width);
}

inline void input_projection(at::Tensor out, const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& bias) {
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "input_projection",
                             [&] { input_projection_t<scalar_t>(out, x, w_ih, bias.defined() ? bias.contiguous() : bias); });
}

// The input-side gradients from dA (T, B, G·H): dx = dA W_ih (T, B, I), dW_ih = dAᵀ X (G·H, I).
template <typename T>
inline void input_grads_t(const at::Tensor& dA, const at::Tensor& x, const at::Tensor& w_ih, bool need_dx,
                          at::Tensor& dx, at::Tensor& dw_ih) {
  const int64_t rows = x.size(0) * x.size(1), in = x.size(2), width = dA.size(2);
  const T* d = dA.data_ptr<T>();
  dw_ih = at::empty({width, in}, x.options());
  gemm_nn<T>(width, in, rows, d, 1, width, x.data_ptr<T>(), in, false, dw_ih.data_ptr<T>(), in);
  if (need_dx) {
    dx = at::empty({x.size(0), x.size(1), in}, x.options());
    gemm_nn<T>(rows, in, width, d, width, 1, w_ih.data_ptr<T>(), in, false, dx.data_ptr<T>(), in);
  }
}

inline void input_grads(const at::Tensor& dA, const at::Tensor& x, const at::Tensor& w_ih, bool need_dx,
                        at::Tensor& dx, at::Tensor& dw_ih) {
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "input_grads",
                             [&] { input_grads_t<scalar_t>(dA, x, w_ih, need_dx, dx, dw_ih); });
}

// dW = sum_t dA[t]ᵀ · Hprev[t] (rows, cols): Hprev[t] is the (masked) state before time t,
// h0 for the first processed step, else the state after the previous one.
// dA (T, B, ·) with row stride lda and `rows` columns used from column `col`;
// hst (T, B, H_out) states; h0m (B, H_out); m_rec (B, H_out) or absent.
template <typename T>
inline at::Tensor recurrent_weight_grad_t(const at::Tensor& dA, int64_t col, int64_t rows, const at::Tensor& hst,
                                          const at::Tensor& h0m, const Opt& m_rec, bool reverse) {
  const int64_t steps = dA.size(0), batch = dA.size(1), lda = dA.size(2), out = hst.size(2);
  const T* d = dA.data_ptr<T>() + col;
  at::Tensor dw = at::empty({rows, out}, hst.options());
  const int64_t first = reverse ? steps - 1 : 0;
  gemm_nn<T>(rows, out, batch, d + first * batch * lda, 1, lda, h0m.data_ptr<T>(), out, false, dw.data_ptr<T>(),
             out);
  if (steps > 1) {
    // forward: dA[1:] pairs with hst[:-1]; reverse: dA[:-1] pairs with hst[1:]
    at::Tensor hp = reverse ? hst.narrow(0, 1, steps - 1) : hst.narrow(0, 0, steps - 1);
    hp = has(m_rec) ? hp * *m_rec : hp.contiguous();  // (T-1, B, H_out)
    const T* da = d + (reverse ? 0 : batch * lda);
    gemm_nn<T>(rows, out, (steps - 1) * batch, da, 1, lda, hp.data_ptr<T>(), out, true, dw.data_ptr<T>(), out);
  }
  return dw;
}

inline at::Tensor recurrent_weight_grad(const at::Tensor& dA, int64_t col, int64_t rows, const at::Tensor& hst,
                                        const at::Tensor& h0m, const Opt& m_rec, bool reverse) {
  at::Tensor dw;
  AT_DISPATCH_FLOATING_TYPES(dA.scalar_type(), "recurrent_weight_grad", [&] {
    dw = recurrent_weight_grad_t<scalar_t>(dA, col, rows, hst, h0m.contiguous(), m_rec, reverse);
  });
  return dw;
}

}  // namespace lstmkit_cpu
