// Fused GRU (both reset conventions) and Elman RNN (tanh / relu) forward and
// backward through time, one layer and one direction; the same structure as
// lstm.cpp: one input GEMM, per step a recurrent GEMM plus a pointwise pass,
// a reverse pointwise loop writing the pre-activation gradients, and the
// weight gradients as GEMMs over all steps. Equations: lstmkit/kernels/spec.py.
#include "common.h"

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

  at::Tensor A = at::empty({S, B, GH}, opts);
  input_projection(A, x, w_ih, gru ? (has(p[B_IH]) ? *p[B_IH] : at::Tensor()) : bias_sum(p[B_IH], p[B_HH]));
  at::Tensor HST = at::empty({S, B, H}, opts);
  at::Tensor Y = lens != nullptr ? at::zeros({S, B, H}, opts) : HST;
  at::Tensor EXTRA = gru ? at::empty({S, B, H}, opts) : at::Tensor();
  at::Tensor hin = mrec != nullptr ? at::empty({B, H}, opts) : at::Tensor();
  at::Tensor htmp = mix ? at::empty({B, H}, opts) : at::Tensor();
  const bool bias_hh = has(p[B_HH]);
  // reset-after: gh = h_in W_hhᵀ + b_hh (B, 3H); reset-before: the r|z part (B, 2H) and gh_n (B, H)
  at::Tensor w_rz = kind == GRU_BEFORE ? w_hh.narrow(0, 0, 2 * H) : w_hh;
  at::Tensor w_n = kind == GRU_BEFORE ? w_hh.narrow(0, 2 * H, H) : at::Tensor();
  at::Tensor b_rz = (bias_hh && kind == GRU_BEFORE) ? p[B_HH]->narrow(0, 0, 2 * H) : (bias_hh ? *p[B_HH] : at::Tensor());
  at::Tensor b_n = (bias_hh && kind == GRU_BEFORE) ? p[B_HH]->narrow(0, 2 * H, H) : at::Tensor();
  at::Tensor gh = gru ? at::empty({B, kind == GRU_BEFORE ? 2 * H : 3 * H}, opts) : at::Tensor();
  at::Tensor ghn = kind == GRU_BEFORE ? at::empty({B, H}, opts) : at::Tensor();
  at::Tensor w_rz_t = w_rz.t(), w_n_t = w_n.defined() ? w_n.t() : at::Tensor();

  for (int64_t s = 0; s < S; ++s) {
    const int64_t t = time_of(s, S, reverse);
    at::Tensor hprev = prev_state(h0, HST, s, S, reverse);
    at::Tensor hin_t = hprev;
    if (mrec != nullptr) {
      masked(hprev.data_ptr<T>(), mrec, hin.data_ptr<T>(), B * H);
      hin_t = hin;
    }
    T* hc = mix ? htmp.data_ptr<T>() : HST[t].data_ptr<T>();
    const T* hp = hprev.data_ptr<T>();
    const T* hi = hin_t.data_ptr<T>();
    if (!gru) {
      at::Tensor At = A[t];
      At.addmm_(hin_t, w_rz_t);
      T* a = At.data_ptr<T>();
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
      if (b_rz.defined())
        at::addmm_out(gh, b_rz, hin_t, w_rz_t);
      else
        at::mm_out(gh, hin_t, w_rz_t);
      const int64_t ghw = gh.size(1);
      for (int64_t b = 0; b < B; ++b) {  // r and z (and n for reset-after)
        T* __restrict a = A.data_ptr<T>() + (t * B + b) * GH;
        const T* __restrict g = gh.data_ptr<T>() + b * ghw;
        T* __restrict ex = EXTRA.data_ptr<T>() + (t * B + b) * H;
        const T* __restrict hir = hi + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T r = sigmoid(a[j] + g[j]);
          a[j] = r;
          a[H + j] = sigmoid(a[H + j] + g[H + j]);
          ex[j] = kind == GRU_AFTER ? g[2 * H + j] : r * hir[j];
        }
      }
      if (kind == GRU_BEFORE) {
        if (b_n.defined())
          at::addmm_out(ghn, b_n, EXTRA[t], w_n_t);
        else
          at::mm_out(ghn, EXTRA[t], w_n_t);
      }
      for (int64_t b = 0; b < B; ++b) {  // n and h̃ = (1 - z) * n + z * h_{t-1}
        T* __restrict a = A.data_ptr<T>() + (t * B + b) * GH;
        const T* __restrict ex = EXTRA.data_ptr<T>() + (t * B + b) * H;
        const T* __restrict gn = kind == GRU_BEFORE ? ghn.data_ptr<T>() + b * H : nullptr;
        const T* __restrict hpr = hp + b * H;
        T* __restrict out = hc + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const T pre = kind == GRU_AFTER ? a[2 * H + j] + a[j] * ex[j] : a[2 * H + j] + gn[j];
          const T n = std::tanh(pre);
          const T z = a[H + j];
          a[2 * H + j] = n;
          out[j] = (T(1) - z) * n + z * hpr[j];
        }
      }
    }
    if (mix)
      mix_state<T>(hc, hp, zh == nullptr ? nullptr : zh + t * B * H, lens, t, B, H, HST[t].data_ptr<T>(),
                   lens != nullptr ? Y[t].data_ptr<T>() : nullptr);
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
  at::Tensor w_rz = kind == GRU_BEFORE ? w_hh.narrow(0, 0, 2 * H) : w_hh;
  at::Tensor w_n = kind == GRU_BEFORE ? w_hh.narrow(0, 2 * H, H) : at::Tensor();

  for (int64_t s = S - 1; s >= 0; --s) {
    const int64_t t = time_of(s, S, reverse);
    at::Tensor hprev = prev_state(h0, HST, s, S, reverse);
    const T* hp = hprev.data_ptr<T>();
    split_dh<T>(dh.data_ptr<T>(), dy == nullptr ? nullptr : dy + t * B * H, zh == nullptr ? nullptr : zh + t * B * H,
                lens, t, B, H, dht.data_ptr<T>());
    const T* d = dht.data_ptr<T>();
    if (!gru) {
      const T* __restrict a = A.data_ptr<T>() + t * B * H;
      T* __restrict da = dA.data_ptr<T>() + t * B * H;
      const int64_t n = B * H;
      if (kind == RNN_TANH) {
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) da[j] = d[j] * (T(1) - a[j] * a[j]);
      } else {
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) da[j] = a[j] > T(0) ? d[j] : T(0);
      }
      at::mm_out(ndh, dA[t], w_hh);
    } else {
      for (int64_t b = 0; b < B; ++b) {
        const int64_t row = t * B + b;
        const T* __restrict a = A.data_ptr<T>() + row * GH;
        const T* __restrict ex = EX + row * H;
        const T* __restrict dr = d + b * H;
        const T* __restrict hpr = hp + b * H;
        T* __restrict da = dA.data_ptr<T>() + row * GH;
        T* __restrict dg = dGH.data_ptr<T>() + row * GH;
        T* __restrict dd = direct.data_ptr<T>() + b * H;
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
        at::mm_out(ndh, dGH[t], w_hh);  // (B, 3H) x (3H, H)
      } else {
        at::Tensor dAt = dA[t];
        at::mm_out(dq, dAt.narrow(1, 2 * H, H), w_n);  // dL/dq, q = r * h_in
        const T* hi_m = mrec;
        for (int64_t b = 0; b < B; ++b) {
          const int64_t row = t * B + b;
          const T* __restrict a = A.data_ptr<T>() + row * GH;
          const T* __restrict hpr = hp + b * H;
          const T* __restrict mr = hi_m == nullptr ? nullptr : hi_m + b * H;
          T* __restrict dqr = dq.data_ptr<T>() + b * H;
          T* __restrict da = dA.data_ptr<T>() + row * GH;
#pragma omp simd
          for (int64_t j = 0; j < H; ++j) {
            const T r = a[j];
            const T h_in = mr == nullptr ? hpr[j] : hpr[j] * mr[j];
            da[j] = dqr[j] * h_in * r * (T(1) - r);
            dqr[j] *= r;  // now dL/dh_in through q
          }
        }
        at::mm_out(ndh, dAt.narrow(1, 0, 2 * H), w_rz);
        ndh.add_(dq);
      }
    }
    join_dh<T>(ndh.data_ptr<T>(), dh.data_ptr<T>(), mrec, zh == nullptr ? nullptr : zh + t * B * H, lens, t, B, H);
    if (gru) ndh.add_(direct);
    std::swap(dh, ndh);
  }

  at::Tensor dx, dw_ih;
  input_grads(dA, x, w_ih, need_dx, dx, dw_ih);
  at::Tensor h0m = mrec != nullptr ? h0 * *m[M_REC] : h0;
  at::Tensor dw_hh, db_hh;
  at::Tensor db_ih = dA.view({S * B, GH}).sum(0);
  if (kind == GRU_BEFORE) {
    at::Tensor d_rz = dA.narrow(2, 0, 2 * H);
    at::Tensor d_n = dA.narrow(2, 2 * H, H).reshape({S * B, H});
    dw_hh = at::cat({recurrent_weight_grad(d_rz, HST, h0m, m[M_REC], reverse),
                     at::mm(d_n.t(), saved[G_EXTRA]->view({S * B, H}))},
                    0);
    db_hh = db_ih.clone();
  } else {
    dw_hh = recurrent_weight_grad(dGH, HST, h0m, m[M_REC], reverse);
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
