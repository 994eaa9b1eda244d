"""The cross-domain network of Li & Lai (2022), paper section 4.

One bidirectional LSTM per domain, multi-head intra- and inter-attention, fusion by
concatenation and a small fully connected head with one output unit per target.
"""

from ..utils._torch import import_torch

torch = import_torch()
nn = torch.nn
F = torch.nn.functional

__all__ = ["CrossDomainModule", "REPRESENTATIONS"]

#: Names of the four attention outputs, in the order the module returns them.
REPRESENTATIONS = ("emitter", "receiver", "emitter_to_receiver", "receiver_to_emitter")


def _cpu_autocast_enabled():
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:  # torch < 2.4 has no device argument
        return torch.is_autocast_cpu_enabled()


class CrossDomainModule(nn.Module):
    """Cross-domain attention network over emitter and receiver frames.

    ``forward(emitter, receiver, mask=None)`` takes ``(batch, time, n_features)``
    tensors of one domain each and returns ``(y_pred, representations)``:

    * ``y_pred`` of shape ``(batch, time, n_outputs)``: one prediction per time step
      (with ``time == 1`` this is the paper's frame-level model);
    * ``representations``: the tuple ``(H^e, H^r, H^{e->r}, H^{r->e})``, each of
      shape ``(batch, time, 2 * hidden_size)``, where ``H^e = Attn(e, e, e)``,
      ``H^r = Attn(r, r, r)``, ``H^{e->r} = Attn(e, r, r)`` (emitter queries,
      receiver keys and values) and ``H^{r->e} = Attn(r, e, e)``.

    The representations enabled by ``intra`` and ``inter`` are concatenated on the
    feature axis at every time step and fed to ``Linear(fc_size)``-ReLU-Dropout-
    ``Linear(n_outputs)``. Disabled ones are left out of the concatenation only: they
    are still computed, so the KD and SE losses can be computed and logged
    (paper section 5.2, "removed from concatenation").

    The released code concatenates the four along the sequence axis and mean-pools
    them (a ``Linear(128, 16)`` head); here they are concatenated along the feature
    axis as the paper's text and figure say, which keeps one output per time step for
    ``window > 1``.

    Parameters
    ----------
    n_emitter_features, n_receiver_features : int
        Input widths ``n_e`` and ``n_r`` (412 and 68 in the paper).
    n_outputs : int, default=2
        Output units (competence and warmth).
    hidden_size : int, default=64
        LSTM hidden size per direction; the attention width is ``2 * hidden_size``.
    num_layers : int, default=2
    lstm_dropout : float, default=0.5
        Dropout between LSTM layers (ignored with one layer).
    num_heads : int, default=16
        Attention heads; must divide ``2 * hidden_size``.
    fc_size : int, default=16
    dropout : float, default=0.5
        Dropout after the ReLU of the head.
    intra, inter : bool, default=True
        Put the intra- / inter-attention outputs into the concatenation.
    shared_attention : bool, default=True
        One attention module for all four calls, as in the released code; ``False``
        gives each call its own parameters.
    single_step_shortcut : bool, default=True
        With a single time step the attention softmax has one key and equals 1, so
        attention is exactly ``out_proj(v_proj(value))``. The shortcut computes that
        directly (same parameters, outputs and gradients; the query/key projections
        get zero gradient either way) and is about three times faster on CPU.
    n_listeners : int, default=0
        Listener adaptation (Li, Bell & Lai, ICASSP 2023): with ``n_listeners > 0``
        an ``Embedding(n_listeners + 1, 2 * hidden_size)`` (``listener``, zero
        initialised) holds one learned vector per receiver, row 0 being the
        population vector; it enters after the receiver LSTM and before attention,
        ``x_r = (LSTM(r) + v_listener) / 2``. 0 leaves the network receiver-blind.
    listener_dropout : float, default=0.2
        In training, the probability that a unit (frame or window) uses the
        population row instead of its receiver's, so that row is trained for
        receivers the model has not seen.
    emitter_dropout : float in [0, 1), default=0.0
        In training, the probability that a unit (frame or window) sees an
        emitter input of zeros (the training mean of standardised features)
        instead of its own, so the network cannot rely on recognising the
        stimulus from the emitter's features and learns to read the receiver's
        reactions, which carry over to content never seen.
    attention_span : int or None, default=None
        Attend within blocks of this many consecutive time steps instead of over
        the whole sequence (``None``). The LSTMs still run over the whole
        sequence, so long windows keep their context while the attention's cost
        stays linear in the window length instead of quadratic.

    Examples
    --------
    >>> import torch
    >>> net = CrossDomainModule(5, 3, hidden_size=4, num_heads=2, num_layers=1)
    >>> y, reps = net(torch.zeros(7, 1, 5), torch.zeros(7, 1, 3))
    >>> tuple(y.shape), len(reps), tuple(reps[0].shape)
    ((7, 1, 2), 4, (7, 1, 8))
    """

    def __init__(self, n_emitter_features, n_receiver_features, n_outputs=2, *,
                 hidden_size=64, num_layers=2, lstm_dropout=0.5, num_heads=16,
                 fc_size=16, dropout=0.5, intra=True, inter=True,
                 shared_attention=True, single_step_shortcut=True, n_listeners=0,
                 listener_dropout=0.2, attention_span=None, emitter_dropout=0.0):
        super().__init__()
        width = 2 * hidden_size
        if width % num_heads:
            raise ValueError(
                f"num_heads={num_heads} must divide the attention width "
                f"2 * hidden_size = {width}"
            )
        if not (intra or inter):
            raise ValueError("at least one of intra and inter must be enabled")
        self.intra = bool(intra)
        self.inter = bool(inter)
        self.shared_attention = bool(shared_attention)
        self.single_step_shortcut = bool(single_step_shortcut)
        if attention_span is not None and attention_span < 1:
            raise ValueError(f"attention_span must be >= 1, got {attention_span}")
        self.attention_span = attention_span
        lstm = dict(hidden_size=hidden_size, num_layers=num_layers, batch_first=True,
                    bidirectional=True,
                    dropout=lstm_dropout if num_layers > 1 else 0.0)
        self.emitter_lstm = nn.LSTM(n_emitter_features, **lstm)
        self.receiver_lstm = nn.LSTM(n_receiver_features, **lstm)
        if self.shared_attention:
            self.attention = nn.MultiheadAttention(width, num_heads, batch_first=True)
        else:
            self.attention = nn.ModuleDict({
                name: nn.MultiheadAttention(width, num_heads, batch_first=True)
                for name in REPRESENTATIONS
            })
        self.listener_dropout = float(listener_dropout)
        if not 0 <= emitter_dropout < 1:
            raise ValueError(
                f"emitter_dropout must be in [0, 1), got {emitter_dropout}")
        self.emitter_dropout = float(emitter_dropout)
        self.listener = None
        if n_listeners:
            self.listener = nn.Embedding(int(n_listeners) + 1, width)
            nn.init.zeros_(self.listener.weight)
        n_fused = 2 * (int(self.intra) + int(self.inter))
        self.head = nn.Sequential(
            nn.Linear(n_fused * width, fc_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(fc_size, n_outputs),
        )

    @staticmethod
    def _run_lstm(lstm, x):
        # Under CPU autocast a bfloat16 LSTM needs oneDNN's AVX-512-BF16/AMX kernels
        # and dies on AVX2-only CPUs; where it runs it was no faster than float32
        # (docs/performance.rst). So on CPU the LSTMs always run in float32, and
        # autocast resumes for the attention and the head.
        if x.device.type == "cpu" and _cpu_autocast_enabled():
            with torch.autocast("cpu", enabled=False):
                return lstm(x.float())[0]
        return lstm(x)[0]

    def _attend(self, attention, query, value, key_padding_mask):
        if self.single_step_shortcut and value.shape[1] == 1:
            width = attention.embed_dim
            hidden = F.linear(value, attention.in_proj_weight[2 * width:],
                              attention.in_proj_bias[2 * width:])
            return attention.out_proj(hidden)
        span = self.attention_span
        if span is not None and value.shape[1] > span:
            return self._attend_blocks(attention, query, value, key_padding_mask, span)
        # need_weights=False: the fused scaled-dot-product kernel, not the
        # slower path that materialises and averages the attention weights
        return attention(query, value, value, key_padding_mask=key_padding_mask,
                         need_weights=False)[0]

    def _attend_blocks(self, attention, query, value, key_padding_mask, span):
        """Attention within consecutive blocks of ``span`` steps (padded at the end)."""
        steps = query.shape[1]
        (query, value), padding = _to_blocks((query, value), key_padding_mask, span)
        width = attention.embed_dim
        weight, bias = attention.in_proj_weight, attention.in_proj_bias
        q = _split_heads(F.linear(query, weight[:width], bias[:width]),
                         attention.num_heads)
        k, v = (_split_heads(t, attention.num_heads) for t in
                F.linear(value, weight[width:], bias[width:]).chunk(2, dim=-1))
        return _from_blocks(attention.out_proj(_merge_heads(
            _block_attention(q, k, v, padding))), steps)

    def _attend_pairs_in_blocks(self, z_e, z_r, key_padding_mask, span):
        """The four shared-weight attentions within blocks, projecting each domain once.

        ``Attn(e, e, e)``, ``Attn(r, r, r)``, ``Attn(e, r, r)`` and ``Attn(r, e, e)``
        need the query, key and value projections of ``z_e`` and ``z_r`` only once
        each; projecting the four (query, value) pairs would do it twice.
        """
        attention = self.attention
        steps = z_e.shape[1]
        (z_e, z_r), padding = _to_blocks((z_e, z_r), key_padding_mask, span)
        # (2 domains, batch, blocks, span, 3 * width) -> q, k, v, each of
        # (2, batch, blocks, heads, span, size)
        qkv = F.linear(torch.stack([z_e, z_r]), attention.in_proj_weight,
                       attention.in_proj_bias)
        q, k, v = (_split_heads(t, attention.num_heads) for t in qkv.chunk(3, dim=-1))
        # queries e, r, e, r against keys and values e, r, r, e
        out = _block_attention(torch.cat([q, q]), torch.stack([k[0], k[1], k[1], k[0]]),
                               torch.stack([v[0], v[1], v[1], v[0]]), padding)
        return tuple(_from_blocks(attention.out_proj(_merge_heads(out)), steps)
                     .unbind(0))

    def forward(self, emitter, receiver, mask=None, listener=None):
        """Predict every time step; also return the four representations.

        Parameters
        ----------
        emitter : tensor of shape (batch, time, n_emitter_features)
        receiver : tensor of shape (batch, time, n_receiver_features)
        mask : bool tensor of shape (batch, time), default=None
            ``True`` for real frames, ``False`` for padding (padded keys are
            ignored by the attention). ``None`` means all frames are real.
        listener : int64 tensor of shape (batch, time), default=None
            Row of the listener table per frame (0: population vector); ignored
            without listener adaptation, all zeros when ``None``.
        """
        if self.training and self.emitter_dropout > 0:
            emitter = drop_units(emitter, self.emitter_dropout)
        z_e, z_r = self.encode(emitter, receiver)
        if self.listener is not None:
            if listener is None:
                listener = torch.zeros(z_r.shape[:2], dtype=torch.int64,
                                       device=z_r.device)
            elif self.training and self.listener_dropout > 0:
                drop = torch.rand(listener.shape[0], 1, device=listener.device)
                listener = listener.masked_fill(drop < self.listener_dropout, 0)
            z_r = self.listen(z_r, self.listener(listener))
        return self.decode(z_e, z_r, mask)

    def encode(self, emitter, receiver):
        """The two LSTM encodings ``(z_e, z_r)``, before listener and attention."""
        z_e = self._run_lstm(self.emitter_lstm, emitter)
        z_r = self._run_lstm(self.receiver_lstm, receiver)
        return z_e, z_r

    @staticmethod
    def listen(z_r, vectors):
        """Average the receiver encoding with listener vectors (the authors' way)."""
        return (z_r + vectors) / 2

    def decode(self, z_e, z_r, mask=None):
        """Attention and head on encodings: ``(y_pred, representations)``."""
        padding = None if mask is None else ~mask
        span = self.attention_span
        if self.shared_attention and span is not None and z_e.shape[1] > span:
            reps = self._attend_pairs_in_blocks(z_e, z_r, padding, span)
        elif self.shared_attention:
            # The four calls share weights: one call on a 4x batch is faster.
            query = torch.cat([z_e, z_r, z_e, z_r])
            value = torch.cat([z_e, z_r, z_r, z_e])
            if padding is not None:
                padding = torch.cat([padding, padding, padding, padding])
            reps = self._attend(self.attention, query, value, padding).chunk(4)
        else:
            pairs = ((z_e, z_e), (z_r, z_r), (z_e, z_r), (z_r, z_e))
            reps = tuple(
                self._attend(self.attention[name], q, v, padding)
                for name, (q, v) in zip(REPRESENTATIONS, pairs, strict=True)
            )
        fused = []
        if self.intra:
            fused += reps[:2]
        if self.inter:
            fused += reps[2:]
        return self.head(torch.cat(fused, dim=-1)), tuple(reps)


def drop_units(x, p):
    """``x`` of shape ``(batch, time, width)`` with whole units (rows of the
    batch) set to zero with probability ``p``; the others unchanged."""
    keep = torch.rand(x.shape[0], 1, 1, device=x.device) >= p
    return x * keep.to(x.dtype)


def _to_blocks(tensors, key_padding_mask, span):
    """Pad ``(batch, steps, width)`` tensors to whole blocks of ``span`` steps.

    Returns the tensors as ``(batch, blocks, span, width)`` and the key padding mask
    as ``(batch, blocks, 1, 1, span)`` (``None`` when nothing is padded), ready to
    broadcast over heads and queries. A block of padding only attends to all its
    keys instead of none (which would give NaN); its outputs are ignored.
    """
    batch, steps, _ = tensors[0].shape
    extra = -steps % span
    padding = key_padding_mask
    if extra:
        if padding is None:
            padding = torch.zeros(batch, steps, dtype=torch.bool,
                                  device=tensors[0].device)
        padding = torch.cat([padding, padding.new_ones(batch, extra)], 1)
        tensors = [F.pad(t, (0, 0, 0, extra)) for t in tensors]
    blocks = (steps + extra) // span
    tensors = [t.reshape(batch, blocks, span, t.shape[-1]) for t in tensors]
    if padding is not None:
        padding = padding.reshape(batch, blocks, span)
        padding = (padding & ~padding.all(dim=-1, keepdim=True))[:, :, None, None]
    return tensors, padding


def _from_blocks(x, steps):
    """``(..., blocks, span, width)`` back to ``(..., steps, width)``, padding cut."""
    return x.flatten(-3, -2)[..., :steps, :]


def _split_heads(x, heads):
    """``(..., span, width)`` -> ``(..., heads, span, width // heads)``."""
    return x.unflatten(-1, (heads, -1)).transpose(-2, -3)


def _merge_heads(x):
    """``(..., heads, span, size)`` -> ``(..., span, heads * size)``."""
    return x.transpose(-2, -3).flatten(-2)


def _block_attention(q, k, v, key_padding_mask):
    """Scaled dot-product attention of ``(..., heads, span, size)`` blocks.

    The result of :class:`torch.nn.MultiheadAttention` without dropout, between its
    projections; on short blocks plain matrix products beat the fused kernel.
    """
    scores = (q * q.shape[-1] ** -0.5) @ k.transpose(-1, -2)
    if key_padding_mask is not None:
        scores = scores.masked_fill(key_padding_mask, float("-inf"))
    return scores.softmax(dim=-1) @ v
