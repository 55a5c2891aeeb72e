"""lstmkit: the LSTM family, exactly and fast, and the pipelines that put it to work."""

__version__ = "0.1.0"
