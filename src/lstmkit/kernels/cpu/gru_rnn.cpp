// Fused GRU (both reset conventions) and Elman RNN (tanh / relu) forward and
// backward through time, one layer and one direction; the same structure as
// lstm.cpp: one input GEMM, per step a recurrent GEMM plus a pointwise pass,
// a reverse pointwise loop writing the pre-activation gradients, and the
// weight gradients as GEMMs over all steps. Equations: lstmkit/kernels/spec.py.
#include "common.h"
#include "gemm.h"

namespace lstmkit_cpu {

// kind: which cell.
enum Kind { GRU_AFTER = 0, GRU_BEFORE = 1, RNN_TANH = 2, RNN_RELU = 3 };
// Saved for backward, after y and h_n: activations, the state sequence (with
// lengths only) and the GRU's extra buffer (gh_n for reset-after, q = r * h_in for reset-before).
enum GruSaved { G_A = 0, G_HST, G_EXTRA, NUM_GRU_SAVED };

namespace {

template <typename T>
std::vector<at::Tensor> forward_impl(const at::Tensor& x, const at::Tensor& h0, const OptList& p, const OptList& m,
                                     const Opt& lengths, bool reverse, int64_t kind) {
  const at::Tensor& w_ih = *p[W_IH];
  const at::Tensor& w_hh = *p[W_HH];
  const bool gru = kind == GRU_AFTER || kind == GRU_BEFORE;
  const int64_t S = x.size(0), B = x.size(1), GH = w_ih.size(0), H = w_hh.size(1);
  const int64_t* lens = has(lengths) ? lengths->data_ptr<int64_t>() : nullptr;
  const bool mix = has(m[Z_H]) || lens != nullptr;
  const auto opts = x.options();
  const T* mrec = cptr<T>(m[M_REC]);
  const T* zh = cptr<T>(m[Z_H]);
  const int64_t zhs = step_stride(m[Z_H], B, H);

  at::Tensor A = at::empty({S, B, GH}, opts);
  input_projection(A, x, w_ih, gru ? (has(p[B_IH]) ? *p[B_IH] : at::Tensor()) : bias_sum(p[B_IH], p[B_HH]));
  at::Tensor HST = at::empty({S, B, H}, opts);
  at::Tensor Y = lens != nullptr ? at::zeros({S, B, H}, opts) : HST;
  at::Tensor EXTRA = gru ? at::empty({S, B, H}, opts) : at::Tensor();
  at::Tensor hin = mrec != nullptr ? at::empty({B, H}, opts) : at::Tensor();
  at::Tensor htmp = mix ? at::empty({B, H}, opts) : at::Tensor();
  const T* bhh = has(p[B_HH]) ? p[B_HH]->data_ptr<T>() : nullptr;
  // reset-after: gh = h_in W_hhᵀ + b_hh (B, 3H); reset-before: the r|z part (B, 2H), then gh_n (B, H)
  const int64_t ghw = kind == GRU_BEFORE ? 2 * H : 3 * H;
  at::Tensor gh = gru ? at::empty({B, ghw}, opts) : at::Tensor();
  at::Tensor ghn = kind == GRU_BEFORE ? at::empty({B, H}, opts) : at::Tensor();
  T* const a0 = A.data_ptr<T>();
  T* const hst0 = HST.data_ptr<T>();
  T* const y0 = Y.data_ptr<T>();
  T* const ex0 = gru ? EXTRA.data_ptr<T>() : nullptr;
  T* const hin_p = mrec != nullptr ? hin.data_ptr<T>() : nullptr;
  T* const htmp_p = mix ? htmp.data_ptr<T>() : nullptr;
  T* const gh_p = gru ? gh.data_ptr<T>() : nullptr;
  T* const ghn_p = kind == GRU_BEFORE ? ghn.data_ptr<T>() : nullptr;
  const T* const whh = w_hh.data_ptr<T>();
  const T* const h0p = h0.data_ptr<T>();

  for (int64_t s = 0; s < S; ++s) {
    const int64_t t = time_of(s, S, reverse);
    const int64_t tp = s == 0 ? -1 : time_of(s - 1, S, reverse);
    const T* hp = tp < 0 ? h0p : hst0 + tp * B * H;
    const T* hi = hp;
    if (mrec != nullptr) {
      masked(hp, mrec, hin_p, B * H);
      hi = hin_p;
    }
    T* hc = mix ? htmp_p : hst0 + t * B * H;
    if (!gru) {
      T* a = a0 + t * B * H;
      gemm<T>(true, B, H, H, hi, H, whh, H, T(1), a, H);  // a += h_in W_hhᵀ
      const int64_t n = B * H;
      if (kind == RNN_TANH) {
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) a[j] = std::tanh(a[j]);
      } else {
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) a[j] = a[j] > T(0) ? a[j] : T(0);
      }
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) hc[j] = a[j];
    } else {
      for (int64_t b = 0; b < B; ++b) {  // start from the biases, then accumulate the product
        T* __restrict g = gh_p + b * ghw;
        for (int64_t j = 0; j < ghw; ++j) g[j] = bhh == nullptr ? T(0) : bhh[j];
      }
      gemm<T>(true, B, ghw, H, hi, H, whh, H, T(1), gh_p, ghw);
      for (int64_t b = 0; b < B; ++b) {  // r and z (and keep gh_n, or q = r * h_in)
        T* __restrict a = a0 + (t * B + b) * GH;
        const T* __restrict g = gh_p + b * ghw;
        T* __restrict ex = ex0 + (t * B + b) * H;
        const T* __restrict hir = hi + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T r = sigmoid(a[j] + g[j]);
          a[j] = r;
          a[H + j] = sigmoid(a[H + j] + g[H + j]);
          ex[j] = kind == GRU_AFTER ? g[2 * H + j] : r * hir[j];
        }
      }
      if (kind == GRU_BEFORE) {  // gh_n = q W_hnᵀ + b_hn
        for (int64_t b = 0; b < B; ++b)
          for (int64_t j = 0; j < H; ++j) ghn_p[b * H + j] = bhh == nullptr ? T(0) : bhh[2 * H + j];
        gemm<T>(true, B, H, H, ex0 + t * B * H, H, whh + 2 * H * H, H, T(1), ghn_p, H);
      }
      for (int64_t b = 0; b < B; ++b) {  // n and h̃ = (1 - z) * n + z * h_{t-1}
        T* __restrict a = a0 + (t * B + b) * GH;
        const T* __restrict ex = ex0 + (t * B + b) * H;
        const T* __restrict gn = kind == GRU_BEFORE ? ghn_p + b * H : ex;
        const T* __restrict hpr = hp + b * H;
        T* __restrict out = hc + b * H;
        const bool after = kind == GRU_AFTER;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T pre = after ? a[2 * H + j] + a[j] * ex[j] : a[2 * H + j] + gn[j];
          const T n = std::tanh(pre);
          const T z = a[H + j];
          a[2 * H + j] = n;
          out[j] = (T(1) - z) * n + z * hpr[j];
        }
      }
    }
    if (mix)
      mix_state<T>(hc, hp, zh == nullptr ? nullptr : zh + t * zhs, lens, t, B, H, hst0 + t * B * H,
                   lens != nullptr ? y0 + t * B * H : nullptr);
  }
  const int64_t last = time_of(S - 1, S, reverse);
  return {Y, HST[last].clone(), A, lens != nullptr ? HST : at::Tensor(), EXTRA};
}

template <typename T>
std::vector<at::Tensor> backward_impl(const Opt& gy, const Opt& ghn_grad, const at::Tensor& x, const at::Tensor& h0,
                                      const OptList& p, const OptList& m, const Opt& lengths, bool reverse,
                                      int64_t kind, const OptList& saved, bool need_dx) {
  const at::Tensor& w_ih = *p[W_IH];
  const at::Tensor& w_hh = *p[W_HH];
  const bool gru = kind == GRU_AFTER || kind == GRU_BEFORE;
  const int64_t S = x.size(0), B = x.size(1), GH = w_ih.size(0), H = w_hh.size(1);
  const int64_t* lens = has(lengths) ? lengths->data_ptr<int64_t>() : nullptr;
  const auto opts = x.options();
  const T* mrec = cptr<T>(m[M_REC]);
  const T* zh = cptr<T>(m[Z_H]);
  const int64_t zhs = step_stride(m[Z_H], B, H);
  const T* dy = cptr<T>(gy);
  const at::Tensor& A = *saved[G_A];
  const at::Tensor& HST = *saved[G_HST];
  const T* EX = gru ? saved[G_EXTRA]->data_ptr<T>() : nullptr;

  at::Tensor dA = at::empty({S, B, GH}, opts);  // d(input-side pre-activations)
  at::Tensor dGH = kind == GRU_AFTER ? at::empty({S, B, GH}, opts) : dA;  // d(recurrent-side ones)
  at::Tensor dh = has(ghn_grad) ? ghn_grad->clone() : at::zeros({B, H}, opts);
  at::Tensor ndh = at::empty({B, H}, opts), dht = at::empty({B, H}, opts);
  at::Tensor direct = gru ? at::empty({B, H}, opts) : at::Tensor();  // z * dh̃, w.r.t. the unmasked h_{t-1}
  at::Tensor dq = kind == GRU_BEFORE ? at::empty({B, H}, opts) : at::Tensor();
  const T* const whh = w_hh.data_ptr<T>();
  const T* const a0 = A.data_ptr<T>();
  const T* const hst0 = HST.data_ptr<T>();
  const T* const h0p = h0.data_ptr<T>();
  T* const da0 = dA.data_ptr<T>();
  T* const dg0 = dGH.data_ptr<T>();
  T* const dht_p = dht.data_ptr<T>();
  T* const dd0 = gru ? direct.data_ptr<T>() : nullptr;
  T* const dq_p = kind == GRU_BEFORE ? dq.data_ptr<T>() : nullptr;
  T* dh_p = dh.data_ptr<T>();
  T* ndh_p = ndh.data_ptr<T>();

  for (int64_t s = S - 1; s >= 0; --s) {
    const int64_t t = time_of(s, S, reverse);
    const int64_t tp = s == 0 ? -1 : time_of(s - 1, S, reverse);
    const T* hp = tp < 0 ? h0p : hst0 + tp * B * H;
    split_dh<T>(dh_p, dy == nullptr ? nullptr : dy + t * B * H, zh == nullptr ? nullptr : zh + t * zhs, lens, t, B,
                H, dht_p);
    const T* d = dht_p;
    if (!gru) {
      const T* __restrict a = a0 + t * B * H;
      T* __restrict da = da0 + t * B * H;
      const int64_t n = B * H;
      if (kind == RNN_TANH) {
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) da[j] = d[j] * (T(1) - a[j] * a[j]);
      } else {
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) da[j] = a[j] > T(0) ? d[j] : T(0);
      }
      gemm<T>(false, B, H, H, da0 + t * B * H, H, whh, H, T(0), ndh_p, H);
    } else {
      for (int64_t b = 0; b < B; ++b) {
        const int64_t row = t * B + b;
        const T* __restrict a = a0 + row * GH;
        const T* __restrict ex = EX + row * H;
        const T* __restrict dr = d + b * H;
        const T* __restrict hpr = hp + b * H;
        T* __restrict da = da0 + row * GH;
        T* __restrict dg = dg0 + row * GH;
        T* __restrict dd = dd0 + b * H;
        if (!runs(lens, b, t)) {  // dht is zero there: every gradient of this row is zero
          for (int64_t j = 0; j < GH; ++j) da[j] = T(0);
          if (kind == GRU_AFTER)
            for (int64_t j = 0; j < GH; ++j) dg[j] = T(0);
          for (int64_t j = 0; j < H; ++j) dd[j] = T(0);
          continue;
        }
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T r = a[j], z = a[H + j], n = a[2 * H + j];
          const T dz = dr[j] * (hpr[j] - n);
          const T dan = dr[j] * (T(1) - z) * (T(1) - n * n);
          dd[j] = dr[j] * z;
          da[H + j] = dz * z * (T(1) - z);
          da[2 * H + j] = dan;
          if (kind == GRU_AFTER) {
            const T dar = dan * ex[j] * r * (T(1) - r);
            da[j] = dar;
            dg[j] = dar;
            dg[H + j] = da[H + j];
            dg[2 * H + j] = dan * r;
          }
        }
      }
      if (kind == GRU_AFTER) {
        gemm<T>(false, B, H, GH, dg0 + t * B * GH, GH, whh, H, T(0), ndh_p, H);  // (B, 3H) x (3H, H)
      } else {
        T* dat = da0 + t * B * GH;
        gemm<T>(false, B, H, H, dat + 2 * H, GH, whh + 2 * H * H, H, T(0), dq_p, H);  // dL/dq, q = r * h_in
        const T* hi_m = mrec;
        for (int64_t b = 0; b < B; ++b) {
          const int64_t row = t * B + b;
          const T* __restrict a = a0 + row * GH;
          const T* __restrict hpr = hp + b * H;
          const T* __restrict mr = hi_m == nullptr ? nullptr : hi_m + b * H;
          T* __restrict dqr = dq_p + b * H;
          T* __restrict da = da0 + row * GH;
#pragma omp simd
          for (int64_t j = 0; j < H; ++j) {
            const T r = a[j];
            const T h_in = mr == nullptr ? hpr[j] : hpr[j] * mr[j];
            da[j] = dqr[j] * h_in * r * (T(1) - r);
            dqr[j] *= r;  // now dL/dh_in through q
          }
        }
        gemm<T>(false, B, H, 2 * H, dat, GH, whh, H, T(0), ndh_p, H);  // (B, 2H) x (2H, H)
        for (int64_t j = 0; j < B * H; ++j) ndh_p[j] += dq_p[j];
      }
    }
    join_dh<T>(ndh_p, dh_p, mrec, zh == nullptr ? nullptr : zh + t * zhs, lens, t, B, H);
    if (gru)
      for (int64_t j = 0; j < B * H; ++j) ndh_p[j] += dd0[j];
    std::swap(dh, ndh);
    std::swap(dh_p, ndh_p);
  }

  at::Tensor dx, dw_ih;
  input_grads(dA, x, w_ih, need_dx, dx, dw_ih);
  at::Tensor h0m = mrec != nullptr ? h0 * *m[M_REC] : h0;
  at::Tensor dw_hh, db_hh;
  at::Tensor db_ih = dA.view({S * B, GH}).sum(0);
  if (kind == GRU_BEFORE) {
    at::Tensor dw_n = at::empty({H, H}, opts);  // dW_hn = Σ_t dA_n[t]ᵀ q[t]
    gemm_nn<T>(H, H, S * B, da0 + 2 * H, 1, GH, EX, H, false, dw_n.data_ptr<T>(), H);
    dw_hh = at::cat({recurrent_weight_grad(dA, 0, 2 * H, HST, h0m, m[M_REC], reverse), dw_n}, 0);
    db_hh = db_ih.clone();
  } else {
    dw_hh = recurrent_weight_grad(dGH, 0, GH, HST, h0m, m[M_REC], reverse);
    db_hh = kind == GRU_AFTER ? dGH.view({S * B, GH}).sum(0) : db_ih.clone();
  }
  return {dx, dh, dw_ih, dw_hh, has(p[B_IH]) ? db_ih : at::Tensor(), has(p[B_HH]) ? db_hh : at::Tensor()};
}

}  // namespace

std::vector<at::Tensor> gru_rnn_forward(const at::Tensor& x, const at::Tensor& h0, const OptList& p,
                                        const OptList& m, const Opt& lengths, bool reverse, int64_t kind) {
  std::vector<at::Tensor> out;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gru_rnn_forward", [&] {
    out = forward_impl<scalar_t>(x, h0, p, m, lengths, reverse, kind);
  });
  return out;
}

std::vector<at::Tensor> gru_rnn_backward(const Opt& gy, const Opt& ghn, const at::Tensor& x, const at::Tensor& h0,
                                         const OptList& p, const OptList& m, const Opt& lengths, bool reverse,
                                         int64_t kind, const OptList& saved, bool need_dx) {
  std::vector<at::Tensor> out;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gru_rnn_backward", [&] {
    out = backward_impl<scalar_t>(gy, ghn, x, h0, p, m, lengths, reverse, kind, saved, need_dx);
  });
  return out;
}

}  // namespace lstmkit_cpu
