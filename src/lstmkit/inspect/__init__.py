"""Inspection: gate and cell-state traces of a recurrent layer, as numbers and plots."""

from lstmkit.inspect.plots import plot_gates, plot_saturation
from lstmkit.inspect.traces import GateTrace, saturation, trace

__all__ = ["GateTrace", "trace", "saturation", "plot_gates", "plot_saturation"]
