"""The one concordance correlation coefficient of the package (numpy or torch).

:func:`ccc_columns` is the definition used by the metric
(:func:`sklearn_impression.metrics.ccc_score`), the ``task_loss="ccc"`` training
loss and the ``valid_ccc`` history entries
(:func:`sklearn_impression.nn.ccc_per_output`), so the three always agree:

* Lin's CCC with population (biased) moments,
  ``2 cov / (var_t + var_p + (mean_t - mean_p) ** 2)``;
* two columns that are the **same constant** (the denominator is exactly zero)
  score **1.0**, perfect agreement, as ``r2_score(force_finite=True)`` does; a
  constant facing anything else scores 0.0; one frame is a constant column;
* every column is first scaled by a power of two (exact in binary floating point)
  to ``|values| <= 1``, so the squares cannot overflow for huge values;
* deviations are taken from the first row, so an exactly constant column has
  exactly zero variance (no rounding residue of its mean).

With torch tensors the result is differentiable (the training loss); this module
imports torch only when given tensors.
"""

import numpy as np

__all__ = ["ccc_columns"]


def _is_tensor(value):
    return type(value).__module__.split(".")[0] == "torch"


def ccc_columns(y_true, y_pred):
    """CCC of each column of two ``(n, k)`` arrays or tensors, ``n >= 1``.

    Parameters
    ----------
    y_true, y_pred : ndarray or torch.Tensor of shape (n, k)
        Both numpy (float64 is best) or both torch (any float dtype).

    Returns
    -------
    ndarray or torch.Tensor of shape (k,)

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([[1.0, 2.0], [2.0, 2.0], [3.0, 2.0]])
    >>> ccc_columns(t, t).tolist()
    [1.0, 1.0]
    >>> ccc_columns(t, t * 0 + 5.0).tolist()
    [0.0, 0.0]
    >>> ccc_columns(t * 1e300, t * 1e300).tolist()
    [1.0, 1.0]
    """
    if _is_tensor(y_true):
        import torch as xp

        largest = xp.maximum(y_true.detach().abs().amax(0),
                             y_pred.detach().abs().amax(0))
        # A power-of-two factor (torch.ldexp has no gradient), only scaling down:
        # 2 ** -exponent of a tiny column could overflow float32.
        exponent = xp.frexp(largest)[1].clamp(min=0)
        scale = xp.exp2(-exponent.to(xp.float64))
        t = y_true * scale.to(y_true.dtype)
        p = y_pred * scale.to(y_pred.dtype)
    else:
        xp = np
        largest = np.maximum(np.abs(y_true).max(axis=0, initial=0.0),
                             np.abs(y_pred).max(axis=0, initial=0.0))
        exponent = np.frexp(largest)[1]
        t, p = np.ldexp(y_true, -exponent), np.ldexp(y_pred, -exponent)
    n = t.shape[0]
    st, sp = t - t[:1], p - p[:1]  # exactly 0 on a constant column
    mean_st, mean_sp = st.mean(0), sp.mean(0)
    dt, dp = st - mean_st, sp - mean_sp
    numerator = 2.0 * (dt * dp).sum(0)
    denominator = ((dt * dt).sum(0) + (dp * dp).sum(0)
                   + n * ((t[0] - p[0]) + (mean_st - mean_sp)) ** 2)
    zero = denominator == 0
    safe = xp.where(zero, xp.ones_like(denominator), denominator)
    return xp.where(zero, xp.ones_like(denominator), numerator / safe)
