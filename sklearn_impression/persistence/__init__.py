"""Pickle-free model files: :func:`save_model` and :func:`load_model`.

The file format (a JSON description plus safetensors tensors), the codec between
estimators and that description, and the one place where models saved by
earlier versions are brought up to date. Torch-free until a network is loaded.
"""

from ._files import load_model, save_model

__all__ = ["load_model", "save_model"]
