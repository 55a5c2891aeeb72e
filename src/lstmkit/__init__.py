"""lstmkit: the LSTM family, exactly and fast, and the pipelines that put it to work.

The public API: torch.nn-compatible recurrent layers and cells with options
beyond torch, and attention over encoder outputs.
"""

from lstmkit.cells.base import GRUCell, LSTMCell, RNNCell
from lstmkit.cells.convlstm import ConvGRUCell, ConvLSTMCell
from lstmkit.cells.minrnn import MinGRUCell, MinLSTMCell
from lstmkit.cells.mlstm import MLSTMCell
from lstmkit.cells.slstm import SLSTMCell
from lstmkit.exporter import export
from lstmkit.layers.attention import AdditiveAttention, MultiplicativeAttention
from lstmkit.layers.conv_recurrent import ConvGRU, ConvLSTM
from lstmkit.layers.minrnn import MinGRU, MinLSTM
from lstmkit.layers.recurrent import GRU, LSTM, RNN
from lstmkit.layers.xlstm import MLSTM, SLSTM

__version__ = "0.1.0"

__all__ = [
    "LSTM",
    "GRU",
    "RNN",
    "LSTMCell",
    "GRUCell",
    "RNNCell",
    "MinGRU",
    "MinLSTM",
    "MinGRUCell",
    "MinLSTMCell",
    "SLSTM",
    "MLSTM",
    "SLSTMCell",
    "MLSTMCell",
    "ConvLSTM",
    "ConvGRU",
    "ConvLSTMCell",
    "ConvGRUCell",
    "AdditiveAttention",
    "MultiplicativeAttention",
    "export",
    "__version__",
]
