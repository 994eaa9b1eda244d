"""CrossDomainRegressor vs a plain PyTorch loop over the same module (issue 6).

Both train the same :class:`~sklearn_impression.nn.CrossDomainModule` (paper size by
default: 2-layer BLSTM, hidden 64, 16 heads, window 1, 412 emitter + 68 receiver
features) with Adam on the same frames, batch size and loss (task + KD + SE),
``--epochs`` each, interleaved ``--repeats`` times; the best time of each is
reported. The plain loop gets its data already standardised and on the device
(its set-up is not timed); the regressor's time is the whole ``fit``
(validation, standardisation, tensors, skorch). Prediction likewise:
``predict`` vs a ``no_grad`` loop.

Run ``python benchmarks/bench_overhead.py [--device cuda] [--frames 200000]``; prints
JSON with the machine, versions, sizes, frames/s and the ratios.
"""

import argparse
import json
import os
import platform
import time

import numpy as np
import sklearn
import skorch
import torch

from sklearn_impression import DyadicFrames
from sklearn_impression.nn import CrossDomainModule, kd_loss, se_loss, task_loss
from sklearn_impression.regressor import CrossDomainRegressor


def make_data(n_frames, n_emitter=412, n_receiver=68, stimulus_frames=4000, seed=0):
    """Synthetic DyadicFrames: 4 shared emitter blocks, receivers of equal length."""
    rng = np.random.default_rng(seed)
    n_stimuli = 4
    emitters = [rng.standard_normal((stimulus_frames, n_emitter), dtype=np.float32)
                for _ in range(n_stimuli)]
    n_rec = max(1, n_frames // stimulus_frames)
    receivers, index, targets = [], [], []
    for i in range(n_rec):
        s = i % n_stimuli
        r = rng.standard_normal((stimulus_frames, n_receiver), dtype=np.float32)
        y = np.column_stack([r[:, 0] + emitters[s][:, 0], r[:, 1] - emitters[s][:, 1]])
        receivers.append(r)
        targets.append(y.astype(np.float64))
        index.append(s)
    X = DyadicFrames(emitters, receivers, index,
                     [f"e{i}" for i in range(n_emitter)],
                     [f"r{i}" for i in range(n_receiver)])
    return X, targets


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def plain_tensors(X, y, device):
    emitter = torch.as_tensor(np.concatenate(X.emitter_blocks))
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in X.emitter_blocks])[:-1]])
    rows = np.concatenate([offsets[X.emitter_index[i]] + np.arange(len(r))
                           for i, r in enumerate(X.receiver_blocks)])
    receiver = torch.as_tensor(np.concatenate(X.receiver_blocks))

    def z(t):
        return (t - t.mean(0)) / t.std(0).clamp_min(1e-6)

    return (z(emitter).to(device), z(receiver).to(device),
            torch.as_tensor(rows).to(device),
            z(torch.as_tensor(np.concatenate(y), dtype=torch.float32)).to(device))


def plain_fit(tensors, params, batch_size, device, amp, seed=0, epochs=1):
    emitter, receiver, rows, targets = tensors
    torch.manual_seed(seed)
    module = CrossDomainModule(emitter.shape[1], receiver.shape[1], 2,
                               **params).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    module.train()
    n = receiver.shape[0]
    sync(device)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n).to(device)
        for s in range(0, n, batch_size):
            idx = order[s:s + batch_size]
            with torch.autocast(torch.device(device).type, dtype=torch.bfloat16,
                                enabled=amp):
                y_pred, reps = module(emitter[rows[idx]].unsqueeze(1),
                                      receiver[idx].unsqueeze(1))
            loss = (task_loss(y_pred, targets[idx].unsqueeze(1))
                    + kd_loss(reps[0], reps[1]) + se_loss(*reps))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    sync(device)
    return time.perf_counter() - start, module


def plain_predict(tensors, module, batch_size, device, amp):
    emitter, receiver, rows, _ = tensors
    module.eval()
    n = receiver.shape[0]
    out = []
    sync(device)
    start = time.perf_counter()
    with torch.no_grad(), torch.autocast(torch.device(device).type,
                                         dtype=torch.bfloat16, enabled=amp):
        for s in range(0, n, batch_size):
            y_pred, _ = module(emitter[rows[s:s + batch_size]].unsqueeze(1),
                               receiver[s:s + batch_size].unsqueeze(1))
            out.append(y_pred.float().cpu())
    torch.cat(out)
    sync(device)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--frames", type=int, default=48000)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[512])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1,
                        help="epochs per fit (the regressor's set-up is amortised)")
    parser.add_argument("--amp", action="store_true")
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--num-heads", type=int, default=16)
    args = parser.parse_args()
    params = dict(hidden_size=args.hidden_size, num_layers=2, num_heads=args.num_heads,
                  fc_size=16, lstm_dropout=0.5, dropout=0.5)
    X, y = make_data(args.frames)
    tensors = plain_tensors(X, y, args.device)
    n = X.n_frames
    results = []
    for batch_size in args.batch_size:
        fit_plain, fit_reg, pred_plain, pred_reg = [], [], [], []
        for rep in range(args.repeats):
            seconds, module = plain_fit(tensors, params, batch_size, args.device,
                                        args.amp, seed=rep, epochs=args.epochs)
            fit_plain.append(seconds)
            pred_plain.append(plain_predict(tensors, module, batch_size, args.device,
                                            args.amp))
            model = CrossDomainRegressor.paper_preset(
                hidden_size=args.hidden_size, num_heads=args.num_heads,
                max_epochs=args.epochs,
                batch_size=batch_size, validation_fraction=None, device=args.device,
                amp=args.amp, random_state=rep)
            sync(args.device)
            start = time.perf_counter()
            model.fit(X, y)
            sync(args.device)
            fit_reg.append(time.perf_counter() - start)
            start = time.perf_counter()
            model.predict(X)
            pred_reg.append(time.perf_counter() - start)
        row = {
            "batch_size": batch_size,
            "fit_frames_per_s_plain": n * args.epochs / min(fit_plain),
            "fit_frames_per_s_regressor": n * args.epochs / min(fit_reg),
            "fit_ratio": min(fit_plain) / min(fit_reg),
            "predict_frames_per_s_plain": n / min(pred_plain),
            "predict_frames_per_s_regressor": n / min(pred_reg),
            "predict_ratio": min(pred_plain) / min(pred_reg),
            "fit_seconds_plain": fit_plain,
            "fit_seconds_regressor": fit_reg,
        }
        results.append(row)
    print(json.dumps({
        "benchmark": "bench_overhead",
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                    "torch_threads": torch.get_num_threads(),
                    "device": args.device,
                    "gpu": (torch.cuda.get_device_name(0)
                            if args.device.startswith("cuda") else None),
                    "load_average": os.getloadavg()},
        "versions": {"torch": torch.__version__, "skorch": skorch.__version__,
                     "sklearn": sklearn.__version__, "numpy": np.__version__},
        "sizes": {"frames": n, "emitter_rows": int(sum(len(b) for b in
                                                      X.emitter_blocks)),
                  "n_emitter": 412, "n_receiver": 68, "window": 1, **params},
        "amp": args.amp,
        "epochs": args.epochs,
        "results": results,
    }, indent=1))


if __name__ == "__main__":
    main()
