// Python bindings of the fused CPU kernels (the only file that includes pybind11).
#include <torch/extension.h>

#include "common.h"
#include "team.h"

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
}  // namespace lstmkit_cpu

PYBIND11_MODULE(TORCH_EXTENSION_NAME, module) {
  module.doc() = "lstmkit fused CPU kernels: LSTM (every option), GRU and RNN, forward and backward through time";
  module.def("lstm_forward", &lstmkit_cpu::lstm_forward);
  module.def("lstm_backward", &lstmkit_cpu::lstm_backward);
  module.def("gru_rnn_forward", &lstmkit_cpu::gru_rnn_forward);
  module.def("gru_rnn_backward", &lstmkit_cpu::gru_rnn_backward);
  // How many threads one LSTM layer call splits its steps across (team.h): for tests and benchmarks.
  module.def("team_size", [](int64_t work, int64_t rows) { return lstmkit_cpu::team_size(work, rows); },
             "threads of the in-step team for `work` multiply-adds per step over `rows` batch rows");
  // The source key the build was made from (see buildinfo.py); the loader rejects a mismatch.
#ifdef LSTMKIT_BUILD_KEY
#define LSTMKIT_STR2(v) #v
#define LSTMKIT_STR(v) LSTMKIT_STR2(v)
  module.attr("build_key") = LSTMKIT_STR(LSTMKIT_BUILD_KEY);
#else
  module.attr("build_key") = "";
#endif
}
