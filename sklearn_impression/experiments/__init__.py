"""The paper's ablation study, baselines, reports, plots and the demo."""

from ._ablation import ABLATION_ROWS, AblationResult, ablation_rows, run_ablation
from ._baselines import ConstantPredictor, RidgeBaseline
from ._demo import run_demo
from ._lstm import LSTMBaseline
from ._plots import plot_loss_trends, plot_receiver_ccc, plot_traces
from ._report import markdown_table, write_report
from ._stimulus_mean import StimulusMeanBaseline

__all__ = [
    "ABLATION_ROWS",
    "AblationResult",
    "ConstantPredictor",
    "LSTMBaseline",
    "RidgeBaseline",
    "StimulusMeanBaseline",
    "ablation_rows",
    "markdown_table",
    "plot_loss_trends",
    "plot_receiver_ccc",
    "plot_traces",
    "run_ablation",
    "run_demo",
    "write_report",
]
