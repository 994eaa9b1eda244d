"""Modalities from column names: how ``load_impression`` splits the columns of a
domain into streams.
"""

from __future__ import annotations

import re

import numpy as np

# Column-name patterns of the tools used for IMPRESSION, checked in this order.
_MODALITY_PATTERNS = (
    ("face", re.compile(r"^(au\d+_[rc]|face)", re.IGNORECASE)),
    ("physio", re.compile(r"bvp|ecg|gsr|eda|ppg|physio|skin_cond|heart",
                          re.IGNORECASE)),
    ("eye", re.compile(r"gaze|eye|pupil|fixation|saccade", re.IGNORECASE)),
    ("audio", re.compile(r"mfcc|voice|voicing|rms|energy|zcr|loudness|f0|pcm_|"
                         r"jitter|shimmer|hnr|audio", re.IGNORECASE)),
)


def _modality_of(name):
    for modality, pattern in _MODALITY_PATTERNS:
        if pattern.search(name):
            return modality
    return None


def _split_columns(domain, names, split_modalities):
    """``[(modality_name, column_indices, channel_names)]`` for one domain's columns."""
    prefix = domain + "."
    if split_modalities and names and all(
        n.startswith(prefix) and n.count(".") >= 2 for n in names
    ):
        keys = [n[len(prefix):].split(".", 1) for n in names]  # written by us
    elif split_modalities and all(_modality_of(n) for n in names):
        keys = [(_modality_of(n), n) for n in names]
    else:
        keys = [("features", n) for n in names]
    groups = {}
    for col, (modality, channel) in enumerate(keys):
        groups.setdefault(prefix + modality, ([], []))
        groups[prefix + modality][0].append(col)
        groups[prefix + modality][1].append(channel)
    return [(m, np.asarray(c), ch) for m, (c, ch) in groups.items()]
