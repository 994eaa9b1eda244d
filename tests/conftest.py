"""Shared fixtures for the test suite.

Keep this module free of torch imports: ``tests/test_import.py`` checks that the
package works without importing torch, and collection must not import it either.
"""

import random
import sys

import numpy as np
import pytest
from hypothesis import settings

SEED = 0

# Property tests are reproducible run to run and leave no .hypothesis/ folder behind.
settings.register_profile(
    "sklearn_impression", database=None, derandomize=True, deadline=None
)
settings.load_profile("sklearn_impression")


@pytest.fixture(autouse=True)
def _seed_everything():
    """Seed Python, numpy and (only when torch is already loaded) torch per test."""
    random.seed(SEED)
    np.random.seed(SEED)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(SEED)
    yield


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny fits run on one torch thread.

    On a 2-core machine torch's default intra-op threads make tiny fits many times
    slower (thread start-up dominates, and pytest-xdist or other processes
    oversubscribe the cores). The previous setting is restored afterwards.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def rng():
    """A fresh, seeded ``numpy.random.Generator`` for the test."""
    return np.random.default_rng(SEED)


# Shared data fixtures (e.g. a session-scoped tiny ``make_impression`` bunch) go below.
