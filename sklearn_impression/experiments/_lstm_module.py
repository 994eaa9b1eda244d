"""The torch module of :class:`LSTMBaseline` (imports torch; load lazily)."""

from ..utils._torch import import_torch

torch = import_torch()


class LSTMRegressorModule(torch.nn.Module):
    """LSTM over windows of frames, a linear output per frame."""

    def __init__(self, n_features, n_outputs, hidden_size, num_layers, dropout,
                 bidirectional):
        super().__init__()
        self.lstm = torch.nn.LSTM(
            n_features, hidden_size, num_layers, batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional,
        )
        self.head = torch.nn.Linear(hidden_size * (2 if bidirectional else 1),
                                    n_outputs)

    def forward(self, emitter, receiver, mask=None):
        """Per-frame outputs of a batch of :class:`~..nn.FrameDataset` windows."""
        x = torch.cat([emitter, receiver], dim=-1)
        return self.head(self.lstm(x)[0])
