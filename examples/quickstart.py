"""lstmkit in one screen: a drop-in for torch.nn.LSTM, the variants, lengths, gates.

Run: python examples/quickstart.py
"""

import torch

import lstmkit

torch.manual_seed(0)

# 1. A drop-in: same arguments, same state_dict, same outputs as torch.nn.LSTM.
theirs = torch.nn.LSTM(input_size=10, hidden_size=20, num_layers=2, batch_first=True)
ours = lstmkit.LSTM(input_size=10, hidden_size=20, num_layers=2, batch_first=True)
ours.load_state_dict(theirs.state_dict())
x = torch.randn(3, 5, 10)
output, (h_n, c_n) = ours(x)
print(f"max |lstmkit - torch| = {(output - theirs(x)[0]).abs().max().item():.1e}")

# 2. Variants torch.nn lacks, combined, with true lengths instead of packing.
model = lstmkit.LSTM(10, 20, num_layers=2, bidirectional=True, batch_first=True,
                     peephole=True, layer_norm=True, zoneout=0.1, forget_bias=1.0)
output, (h_n, c_n) = model(x, lengths=[5, 2, 4])
print("output", tuple(output.shape), "| padding is zero:", bool((output[1, 2:] == 0).all()))

# 3. Every gate at every step, for inspection.
_, _, gates = model(x, lengths=[5, 2, 4], return_gates=True)
print("forget gate of layer 0, sequence 0:", gates["l0"]["f"][0].mean(dim=1))
