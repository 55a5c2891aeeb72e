// Fused LSTM forward and backward through time, one layer and one direction.
//
// Forward: one GEMM for the input projections of all steps, then per step one
// recurrent GEMM accumulated in place into that buffer, followed by a
// hand-written pointwise pass over (B, H) that turns the pre-activations into
// gate activations (stored for backward), the cell and the hidden candidate.
// Backward: a reverse loop of the pointwise part writing dA (the gradient of
// every step's gate pre-activations) and one small GEMM per step for dh_{t-1};
// the weight gradients are then large GEMMs over all steps at once.
// The equations are in lstmkit/kernels/spec.py.
#include "common.h"
#include "gemm.h"
#include "team.h"

namespace lstmkit_cpu {

// Indices of the tensors saved for backward in the list forward returns after y, h_n, c_n.
enum LstmSaved { S_A = 0, S_CT, S_TC, S_CST, S_HST, S_HT, S_AHAT, S_GRSTD, S_CHAT, S_CRSTD, NUM_LSTM_SAVED };

// The in-step teams of a layer call's forward and backward (team.h); the backward
// has no input projection in its loop.
Team forward_team(int64_t B, int64_t H, int64_t HO, int64_t G, bool ln, int64_t elem) {
  const int64_t bytes = (HO * G * H + (HO != H ? H * HO : 0)) * elem;
  return lstm_team(B, G * H, HO, H, 64 / elem, bytes, ln);
}
Team backward_team(int64_t B, int64_t H, int64_t HO, int64_t G, bool ln, int64_t elem) {
  Team team = forward_team(B, H, HO, G, ln, elem);
  team.proj_steps = 0;
  return team;
}

namespace {

struct Dims {
  int64_t steps, batch, in, gates, hidden, out;
};

template <typename T>
struct Peep {  // peephole weights, zero rows when absent
  const T* ci;
  const T* cf;
  const T* co;
};

// n units of one row of the forward pointwise pass, the gates gs apart. a: the
// pre-activations on entry, activations on exit (i|f|g|o, or f|g|o when coupled).
// Layer norm (chat != nullptr) needs the whole row: n == gs == H.
template <typename T, bool Coupled>
__attribute__((noinline)) void lstm_row_forward(T* a, const T* cp, const Peep<T>& pw, const T* cw, const T* cb, T* ct, T* tc, T* chat,
                             T* crstd, T* htil, int64_t gs, int64_t H) {
  T* __restrict ai = Coupled ? nullptr : a;
  T* __restrict af = a + (Coupled ? 0 : gs);
  T* __restrict ag = a + (Coupled ? 1 : 2) * gs;
  T* __restrict ao = a + (Coupled ? 2 : 3) * gs;
  const T* __restrict c_prev = cp;
  T* __restrict c_new = ct;
  const T* __restrict wci = pw.ci;
  const T* __restrict wcf = pw.cf;
  const T* __restrict wco = pw.co;
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const T f = sigmoid(af[j] + wcf[j] * c_prev[j]);
    T i;
    if constexpr (Coupled) {
      i = T(1) - f;
    } else {
      i = sigmoid(ai[j] + wci[j] * c_prev[j]);
      ai[j] = i;
    }
    const T g = std::tanh(ag[j]);
    af[j] = f;
    ag[j] = g;
    c_new[j] = f * c_prev[j] + i * g;
  }
  const T* cn = c_new;  // may alias tc (same index only)
  if (chat != nullptr) {  // LN_c(c̃) = ĉ * gain + bias, staged in tc
    *crstd = ln_affine(c_new, chat, cw, cb, tc, H);
    cn = tc;
  }
  T* tco = tc;
  T* __restrict h = htil;
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const T o = sigmoid(ao[j] + wco[j] * c_new[j]);
    const T th = std::tanh(cn[j]);
    ao[j] = o;
    tco[j] = th;
    h[j] = o * th;
  }
}

template <typename T>
struct Accum {  // parameter-gradient accumulators of the pointwise part
  T* wci;
  T* wcf;
  T* wco;
  T* dcn_save;  // with LN_c: the row's gradient w.r.t. LN_c's output (summed into the gain / bias gradients later)
};

// acc_w[j] += g[j] * v[j] and acc_b[j] += g[j] for j < n: one row's share of the
// layer-norm gain and bias gradients. One out-of-line function serves the sums
// made in the loop (1 thread) and after it (a team), so both round alike.
template <typename T>
__attribute__((noinline)) void add_products(T* __restrict acc_w, T* __restrict acc_b, const T* __restrict g,
                                            const T* __restrict v, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    acc_w[j] += g[j] * v[j];
    acc_b[j] += g[j];
  }
}

// One row's share of the peephole gradients, units j < n: w_ci += dA_i * c_{t-1}
// (absent when coupled), w_cf += dA_f * c_{t-1}, w_co += dA_o * c_t. Shared by the
// sums made in the loop (1 thread) and after it (a team), so both round alike.
template <typename T>
__attribute__((noinline)) void add_peephole(T* __restrict wci, T* __restrict wcf, T* __restrict wco,
                                            const T* __restrict dai, const T* __restrict daf,
                                            const T* __restrict dao, const T* __restrict cp,
                                            const T* __restrict ct, int64_t n) {
  if (dai != nullptr)
    for (int64_t j = 0; j < n; ++j) wci[j] += dai[j] * cp[j];
  for (int64_t j = 0; j < n; ++j) {
    wcf[j] += daf[j] * cp[j];
    wco[j] += dao[j] * ct[j];
  }
}

// n units of one row of the backward pointwise pass, the gates gs apart. act:
// activations; da: dA row out; dht: dL/dh̃ (pre-projection); dc: dL/dc_t in;
// ndc: dL/dc_{t-1} out; tmp: n scratch. Layer norm needs the whole row (n == gs).
template <typename T, bool Coupled>
__attribute__((noinline)) void lstm_row_backward(const T* act, T* da, const T* ct, const T* tc, const T* cp, const T* chat, T crstd,
                              const T* cw, const T* dht, const T* dc, const T* zc, const Peep<T>& pw,
                              const Accum<T>& acc, T* ndc, T* tmp, int64_t gs, int64_t H) {
  const T* __restrict af = act + (Coupled ? 0 : gs);
  const T* __restrict ag = act + (Coupled ? 1 : 2) * gs;
  const T* __restrict ao = act + (Coupled ? 2 : 3) * gs;
  T* __restrict dai = Coupled ? nullptr : da;
  T* __restrict daf = da + (Coupled ? 0 : gs);
  T* __restrict dag = da + (Coupled ? 1 : 2) * gs;
  T* __restrict dao = da + (Coupled ? 2 : 3) * gs;
  T* __restrict dcn = tmp;
  const T* __restrict tcr = tc;
  const T* __restrict dhr = dht;
  for (int64_t j = 0; j < H; ++j) {
    const T o = ao[j], th = tcr[j];
    dcn[j] = dhr[j] * o * (T(1) - th * th);
    dao[j] = dhr[j] * th * o * (T(1) - o);
  }
  if (chat != nullptr) {
    T* __restrict save = acc.dcn_save;
    for (int64_t j = 0; j < H; ++j) {
      save[j] = dcn[j];
      dcn[j] *= cw[j];
    }
    ln_backward(dcn, chat, crstd, H);
  }
  T* __restrict wci = acc.wci;
  T* __restrict wcf = acc.wcf;
  T* __restrict wco = acc.wco;
  const T* __restrict pci = pw.ci;
  const T* __restrict pcf = pw.cf;
  const T* __restrict pco = pw.co;
  const T* __restrict zcr = zc;
  const T* __restrict dcr = dc;
  const T* __restrict cpr = cp;
  const T* __restrict ctr = ct;
  T* __restrict ndcr = ndc;
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const T dct = dcn[j] + (T(1) - zcr[j]) * dcr[j] + dao[j] * pco[j];
    wco[j] += dao[j] * ctr[j];
    const T f = af[j], g = ag[j];
    const T i = Coupled ? T(1) - f : act[j];
    T dcp = dct * f + zcr[j] * dcr[j];
    T df = dct * cpr[j];
    const T di = dct * g;
    const T dg = dct * i;
    T dai_v = T(0);
    if constexpr (Coupled) {
      df -= di;
    } else {
      dai_v = di * i * (T(1) - i);
      dai[j] = dai_v;
    }
    const T daf_v = df * f * (T(1) - f);
    daf[j] = daf_v;
    dag[j] = dg * (T(1) - g * g);
    dcp += dai_v * pci[j] + daf_v * pcf[j];
    wci[j] += dai_v * cpr[j];
    wcf[j] += daf_v * cpr[j];
    ndcr[j] = dcp;
  }
}

// keep: whether backward will run. Without it (inference) nothing that only
// backward reads is stored: the per-step scratch (layer-norm statistics and
// normalised values, tanh(c), the projection input h̃) lives in one row or one
// step, and the cell states (and, with lengths, the hidden states) alternate
// between two step buffers. The arithmetic is the same either way, so the
// outputs are bitwise those of the training path.
template <typename T>
std::vector<at::Tensor> forward_impl(const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0,
                                     const OptList& p, const OptList& m, const Opt& lengths, bool reverse,
                                     bool coupled, bool keep) {
  const at::Tensor& w_ih = *p[W_IH];
  const at::Tensor& w_hh = *p[W_HH];
  const int64_t S = x.size(0), B = x.size(1), G = coupled ? 3 : 4;
  const int64_t GH = w_ih.size(0), H = GH / G, HO = w_hh.size(1);
  const bool proj = has(p[W_HR]), ln = has(p[LN_GW]);
  const int64_t* lens = has(lengths) ? lengths->data_ptr<int64_t>() : nullptr;
  const bool mix = has(m[Z_C]) || has(m[Z_H]) || lens != nullptr;
  const auto opts = x.options();
  // Step buffers: all S steps when kept (or when they are the output), else two.
  const int64_t SC = keep ? S : std::min<int64_t>(S, 2);
  const int64_t SH = (keep || lens == nullptr) ? S : std::min<int64_t>(S, 2);
  const auto cslot = [&](int64_t s) { return keep ? time_of(s, S, reverse) : (s & 1); };
  const auto hslot = [&](int64_t s) { return (keep || lens == nullptr) ? time_of(s, S, reverse) : (s & 1); };
  const bool packed = S >= kPackSteps;
  // threads inside the step (see team.h); a step or two (streaming) runs on one
  const Team plan = packed ? forward_team(B, H, HO, G, ln, sizeof(T)) : Team{1, false, 0};
  const int nt = plan.threads;
  const bool own_rows = plan.own_rows;
  // (R, RB, ·): per-row scratch, one row per thread when not kept
  const int64_t R = keep ? S : 1, RB = keep ? B : nt;

  // Each thread projects its own rows' (and units') inputs PS steps at a time, at
  // the top of every PS-th step: bias + x_t W_ihᵀ, later += h W_hhᵀ, the same sums
  // in the same order as one projection of all steps before the loop, but into a
  // buffer that is still in the thread's cache when the steps read it (PS steps
  // of it in inference). PS = 0 (a step or two, layer norm split by columns): the
  // projection of all steps before the loop.
  const int64_t PS = plan.proj_steps;
  const bool step_proj = PS > 0;
  const bool a_steps = keep || !step_proj;  // A holds every step (else PS)
  const auto aslot = [&](int64_t s) { return a_steps ? time_of(s, S, reverse) : s % PS; };
  at::Tensor A = at::empty({a_steps ? S : PS, B, GH}, opts);
  at::Tensor bias = bias_sum(p[B_IH], p[B_HH]);
  if (!step_proj) input_projection(A, x, w_ih, bias);
  const int64_t I = x.size(2);
  at::Tensor xc = step_proj ? x.contiguous() : at::Tensor();
  at::Tensor wihT = step_proj ? w_ih.t().contiguous() : at::Tensor();  // (I, G·H)
  at::Tensor bc = step_proj && bias.defined() ? bias.contiguous() : at::Tensor();
  const T* const x_p = step_proj ? xc.data_ptr<T>() : nullptr;
  const T* const wihT_p = step_proj ? wihT.data_ptr<T>() : nullptr;
  const T* const bias_p = bc.defined() ? bc.data_ptr<T>() : nullptr;
  at::Tensor CT = at::empty({SC, B, H}, opts), TC = at::empty({R, RB, H}, opts);
  at::Tensor HST = at::empty({SH, B, HO}, opts);
  at::Tensor CST = mix ? at::empty({SC, B, H}, opts) : CT;
  at::Tensor Y = lens != nullptr ? at::zeros({S, B, HO}, opts) : HST;
  at::Tensor HT = proj ? at::empty({R, B, H}, opts) : at::Tensor();
  at::Tensor AHAT, GRSTD, CHAT, CRSTD;
  if (ln) {
    AHAT = at::empty({R, RB, GH}, opts);
    GRSTD = at::empty({R, RB, G}, opts);
    CHAT = at::empty({R, RB, H}, opts);
    CRSTD = at::empty({R, RB}, opts);
  }
  at::Tensor zero_h = zeros_like_row(x, H);
  const T* zr = zero_h.data_ptr<T>();
  at::Tensor w_ch = has(p[W_CH]) ? p[W_CH]->contiguous() : at::Tensor();
  const Peep<T> pw{w_ch.defined() ? w_ch.data_ptr<T>() : zr, w_ch.defined() ? w_ch.data_ptr<T>() + H : zr,
                   w_ch.defined() ? w_ch.data_ptr<T>() + 2 * H : zr};
  const T* gw = ln ? p[LN_GW]->data_ptr<T>() : nullptr;
  const T* gb = ln ? p[LN_GB]->data_ptr<T>() : nullptr;
  const T* cw = ln ? p[LN_CW]->data_ptr<T>() : nullptr;
  const T* cb = ln ? p[LN_CB]->data_ptr<T>() : nullptr;
  const T* mrec = cptr<T>(m[M_REC]);
  const T* zc = cptr<T>(m[Z_C]);
  const T* zh = cptr<T>(m[Z_H]);
  const int64_t zcs = step_stride(m[Z_C], B, H), zhs = step_stride(m[Z_H], B, HO);
  at::Tensor hin = mrec != nullptr ? at::empty({B, HO}, opts) : at::Tensor();
  at::Tensor htmp = (mix && !proj) ? at::empty({B, H}, opts) : at::Tensor();
  at::Tensor hptmp = (mix && proj) ? at::empty({B, HO}, opts) : at::Tensor();
  // raw pointers: the step loop allocates nothing and dispatches nothing
  T* const a0 = A.data_ptr<T>();
  T* const ct0 = CT.data_ptr<T>();
  T* const tc0 = TC.data_ptr<T>();
  T* const hst0 = HST.data_ptr<T>();
  T* const cst0 = CST.data_ptr<T>();
  T* const y0 = Y.data_ptr<T>();
  T* const ht0 = proj ? HT.data_ptr<T>() : nullptr;
  T* const ah0 = ln ? AHAT.data_ptr<T>() : nullptr;
  T* const grs0 = ln ? GRSTD.data_ptr<T>() : nullptr;
  T* const chat0 = ln ? CHAT.data_ptr<T>() : nullptr;
  T* const crs0 = ln ? CRSTD.data_ptr<T>() : nullptr;
  T* const hin_p = mrec != nullptr ? hin.data_ptr<T>() : nullptr;
  T* const htmp_p = (mix && !proj) ? htmp.data_ptr<T>() : nullptr;
  T* const hptmp_p = (mix && proj) ? hptmp.data_ptr<T>() : nullptr;
  const T* const whh = w_hh.data_ptr<T>();
  const T* const whr = proj ? p[W_HR]->data_ptr<T>() : nullptr;
  // Long sequences: pack W_hhᵀ and W_hrᵀ once for the register-blocked kernel;
  // a step or two (streaming): call BLAS on the weights as they are.
  at::Tensor whhT = packed ? w_hh.t().contiguous() : at::Tensor();  // (H_out, G·H)
  at::Tensor whrT = packed && proj ? p[W_HR]->t().contiguous() : at::Tensor();  // (H, H_out)
  const T* const h0p = h0.data_ptr<T>();
  const T* const c0p = c0.data_ptr<T>();

  const T* const whhT_p = packed ? whhT.data_ptr<T>() : nullptr;
  const T* const whrT_p = packed && proj ? whrT.data_ptr<T>() : nullptr;

  // Rows R (the nr from r0) and columns [c0, c0 + nc) of every gate (all G·H when
  // nc == GH) of A for the PS steps from s (fewer at the end): bias + x_t W_ihᵀ.
  const auto project = [&](int64_t s, int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
    if (nr == 0 || nc == 0) return;
    const int64_t n = std::min(PS, S - s), dir = reverse ? -1 : 1;
    const int64_t sx = dir * B * I, sa = (a_steps ? dir : 1) * B * GH;
    const T* xs = x_p + (time_of(s, S, reverse) * B + r0) * I;
    T* as = a0 + aslot(s) * B * GH + r0 * GH;
    const int64_t parts = nc == GH ? 1 : G, width = nc == GH ? GH : nc, stride = nc == GH ? 0 : H;
    for (int64_t k = 0; k < parts; ++k) {
      T* ak = as + k * stride + c0;
      const T* bk = bias_p == nullptr ? nullptr : bias_p + k * stride + c0;
      if (bk != nullptr)
        for (int64_t j = 0; j < n; ++j)
          for (int64_t b = 0; b < nr; ++b) std::memcpy(ak + j * sa + b * GH, bk, sizeof(T) * width);
      gemm_groups<T>(n, sx, sa, nr, width, 0, column_groups<T>(width), I, xs, I, 1, wihT_p + k * stride + c0, GH,
                     bk != nullptr, ak, GH);
    }
  };

  // The step loop of thread `tid` of `nth` with layer norm (whole rows): each
  // thread takes batch rows; the GEMMs are split by gemm_nn_part, phases separated
  // by barriers, or, with own_rows, each thread runs its own rows' GEMMs and no
  // thread waits for another (see team.h).
  auto steps = [&](int64_t tid, int64_t nth) {
    const Range rows = share(B, nth, tid);
    const int64_t nr = rows.hi - rows.lo;
    const auto barrier = [nth, own_rows] {
      if (nth > 1 && !own_rows) {
#pragma omp barrier
      }
    };
    // C (B x n) [+]= A (B x k) · W (k x n): this thread's part
    const auto step_gemm = [&](int64_t n, int64_t k, const T* a, const T* w, bool acc, T* c) {
      if (own_rows)
        gemm_nn_part<T>(nr, n, k, a + rows.lo * k, k, 1, w, n, acc, c + rows.lo * n, n, 0, 1);
      else
        gemm_nn_part<T>(B, n, k, a, k, 1, w, n, acc, c, n, tid, nth);
    };
    for (int64_t s = 0; s < S; ++s) {
      const int64_t t = time_of(s, S, reverse);
      const int64_t hs = hslot(s), cs = cslot(s);
      const T* hp = s == 0 ? h0p : hst0 + hslot(s - 1) * B * HO;
      const T* cpv = s == 0 ? c0p : cst0 + cslot(s - 1) * B * H;
      T* at_ = a0 + aslot(s) * B * GH;
      if (step_proj && s % PS == 0) project(s, rows.lo, nr, 0, GH);  // own rows (one thread or own_rows)
      const T* hin_t = hp;
      if (mrec != nullptr) {
        masked(hp + rows.lo * HO, mrec + rows.lo * HO, hin_p + rows.lo * HO, nr * HO);
        hin_t = hin_p;
        barrier();
      }
      if (packed)  // a += h_in W_hhᵀ
        step_gemm(GH, HO, hin_t, whhT_p, true, at_);
      else
        gemm<T>(true, B, GH, HO, hin_t, HO, whh, HO, T(1), at_, GH);
      barrier();
      T* htil = proj ? ht0 + (keep ? t : 0) * B * H : (mix ? htmp_p : hst0 + hs * B * HO);
      for (int64_t b = rows.lo; b < rows.hi; ++b) {
        const int64_t row = t * B + b;
        const int64_t srow = keep ? row : tid;  // the row of the scratch buffers
        T* a = at_ + b * GH;
        if (ln) {
          T* ah = ah0 + srow * GH;
          for (int64_t k = 0; k < G; ++k)
            grs0[srow * G + k] = ln_affine(a + k * H, ah + k * H, gw + k * H, gb + k * H, a + k * H, H);
        }
        T* chat = ln ? chat0 + srow * H : nullptr;
        T* crstd = ln ? crs0 + srow : nullptr;
        T* ct = ct0 + (cs * B + b) * H;
        T* tc = tc0 + srow * H;
        if (coupled)
          lstm_row_forward<T, true>(a, cpv + b * H, pw, cw, cb, ct, tc, chat, crstd, htil + b * H, H, H);
        else
          lstm_row_forward<T, false>(a, cpv + b * H, pw, cw, cb, ct, tc, chat, crstd, htil + b * H, H, H);
      }
      if (proj) {  // h̃ W_hrᵀ: (B, H) x (H, H_out)
        barrier();
        T* dst = mix ? hptmp_p : hst0 + hs * B * HO;
        if (packed)
          step_gemm(HO, H, htil, whrT_p, false, dst);
        else
          gemm<T>(true, B, HO, H, htil, H, whr, H, T(0), dst, HO);
      }
      if (mix) {
        if (proj) barrier();
        const T* hc = proj ? hptmp_p : htmp_p;
        const int64_t* lr = lens == nullptr ? nullptr : lens + rows.lo;
        const T* zcr = zc == nullptr ? nullptr : zc + t * zcs + rows.lo * H;
        const T* zhr = zh == nullptr ? nullptr : zh + t * zhs + rows.lo * HO;
        mix_state<T>(ct0 + (cs * B + rows.lo) * H, cpv + rows.lo * H, zcr, lr, t, nr, H,
                     cst0 + (cs * B + rows.lo) * H, nullptr);
        mix_state<T>(hc + rows.lo * HO, hp + rows.lo * HO, zhr, lr, t, nr, HO, hst0 + (hs * B + rows.lo) * HO,
                     lens != nullptr ? y0 + (t * B + rows.lo) * HO : nullptr);
      }
      barrier();  // the step's states are complete before the next step reads them
    }
  };
  // Every variant without layer norm (team.h): thread (ri, ui) runs rows
  // R = share(B, pr, ri) and units U (of H) and V (of H_out) of block ui through the
  // whole step; split by units, one barrier per step (two with a projection), with
  // whole rows (one unit block) none.
  // Recurrent dropout's masked state is written at the end of the step before, in
  // two alternating buffers (a thread may start the next step's GEMM early).
  at::Tensor hin2 = !ln && mrec != nullptr ? at::empty({2, B, HO}, opts) : at::Tensor();
  auto unit_steps = [&](int64_t tid, int64_t nth) {
    const Part part = thread_part(tid, nth, B, H, HO, kLanes<T>, own_rows);
    const bool sync = part.sync;
    const int64_t ri = part.ri;
    const Range rows = part.rows, us = part.us, vs = part.vs;
    const int64_t nr = rows.hi - rows.lo, nu = us.hi - us.lo, nv = vs.hi - vs.lo, u0 = us.lo, v0 = vs.lo;
    const Peep<T> pwu{pw.ci + u0, pw.cf + u0, pw.co + u0};
    T* const hin0 = mrec != nullptr ? hin2.data_ptr<T>() : nullptr;
    const auto barrier = [sync] {
      if (sync) {
#pragma omp barrier
      }
    };
    const auto mask_into = [&](const T* h, T* out) {  // out[R, V] = h[R, V] * m_rec[R, V]
      for (int64_t b = rows.lo; b < rows.hi; ++b) masked(h + b * HO + v0, mrec + b * HO + v0, out + b * HO + v0, nv);
    };
    if (mrec != nullptr) {
      mask_into(h0p, hin0);
      barrier();
    }
    for (int64_t s = 0; s < S; ++s) {
      const int64_t t = time_of(s, S, reverse);
      const int64_t hs = hslot(s), cs = cslot(s);
      const T* hp = s == 0 ? h0p : hst0 + hslot(s - 1) * B * HO;
      const T* cpv = s == 0 ? c0p : cst0 + cslot(s - 1) * B * H;
      T* at_ = a0 + aslot(s) * B * GH;
      const T* hin_t = mrec != nullptr ? hin0 + (s & 1) * B * HO : hp;
      if (step_proj && s % PS == 0) project(s, rows.lo, nr, u0, nu);
      if (!packed) {  // a step or two, one thread: BLAS on the whole product
        gemm<T>(true, B, GH, HO, hin_t, HO, whh, HO, T(1), at_, GH);
      } else if (nr > 0) {
        for (int64_t k = 0; k < G; ++k)  // a[R, gate k's units U] += h_in[R] W_hhᵀ[:, those columns]
          gemm_nn_part<T>(nr, nu, HO, hin_t + rows.lo * HO, HO, 1, whhT_p + k * H + u0, GH, true,
                          at_ + rows.lo * GH + k * H + u0, GH, 0, 1);
      }
      T* htil = proj ? ht0 + (keep ? t : 0) * B * H : (mix ? htmp_p : hst0 + hs * B * HO);
      for (int64_t b = rows.lo; b < rows.hi; ++b) {
        const int64_t row = t * B + b;
        T* a = at_ + b * GH + u0;
        T* ct = ct0 + (cs * B + b) * H + u0;
        T* tc = tc0 + (keep ? row : ri) * H + u0;
        if (coupled)
          lstm_row_forward<T, true>(a, cpv + b * H + u0, pwu, nullptr, nullptr, ct, tc, nullptr, nullptr,
                                    htil + b * H + u0, H, nu);
        else
          lstm_row_forward<T, false>(a, cpv + b * H + u0, pwu, nullptr, nullptr, ct, tc, nullptr, nullptr,
                                     htil + b * H + u0, H, nu);
      }
      if (proj) {  // h̃ W_hrᵀ, columns V: needs the whole h̃ of rows R
        barrier();
        T* dst = mix ? hptmp_p : hst0 + hs * B * HO;
        if (!packed)
          gemm<T>(true, B, HO, H, htil, H, whr, H, T(0), dst, HO);
        else if (nr > 0 && nv > 0)
          gemm_nn_part<T>(nr, nv, H, htil + rows.lo * H, H, 1, whrT_p + v0, HO, false, dst + rows.lo * HO + v0, HO,
                          0, 1);
      }
      if (mix) {
        const int64_t* lr = lens == nullptr ? nullptr : lens + rows.lo;
        const T* zcr = zc == nullptr ? nullptr : zc + t * zcs + rows.lo * H + u0;
        const T* zhr = zh == nullptr ? nullptr : zh + t * zhs + rows.lo * HO + v0;
        mix_state<T>(ct0 + (cs * B + rows.lo) * H + u0, cpv + rows.lo * H + u0, zcr, lr, t, nr, nu,
                     cst0 + (cs * B + rows.lo) * H + u0, nullptr, H);
        const T* hc = proj ? hptmp_p : htmp_p;
        mix_state<T>(hc + rows.lo * HO + v0, hp + rows.lo * HO + v0, zhr, lr, t, nr, nv,
                     hst0 + (hs * B + rows.lo) * HO + v0, lens != nullptr ? y0 + (t * B + rows.lo) * HO + v0 : nullptr,
                     HO);
      }
      if (mrec != nullptr && s + 1 < S) mask_into(hst0 + hs * B * HO, hin0 + ((s + 1) & 1) * B * HO);
      barrier();  // the step's states are complete before the next step's GEMM reads them
    }
  };
  run_team(nt, [&](int64_t tid, int64_t nth) { ln ? steps(tid, nth) : unit_steps(tid, nth); });
  at::Tensor h_n = HST[hslot(S - 1)].clone(), c_n = CST[cslot(S - 1)].clone();
  if (!keep) return {Y, h_n, c_n};
  return {Y, h_n, c_n, A, CT, TC, mix ? CST : at::Tensor(), lens != nullptr ? HST : at::Tensor(), HT, AHAT, GRSTD,
          CHAT, CRSTD};
}

template <typename T>
std::vector<at::Tensor> backward_impl(const Opt& gy, const Opt& ghn, const Opt& gcn, const at::Tensor& x,
                                      const at::Tensor& h0, const at::Tensor& c0, const OptList& p,
                                      const OptList& m, const Opt& lengths, bool reverse, bool coupled,
                                      const OptList& saved, bool need_dx) {
  const at::Tensor& w_ih = *p[W_IH];
  const at::Tensor& w_hh = *p[W_HH];
  const int64_t S = x.size(0), B = x.size(1), G = coupled ? 3 : 4;
  const int64_t GH = w_ih.size(0), H = GH / G, HO = w_hh.size(1);
  const bool proj = has(p[W_HR]), ln = has(p[LN_GW]), peep = has(p[W_CH]);
  const int64_t* lens = has(lengths) ? lengths->data_ptr<int64_t>() : nullptr;
  const auto opts = x.options();
  const at::Tensor& A = *saved[S_A];
  const at::Tensor& CT = *saved[S_CT];
  const at::Tensor& TC = *saved[S_TC];
  const at::Tensor& CST = has(saved[S_CST]) ? *saved[S_CST] : CT;
  const at::Tensor& HST = *saved[S_HST];

  at::Tensor dA = at::empty({S, B, GH}, opts);
  at::Tensor dh = has(ghn) ? ghn->clone() : at::zeros({B, HO}, opts);
  at::Tensor dc = has(gcn) ? gcn->clone() : at::zeros({B, H}, opts);
  at::Tensor ndh = at::empty({B, HO}, opts), ndc = at::empty({B, H}, opts);
  at::Tensor DHP = proj ? at::empty({S, B, HO}, opts) : at::Tensor();  // dL/d(projected h̃)
  // Threads inside the step (team.h), the row pass split by batch rows. No row
  // pass sums into a buffer another row adds to: the in-loop peephole sums go
  // to per-thread scratch, and the layer-norm rows store their gradients w.r.t.
  // the LN outputs (DGP for the gates, DCP for the cell); the peephole and
  // layer-norm parameter gradients are summed after the loop, per unit, steps
  // last to first and rows in order, whatever the thread count.
  // On one thread the peephole and layer-norm sums are made in the loop (for layer norm from a one-row
  // buffer (same rows, same order, same function: bitwise the team's result),
  // which saves the (T, B, ·) buffers and a pass over them.
  const Team plan = backward_team(B, H, HO, G, ln, sizeof(T));
  const int nt = plan.threads;
  const bool own_rows = plan.own_rows;
  const bool in_loop = nt == 1;  // the peephole and layer-norm parameter sums made in the loop
  const bool ln_in_loop = ln && in_loop;
  at::Tensor dht = at::empty({B, H}, opts), tmp = at::empty({nt, H}, opts);
  at::Tensor scratch = at::zeros({nt, 3, H}, opts);
  at::Tensor DGP = ln && !ln_in_loop ? at::empty({S, B, GH}, opts) : at::Tensor();
  at::Tensor DCP = ln && !ln_in_loop ? at::empty({S, B, H}, opts) : at::Tensor();
  at::Tensor lnrow = ln_in_loop ? at::empty({GH + H}, opts) : at::Tensor();
  at::Tensor zero_h = zeros_like_row(x, H);
  const T* zr = zero_h.data_ptr<T>();
  at::Tensor w_ch = peep ? p[W_CH]->contiguous() : at::Tensor();
  const Peep<T> pw{peep ? w_ch.data_ptr<T>() : zr, peep ? w_ch.data_ptr<T>() + H : zr,
                   peep ? w_ch.data_ptr<T>() + 2 * H : zr};
  at::Tensor dw_ch = at::zeros({3, H}, opts);
  at::Tensor dcw = at::zeros({H}, opts), dcb = at::zeros({H}, opts);
  at::Tensor dgw = ln ? at::zeros({GH}, opts) : at::Tensor(), dgb = ln ? at::zeros({GH}, opts) : at::Tensor();
  const T* gw = ln ? p[LN_GW]->data_ptr<T>() : nullptr;
  const T* cw = ln ? p[LN_CW]->data_ptr<T>() : nullptr;
  const T* mrec = cptr<T>(m[M_REC]);
  const T* zc = cptr<T>(m[Z_C]);
  const T* zh = cptr<T>(m[Z_H]);
  const int64_t zcs = step_stride(m[Z_C], B, H), zhs = step_stride(m[Z_H], B, HO);
  const T* dy = cptr<T>(gy);
  const T* const whr = proj ? p[W_HR]->data_ptr<T>() : nullptr;
  const T* const whh = w_hh.data_ptr<T>();
  const T* const a0 = A.data_ptr<T>();
  const T* const ct0 = CT.data_ptr<T>();
  const T* const tc0 = TC.data_ptr<T>();
  const T* const cst0 = CST.data_ptr<T>();
  const T* const c0p = c0.data_ptr<T>();
  const T* const chat0 = ln ? saved[S_CHAT]->data_ptr<T>() : nullptr;
  const T* const crs0 = ln ? saved[S_CRSTD]->data_ptr<T>() : nullptr;
  const T* const ah0 = ln ? saved[S_AHAT]->data_ptr<T>() : nullptr;
  const T* const grs0 = ln ? saved[S_GRSTD]->data_ptr<T>() : nullptr;
  T* const da0 = dA.data_ptr<T>();
  T* const dhp0 = proj ? DHP.data_ptr<T>() : nullptr;
  T* const dht_p = dht.data_ptr<T>();
  T* const tmp_p = tmp.data_ptr<T>();
  T* const gwa = ln ? dgw.data_ptr<T>() : nullptr;
  T* const gba = ln ? dgb.data_ptr<T>() : nullptr;
  T* dh_p = dh.data_ptr<T>();
  T* ndh_p = ndh.data_ptr<T>();
  T* dc_p = dc.data_ptr<T>();
  T* ndc_p = ndc.data_ptr<T>();

  T* const scratch_p = scratch.data_ptr<T>();
  T* const dgp0 = DGP.defined() ? DGP.data_ptr<T>() : nullptr;
  T* const dcp0 = DCP.defined() ? DCP.data_ptr<T>() : nullptr;
  T* const lnrow_p = ln_in_loop ? lnrow.data_ptr<T>() : nullptr;
  T* const dcw_p = dcw.data_ptr<T>();
  T* const dcb_p = dcb.data_ptr<T>();
  T* const wci_p = dw_ch.data_ptr<T>();
  T* const wcf_p = wci_p + H;
  T* const wco_p = wci_p + 2 * H;
  const int64_t fo = coupled ? 0 : H, oo = coupled ? 2 * H : 3 * H;  // the f and o gates' columns

  auto steps = [&](int64_t tid, int64_t nth) {
    const Range own = share(B, nth, tid);  // rows of the state passes
    const int64_t no = own.hi - own.lo;
    const Range rows = own;  // rows of the gate pass
    T* const sp = scratch_p + tid * 3 * H;
    T* const tmp_t = tmp_p + tid * H;
    T* dh_l = dh_p;
    T* ndh_l = ndh_p;
    T* dc_l = dc_p;
    T* ndc_l = ndc_p;
    const auto barrier = [nth, own_rows] {
      if (nth > 1 && !own_rows) {
#pragma omp barrier
      }
    };
    // C (B x n) = A (B x k) · W (k x n): this thread's part (own_rows: its rows)
    const auto step_gemm = [&](int64_t n, int64_t k, const T* a, const T* w, T* c) {
      if (own_rows)
        gemm_nn_part<T>(no, n, k, a + own.lo * k, k, 1, w, n, false, c + own.lo * n, n, 0, 1);
      else
        gemm_nn_part<T>(B, n, k, a, k, 1, w, n, false, c, n, tid, nth);
    };
    for (int64_t s = S - 1; s >= 0; --s) {
      const int64_t t = time_of(s, S, reverse);
      const int64_t tp = s == 0 ? -1 : time_of(s - 1, S, reverse);
      const T* cpv = tp < 0 ? c0p : cst0 + tp * B * H;
      T* dhp = proj ? dhp0 + t * B * HO : dht_p;
      const int64_t* lo_lens = lens == nullptr ? nullptr : lens + own.lo;
      const T* zht = zh == nullptr ? nullptr : zh + t * zhs + own.lo * HO;
      split_dh<T>(dh_l + own.lo * HO, dy == nullptr ? nullptr : dy + (t * B + own.lo) * HO, zht, lo_lens, t, no, HO,
                  dhp + own.lo * HO);
      if (proj) {  // (B, H_out) x (H_out, H)
        barrier();
        step_gemm(H, HO, dhp, whr, dht_p);
      }
      barrier();
      for (int64_t b = rows.lo; b < rows.hi; ++b) {
        const int64_t row = t * B + b;
        T* da = da0 + row * GH;
        T* ndcr = ndc_l + b * H;
        const T* dcr = dc_l + b * H;
        if (!runs(lens, b, t)) {
          for (int64_t j = 0; j < GH; ++j) da[j] = T(0);
          for (int64_t j = 0; j < H; ++j) ndcr[j] = dcr[j];
          continue;
        }
        const T* act = a0 + row * GH;
        const T* chat = ln ? chat0 + row * H : nullptr;
        const T crstd = ln ? crs0[row] : T(0);
        const T* zcr = zc == nullptr ? zr : zc + t * zcs + b * H;
        T* const dcsave = !ln ? nullptr : (ln_in_loop ? lnrow_p + GH : dcp0 + row * H);
        const Accum<T> acc_t{sp, sp + H, sp + 2 * H, dcsave};
        if (coupled)
          lstm_row_backward<T, true>(act, da, ct0 + row * H, tc0 + row * H, cpv + b * H, chat, crstd, cw,
                                     dht_p + b * H, dcr, zcr, pw, acc_t, ndcr, tmp_t, H, H);
        else
          lstm_row_backward<T, false>(act, da, ct0 + row * H, tc0 + row * H, cpv + b * H, chat, crstd, cw,
                                      dht_p + b * H, dcr, zcr, pw, acc_t, ndcr, tmp_t, H, H);
        const T* pre = da;  // dA of the row before the layer-norm backward (for the peephole sums)
        if (ln) {  // through a' = â * gain + bias and the per-gate normalisation
          const T* ah = ah0 + row * GH;
          const T* rs = grs0 + row * G;
          T* __restrict save = dgp0 != nullptr ? dgp0 + row * GH : lnrow_p;
          for (int64_t j = 0; j < GH; ++j) {
            save[j] = da[j];
            da[j] *= gw[j];
          }
          for (int64_t k = 0; k < G; ++k) ln_backward(da + k * H, ah + k * H, rs[k], H);
          if (ln_in_loop) {
            add_products(gwa, gba, save, ah, GH);
            add_products(dcw_p, dcb_p, dcsave, chat, H);
          }
          pre = save;
        }
        if (peep && in_loop)
          add_peephole(wci_p, wcf_p, wco_p, coupled ? nullptr : pre, pre + fo, pre + oo, cpv + b * H, ct0 + row * H, H);
      }
      barrier();
      // (B, G·H) x (G·H, H_out)
      step_gemm(HO, GH, da0 + t * B * GH, whh, ndh_l);
      barrier();
      join_dh<T>(ndh_l + own.lo * HO, dh_l + own.lo * HO, mrec == nullptr ? nullptr : mrec + own.lo * HO, zht,
                 lo_lens, t, no, HO);
      barrier();  // every state gradient is complete before the next step reads it
      std::swap(dh_l, ndh_l);
      std::swap(dc_l, ndc_l);
    }
  };
  // Every variant without layer norm (team.h): thread (ri, ui) takes rows R and
  // units U (of H) and V (of H_out); its gate pass needs only its own dh, dc and
  // dA columns, so split by units the step has one barrier (before the GEMM reads
  // all of dA; one more with a projection), with whole rows none. With one row block the
  // peephole sums are made in the loop (each unit by one thread, rows in order).
  int64_t row_blocks = 1;  // the layout's row blocks (set by thread 0)
  auto unit_steps = [&](int64_t tid, int64_t nth) {
    const Part part = thread_part(tid, nth, B, H, HO, kLanes<T>, own_rows);
    const bool sync = part.sync;
    if (tid == 0) row_blocks = part.lay.pr;
    const Range rows = part.rows, us = part.us, vs = part.vs;
    const int64_t nr = rows.hi - rows.lo, nu = us.hi - us.lo, nv = vs.hi - vs.lo, u0 = us.lo, v0 = vs.lo;
    const bool sums = peep && part.lay.pr == 1;
    const Peep<T> pwu{pw.ci + u0, pw.cf + u0, pw.co + u0};
    T* const sp = scratch_p + tid * 3 * H;  // the gate pass's own peephole sums (unused here)
    T* const tmp_t = tmp_p + tid * H;
    const Accum<T> acc_t{sp, sp + H, sp + 2 * H, nullptr};
    T* dh_l = dh_p;
    T* ndh_l = ndh_p;
    T* dc_l = dc_p;
    T* ndc_l = ndc_p;
    const auto barrier = [sync] {
      if (sync) {
#pragma omp barrier
      }
    };
    for (int64_t s = S - 1; s >= 0; --s) {
      const int64_t t = time_of(s, S, reverse);
      const int64_t tp = s == 0 ? -1 : time_of(s - 1, S, reverse);
      const T* cpv = tp < 0 ? c0p : cst0 + tp * B * H;
      T* dhp = proj ? dhp0 + t * B * HO : dht_p;
      const int64_t* lr = lens == nullptr ? nullptr : lens + rows.lo;
      const T* zht = zh == nullptr ? nullptr : zh + t * zhs + rows.lo * HO + v0;
      split_dh<T>(dh_l + rows.lo * HO + v0, dy == nullptr ? nullptr : dy + (t * B + rows.lo) * HO + v0, zht, lr, t,
                  nr, nv, dhp + rows.lo * HO + v0, HO);
      if (proj) {  // dh̃[R, U] = dh̃p[R] W_hr[:, U]: needs the whole dh̃p of rows R
        barrier();
        if (nr > 0)
          gemm_nn_part<T>(nr, nu, HO, dhp + rows.lo * HO, HO, 1, whr + u0, H, false, dht_p + rows.lo * H + u0, H, 0, 1);
      }
      for (int64_t b = rows.lo; b < rows.hi; ++b) {
        const int64_t row = t * B + b;
        T* da = da0 + row * GH + u0;
        T* ndcr = ndc_l + b * H + u0;
        const T* dcr = dc_l + b * H + u0;
        if (!runs(lens, b, t)) {
          for (int64_t k = 0; k < G; ++k)
            for (int64_t j = 0; j < nu; ++j) da[k * H + j] = T(0);
          for (int64_t j = 0; j < nu; ++j) ndcr[j] = dcr[j];
          continue;
        }
        const T* act = a0 + row * GH + u0;
        const T* zcr = zc == nullptr ? zr + u0 : zc + t * zcs + b * H + u0;
        const T* cpr = cpv + b * H + u0;
        if (coupled)
          lstm_row_backward<T, true>(act, da, ct0 + row * H + u0, tc0 + row * H + u0, cpr, nullptr, T(0), nullptr,
                                     dht_p + b * H + u0, dcr, zcr, pwu, acc_t, ndcr, tmp_t, H, nu);
        else
          lstm_row_backward<T, false>(act, da, ct0 + row * H + u0, tc0 + row * H + u0, cpr, nullptr, T(0), nullptr,
                                      dht_p + b * H + u0, dcr, zcr, pwu, acc_t, ndcr, tmp_t, H, nu);
        if (sums)
          add_peephole(wci_p + u0, wcf_p + u0, wco_p + u0, coupled ? nullptr : da, da + fo, da + oo, cpr,
                       ct0 + row * H + u0, nu);
      }
      barrier();  // dA[t] is complete before the GEMM reads whole rows of it
      if (nr > 0 && nv > 0)  // dh_{t-1}[R, V] = dA[t][R] W_hh[:, V]
        gemm_nn_part<T>(nr, nv, GH, da0 + (t * B + rows.lo) * GH, GH, 1, whh + v0, HO, false,
                        ndh_l + rows.lo * HO + v0, HO, 0, 1);
      join_dh<T>(ndh_l + rows.lo * HO + v0, dh_l + rows.lo * HO + v0, mrec == nullptr ? nullptr : mrec + rows.lo * HO + v0,
                 zht, lr, t, nr, nv, HO);
      std::swap(dh_l, ndh_l);
      std::swap(dc_l, ndc_l);
    }
  };
  run_team(nt, [&](int64_t tid, int64_t nth) { ln ? steps(tid, nth) : unit_steps(tid, nth); });
  const bool peep_in_loop = ln ? in_loop : row_blocks == 1;
  if (S % 2 == 1) {  // the buffers alternated once per step
    std::swap(dh, ndh);
    std::swap(dc, ndc);
  }
  if (peep && !peep_in_loop) {  // dW_ch: Σ over steps (last to first) and running rows, per unit
    at::parallel_for(0, H, 256, [&](int64_t j0, int64_t j1) {
      for (int64_t s = S - 1; s >= 0; --s) {
        const int64_t t = time_of(s, S, reverse);
        const int64_t tp = s == 0 ? -1 : time_of(s - 1, S, reverse);
        const T* cpv = tp < 0 ? c0p : cst0 + tp * B * H;
        for (int64_t b = 0; b < B; ++b) {
          if (!runs(lens, b, t)) continue;
          const int64_t row = t * B + b;
          const T* da = (ln ? dgp0 : da0) + row * GH;  // before the LN backward
          add_peephole(wci_p + j0, wcf_p + j0, wco_p + j0, coupled ? nullptr : da + j0, da + fo + j0,
                       da + oo + j0, cpv + b * H + j0, ct0 + row * H + j0, j1 - j0);
        }
      }
    });
  }
  if (ln && !ln_in_loop) {  // the gains and biases of LN_gates (G·H) and LN_c (H): Σ over steps (last to first) and running rows
    at::parallel_for(0, GH + H, 256, [&](int64_t j0, int64_t j1) {
      const int64_t g1 = std::min(j1, GH), c0j = std::max(j0, GH) - GH, c1j = j1 - GH;
      for (int64_t s = S - 1; s >= 0; --s) {
        const int64_t t = time_of(s, S, reverse);
        for (int64_t b = 0; b < B; ++b) {
          if (!runs(lens, b, t)) continue;
          const int64_t row = t * B + b;
          if (j0 < g1) add_products(gwa + j0, gba + j0, dgp0 + row * GH + j0, ah0 + row * GH + j0, g1 - j0);
          if (c0j < c1j)
            add_products(dcw_p + c0j, dcb_p + c0j, dcp0 + row * H + c0j, chat0 + row * H + c0j, c1j - c0j);
        }
      }
    });
  }

  at::Tensor dx, dw_ih;
  input_grads(dA, x, w_ih, need_dx, dx, dw_ih);
  at::Tensor h0m = mrec != nullptr ? h0 * *m[M_REC] : h0;
  at::Tensor dw_hh = recurrent_weight_grad(dA, 0, GH, HST, h0m, m[M_REC], reverse);
  at::Tensor db = dA.view({S * B, GH}).sum(0);
  at::Tensor dw_hr;
  if (proj) {  // dW_hr = Σ_t dh̃p[t]ᵀ h̃[t]: (H_out, T·B) x (T·B, H)
    dw_hr = at::empty({HO, H}, opts);
    gemm_nn<T>(HO, H, S * B, dhp0, 1, HO, saved[S_HT]->data_ptr<T>(), H, false, dw_hr.data_ptr<T>(), H);
  }
  const bool bias_ih = has(p[B_IH]), bias_hh = has(p[B_HH]);
  return {dx,
          dh,
          dc,
          dw_ih,
          dw_hh,
          bias_ih ? db : at::Tensor(),
          bias_hh ? db.clone() : at::Tensor(),
          dw_hr,
          peep ? dw_ch : at::Tensor(),
          dgw,
          dgb,
          ln ? dcw : at::Tensor(),
          ln ? dcb : at::Tensor()};
}

}  // namespace

std::vector<at::Tensor> lstm_forward(const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0,
                                     const OptList& p, const OptList& m, const Opt& lengths, bool reverse,
                                     bool coupled, bool keep) {
  std::vector<at::Tensor> out;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstm_forward", [&] {
    out = forward_impl<scalar_t>(x, h0, c0, p, m, lengths, reverse, coupled, keep);
  });
  return out;
}

std::vector<at::Tensor> lstm_backward(const Opt& gy, const Opt& ghn, const Opt& gcn, const at::Tensor& x,
                                      const at::Tensor& h0, const at::Tensor& c0, const OptList& p,
                                      const OptList& m, const Opt& lengths, bool reverse, bool coupled,
                                      const OptList& saved, bool need_dx) {
  std::vector<at::Tensor> out;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lstm_backward", [&] {
    out = backward_impl<scalar_t>(gy, ghn, gcn, x, h0, c0, p, m, lengths, reverse, coupled, saved, need_dx);
  });
  return out;
}

}  // namespace lstmkit_cpu
