"""lstmkit: the LSTM family, exactly and fast, and the pipelines that put it to work.

The public API: torch.nn-compatible recurrent layers and cells with options
beyond torch, and attention over encoder outputs.
"""

from lstmkit.cells.base import GRUCell, LSTMCell, RNNCell
from lstmkit.exporter import export
from lstmkit.layers.attention import AdditiveAttention, MultiplicativeAttention
from lstmkit.layers.recurrent import GRU, LSTM, RNN

__version__ = "0.1.0"

__all__ = [
    "LSTM",
    "GRU",
    "RNN",
    "LSTMCell",
    "GRUCell",
    "RNNCell",
    "AdditiveAttention",
    "MultiplicativeAttention",
    "export",
    "__version__",
]
