"""Mixed precision: its effect on CCC and speed (issue 6).

Trains :class:`~sklearn_impression.CrossDomainRegressor` twice on the same
leave-receivers-out split of ``make_impression`` data, with ``amp=False`` and
``amp=True`` (bf16 autocast on CUDA), same seed, and prints JSON with the test CCC per
dimension, the fit time and the frames/s of each.

Run ``python benchmarks/bench_amp.py --device cuda [--receivers 10 --epochs 4]``.
On CPU ``amp=True`` runs the LSTMs in float32 outside autocast (a bfloat16 LSTM
needs AVX-512-BF16 or AMX); where the CPU has those, a third row trains with the
LSTMs under autocast in bfloat16, the behaviour before that choice, to compare.
"""

import argparse
import json
import platform
import time

import numpy as np
import torch
from sklearn.model_selection import GroupKFold

from sklearn_impression import (
    CrossDomainRegressor,
    ModalityConcatenator,
    Resampler,
    ccc_score,
    make_impression,
)
from sklearn_impression.nn import CrossDomainModule

_default_lstm = CrossDomainModule._run_lstm


def _plain_lstm(lstm, x):
    return lstm(x)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available()
                        else "cpu")
    parser.add_argument("--receivers", type=int, default=10)
    parser.add_argument("--stimuli", type=int, default=4)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    data = make_impression(args.receivers, args.stimuli, args.duration,
                           random_state=args.seed)
    frames = ModalityConcatenator().fit_transform(
        Resampler().fit_transform(data.recordings))
    n_splits = min(5, len(set(data.receivers.tolist())))
    train, test = next(GroupKFold(n_splits).split(frames, groups=data.receivers))
    y_train = [data.targets[i] for i in train]
    y_test = [data.targets[i] for i in test]
    n_train = int(sum(len(y) for y in y_train))
    variants = [("float32", False, None), ("amp, LSTM float32", True, None)]
    cpu_bf16 = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    if args.device == "cpu" and cpu_bf16:
        variants.append(("amp, LSTM bfloat16", True, _plain_lstm))
    rows = []
    for label, amp, run_lstm in variants:
        if run_lstm is not None:
            CrossDomainModule._run_lstm = staticmethod(run_lstm)
        model = CrossDomainRegressor.paper_preset(
            hidden_size=32, num_heads=4, window=args.window,
            batch_size=args.batch_size, max_epochs=args.epochs, device=args.device,
            amp=amp, random_state=args.seed)
        start, cpu_start = time.perf_counter(), time.process_time()
        model.fit(frames[train], y_train)
        fit_s = time.perf_counter() - start
        cpu_s = time.process_time() - cpu_start
        CrossDomainModule._run_lstm = staticmethod(_default_lstm)
        pred = model.predict(frames[test])
        ccc = np.asarray(ccc_score(y_test, pred, multioutput="raw_values"))
        rows.append({"variant": label, "amp": amp,
                     "ccc": dict(zip(data.target_names, ccc.round(4).tolist(),
                                     strict=True)),
                     "fit_s": round(fit_s, 2), "fit_cpu_s": round(cpu_s, 2),
                     "train_frames_per_s": round(n_train * args.epochs / fit_s)})
    print(json.dumps({
        "benchmark": "bench_amp",
        "machine": {"platform": platform.platform(), "device": args.device,
                    "gpu": torch.cuda.get_device_name(0)
                    if torch.cuda.is_available() else None,
                    "torch": torch.__version__,
                    "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                    "onednn_bf16": cpu_bf16, "threads": torch.get_num_threads()},
        "protocol": f"leave-receivers-out, first fold of GroupKFold({n_splits}) by "
                    "receiver",
        "data": {"name": f"make_impression({args.receivers}, {args.stimuli}, "
                         f"{args.duration:g}, random_state={args.seed})",
                 "n_recordings": len(frames), "n_frames": frames.n_frames,
                 "train_frames": n_train},
        "settings": vars(args),
        "rows": rows,
    }))


if __name__ == "__main__":
    main()
