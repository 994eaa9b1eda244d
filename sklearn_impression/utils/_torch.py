"""Gate for the optional-at-import torch dependency."""

MIN_TORCH = (2, 1)


def import_torch():
    """Import torch, or raise an ImportError that says what to install."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised via monkeypatch
        raise ImportError(
            "sklearn-impression needs PyTorch for CrossDomainRegressor and "
            "sklearn_impression.nn. Install the CPU build with "
            "'pip install torch' (or 'pip install torch==2.13.0' where that "
            "wheel is cached), or see https://pytorch.org for CUDA builds."
        ) from exc
    version = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2])
    if version < MIN_TORCH:  # pragma: no cover
        raise ImportError(
            f"sklearn-impression needs torch >= {'.'.join(map(str, MIN_TORCH))}, "
            f"found {torch.__version__}"
        )
    return torch
