"""Classification of multivariate numeric sequences: `SeqClass` and its parts (see `api`)."""

from lstmkit._extras import require

require("train", feature="lstmkit.tasks.seqclass")  # one line naming the extra, not a deep ImportError

from lstmkit.tasks.seqclass.api import SeqClass, classification_metrics
from lstmkit.tasks.seqclass.config import SeqClassConfig, SeqClassDataConfig, SeqClassModelConfig
from lstmkit.tasks.seqclass.data import Preprocessor, Sequences, read_sequences
from lstmkit.tasks.seqclass.model import SeqClassNet
from lstmkit.tasks.seqclass.streaming import early_accuracy, plot_early_accuracy

__all__ = ["SeqClass", "SeqClassConfig", "SeqClassModelConfig", "SeqClassDataConfig", "SeqClassNet",
           "Preprocessor", "Sequences", "read_sequences", "classification_metrics", "early_accuracy",
           "plot_early_accuracy"]
