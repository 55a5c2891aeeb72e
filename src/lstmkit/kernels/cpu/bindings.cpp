// Python bindings of the fused CPU kernels (the only file that includes pybind11).
#include <torch/extension.h>

#include "common.h"
#include "team.h"

#include <chrono>

namespace lstmkit_cpu {
std::vector<at::Tensor> lstm_forward(const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0,
                                     const OptList& p, const OptList& m, const Opt& lengths, bool reverse,
                                     bool coupled, bool keep);
std::vector<at::Tensor> lstm_backward(const Opt& gy, const Opt& ghn, const Opt& gcn, const at::Tensor& x,
                                      const at::Tensor& h0, const at::Tensor& c0, const OptList& p,
                                      const OptList& m, const Opt& lengths, bool reverse, bool coupled,
                                      const OptList& saved, bool need_dx);
std::vector<at::Tensor> gru_rnn_forward(const at::Tensor& x, const at::Tensor& h0, const OptList& p,
                                        const OptList& m, const Opt& lengths, bool reverse, int64_t kind);
std::vector<at::Tensor> gru_rnn_backward(const Opt& gy, const Opt& ghn, const at::Tensor& x, const at::Tensor& h0,
                                         const OptList& p, const OptList& m, const Opt& lengths, bool reverse,
                                         int64_t kind, const OptList& saved, bool need_dx);
Team forward_team(int64_t B, int64_t H, int64_t HO, int64_t G, bool ln, int64_t elem);
Team backward_team(int64_t B, int64_t H, int64_t HO, int64_t G, bool ln, int64_t elem);
}  // namespace lstmkit_cpu

namespace {
// Best-of-`reps` wall time (µs) of one float32 C (m x n) += A (m x k) · Wᵀ (W: n x k) with the
// register-blocked kernel (on Wᵀ packed beforehand) and with the BLAS torch links (MKL here),
// at torch's current thread count: the measurement behind using the register-blocked kernel
// for the per-step recurrent GEMM in inference too. Returns [blocked_us, blas_us, blas_found].
std::vector<double> gemm_probe(int64_t m, int64_t n, int64_t k, int64_t reps) {
  using clock = std::chrono::steady_clock;
  at::Tensor a = at::randn({m, k}), w = at::randn({n, k}), c = at::zeros({m, n});
  at::Tensor wt = w.t().contiguous();
  const float* ap = a.data_ptr<float>();
  float* cp = c.data_ptr<float>();
  double best[2] = {1e30, 1e30};
  for (int64_t r = 0; r < reps + 1; ++r) {  // the first round warms up
    for (int which = 0; which < 2; ++which) {
      const auto start = clock::now();
      if (which == 0)
        lstmkit_cpu::gemm_nn<float>(m, n, k, ap, k, 1, wt.data_ptr<float>(), n, true, cp, n);
      else
        lstmkit_cpu::gemm<float>(true, m, n, k, ap, k, w.data_ptr<float>(), k, 1.0f, cp, n);
      const double us = std::chrono::duration<double, std::micro>(clock::now() - start).count();
      if (r > 0) best[which] = std::min(best[which], us);
    }
  }
  return {best[0], best[1], lstmkit_cpu::blas_sgemm() != nullptr ? 1.0 : 0.0};
}
}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, module) {
  module.doc() = "lstmkit fused CPU kernels: LSTM (every option), GRU and RNN, forward and backward through time";
  module.def("lstm_forward", &lstmkit_cpu::lstm_forward);
  module.def("lstm_backward", &lstmkit_cpu::lstm_backward);
  module.def("gru_rnn_forward", &lstmkit_cpu::gru_rnn_forward);
  module.def("gru_rnn_backward", &lstmkit_cpu::gru_rnn_backward);
  // How many threads one LSTM layer call splits its steps across (team.h): for tests and benchmarks.
  module.def("team_size", [](int64_t work, int64_t rows) { return lstmkit_cpu::team_size(work, rows); },
             "threads of the in-step team for `work` multiply-adds per step over `rows` batch rows");
  module.def(
      "lstm_team",
      [](int64_t batch, int64_t hidden, int64_t hidden_out, bool coupled, bool layer_norm, bool backward,
         bool float64) {
        const int64_t g = coupled ? 3 : 4, elem = float64 ? 8 : 4;
        const lstmkit_cpu::Team team =
            backward ? lstmkit_cpu::backward_team(batch, hidden, hidden_out, g, layer_norm, elem)
                     : lstmkit_cpu::forward_team(batch, hidden, hidden_out, g, layer_norm, elem);
        return std::make_tuple(team.threads, team.own_rows, team.proj_steps);
      },
      "(threads, whole rows per thread, steps whose inputs a thread projects at a time; 0: all before "
      "the loop) of a long sequence's LSTM layer call at torch's thread count");
  module.def("gemm_probe", &gemm_probe, "best-of-reps µs of C += A·Wᵀ: [register-blocked, BLAS, BLAS found]");
  // The source key the build was made from (see buildinfo.py); the loader rejects a mismatch.
#ifdef LSTMKIT_BUILD_KEY
#define LSTMKIT_STR2(v) #v
#define LSTMKIT_STR(v) LSTMKIT_STR2(v)
  module.attr("build_key") = LSTMKIT_STR(LSTMKIT_BUILD_KEY);
#else
  module.attr("build_key") = "";
#endif
}
