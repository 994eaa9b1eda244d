"""Every published figure, written from the JSON in ``benchmarks/results/``.

The README and the documentation quote measurements only inside marked blocks
that this script writes:

* in ``README.md``: ``<!-- figures: NAME -->`` ... ``<!-- /figures -->`` (a
  table, or a phrase inside a sentence);
* in ``docs/**/*.rst``: the comment lines ``.. figures: NAME`` ... ``..
  /figures`` around a table or around substitution definitions (``..
  |name| replace:: 0.123``) that the page's prose uses as ``|name|``;
* whole files: ``docs/user_guide/new_content_tables.rst``.

``NAME`` is a key of :data:`BLOCKS`. ``tests/test_figures.py`` renders every
block again and fails when one character differs, and fails on a number that
looks measured (three decimals, frames/s, GB, MB, ``Nx``) outside a block unless
it is listed in :data:`NOT_MEASURED` with the reason, so a figure cannot drift
from its evidence. ``docs/figures.rst`` lists each block, where it appears, its
JSON files and their commands (that list is a block too).

Run after a new benchmark::

    python benchmarks/render_figures.py          # rewrite every block in place
    python benchmarks/render_figures.py --check  # exit 1 and name what differs

Torch-free: it reads JSON only.
"""

import importlib.util
import json
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"


def _sibling(name):
    """A script of this folder as a module (no change to ``sys.path``)."""
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nct = _sibling("new_content_tables")

#: Files that may hold figure blocks.
DOCUMENTS = ("README.md", "docs/*.rst", "docs/user_guide/*.rst")
MD_BLOCK = re.compile(
    r"<!-- figures: (?P<name>[\w-]+) -->(?P<body>.*?)<!-- /figures -->", re.S)
RST_BLOCK = re.compile(
    r"^\.\. figures: (?P<name>[\w-]+)\n(?P<body>.*?)^\.\. /figures$", re.S | re.M)


def load(name, results=RESULTS):
    return json.loads((Path(results) / name).read_text())


# --- formatting ------------------------------------------------------------

def f3(x):
    return f"{x:.3f}"


def s3(x):
    return f"{x:+.3f}"


def grouped(x):
    """A whole number with thousands separators: 12,345."""
    return f"{round(x):,}"


def span(values, fmt=f3, sep=" to "):
    """``lo to hi`` of the values as formatted (one value when they agree)."""
    lo, hi = fmt(min(values)), fmt(max(values))
    return lo if lo == hi else f"{lo}{sep}{hi}"


def dash(values, fmt=f3):
    return span(values, fmt, "-")


def _and(words):
    """``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def subs(pairs):
    """reST substitution definitions, one a line."""
    return "\n".join(f".. |{name}| replace:: {value}" for name, value in pairs)


def list_table(header, rows):
    return "\n".join(nct._list_table(header, rows)).rstrip("\n")


def md_table(header, rows, right=None):
    right = set(range(1, len(header))) if right is None else set(right)
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---:" if i in right else "---"
                               for i in range(len(header))) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def load_avg(record):
    """The 1-minute load averages before and after a kept run: ``1.2-1.9``."""
    m = record["machine"]
    return dash([m["load_average_before"][0], m["load_average_after"][0]],
                lambda x: f"{x:.1f}")


# --- the demo --------------------------------------------------------------

DEMO_COLUMNS = [f"{p} {d}" for p in ("paper", "receivers", "receivers+enrol",
                                     "receivers+stimuli")
                for d in ("competence", "warmth")]


def _demo_runs(results, code):
    return [r for r in load("demo_time.json", results)["runs"] if r["code"] == code]


def demo_table(results):
    """The README's demo table (the table of the first run of this release)."""
    runs = _demo_runs(results, "this release")
    table = runs[0]["table"]
    assert all(r["table"] == table for r in runs), "the demo's table changed"
    rows = [[row["model"], *("" if row[c] is None else f3(row[c])
                             for c in DEMO_COLUMNS)] for row in table]
    return md_table(["model", *DEMO_COLUMNS], rows) + "\n"


def _demo_row(results, model):
    return next(r for r in _demo_runs(results, "this release")[0]["table"]
                if r["model"] == model)


def demo_new_content(results):
    net = _demo_row(results, "CrossDomainRegressor")
    ridge = _demo_row(results, "Ridge")
    key = "receivers+stimuli "
    return (f"({f3(net[key + 'competence'])} / {f3(net[key + 'warmth'])}) where ridge "
            f"falls to {f3(ridge[key + 'competence'])} / {f3(ridge[key + 'warmth'])}")


def demo_time(results):
    record = load("demo_time.json", results)
    now = _demo_runs(results, "this release")
    old = _demo_runs(results, "release 0.1.0")
    caps = _demo_runs(results, "this release, AVX2 caps")
    loads = [r["load_1min_before"] for r in record["runs"]]
    sec = lambda x: f"{x:.0f}"  # noqa: E731
    return (f"**{dash([r['wall_s'] for r in now], sec)} s wall** ({len(now)} runs; "
            f"release 0.1.0's demo, alternated with them: "
            f"{dash([r['wall_s'] for r in old], sec)} s; 1-minute load average "
            f"{dash(loads, lambda x: f'{x:.1f}')} before each run), "
            f"**{dash([r['wall_s'] for r in caps], sec)} s** with oneDNN and ATen "
            "capped at AVX2")


# --- new content (README) ----------------------------------------------------

def readme_new_content(results):
    return nct.readme_table(Path(results))


# --- new content (guide's prose) ---------------------------------------------

def _nc(results):
    return load("new_content.json", results)["summary"]


def _per_seed(summary, gen, key):
    return summary[gen][key]["per_seed"]


def _margin(summary, gen, a, b):
    """Mean over seeds of the per-seed difference a - b (as the margins table)."""
    diffs = [x - y for x, y in zip(_per_seed(summary, gen, a),
                                   _per_seed(summary, gen, b), strict=True)]
    return sum(diffs) / len(diffs)


def _mean(summary, gen, key):
    return summary[gen][key]["mean_over_seeds"]


def _options_means(results):
    means = {}
    for name in nct.OPTION_FILES:
        for row in load(name, results)["rows"]:
            means.setdefault((row["gen"], row["name"]), []).append(row["mean"])
    return {k: sum(v) / len(v) for k, v in means.items()}


def new_content_values(results):
    s = _nc(results)
    before = load("new_content_before.json", results)["summary"]
    rs, st, rc = "receivers+stimuli", "stimuli", "receivers"
    k = lambda fam, model, var="plain": f"{fam}|{model}|{var}"  # noqa: E731
    imp, dr = "impression", "drift"
    ridge4 = _per_seed(s, imp, k(rs, "ridge"))
    net4 = _per_seed(s, imp, k(rs, "network"))
    pairs = [
        ("nc_rs_imp", s3(_margin(s, imp, k(rs, "network"), k(rs, "ridge")))),
        ("nc_rs_drift", s3(_margin(s, dr, k(rs, "network"), k(rs, "ridge")))),
        ("nc_ridge_seed4", f3(ridge4[4])),
        ("nc_ridge_seeds0_3", span(ridge4[:4])),
        ("nc_below_seed4", f3(ridge4[4] - net4[4])),
        ("nc_margin_seed1", s3(net4[1] - ridge4[1])),
        ("nc_enrol_imp", f3(_mean(s, imp, k(rs, "network", "enrolled")))),
        ("nc_enrol_drift", f3(_mean(s, dr, k(rs, "network", "enrolled")))),
        ("nc_enrol_imp_ridge", s3(_margin(s, imp, k(rs, "network", "enrolled"),
                                          k(rs, "ridge", "enrolled")))),
        ("nc_enrol_drift_ridge", s3(_margin(s, dr, k(rs, "network", "enrolled"),
                                            k(rs, "ridge", "enrolled")))),
        ("nc_seen_enrol_imp", f3(_mean(s, imp, k(rc, "network", "enrolled")))),
        ("nc_seen_enrol_drift", f3(_mean(s, dr, k(rc, "network", "enrolled")))),
        ("nc_st_imp", s3(_margin(s, imp, k(st, "network"), k(st, "ridge")))),
        ("nc_st_drift", s3(_margin(s, dr, k(st, "network"), k(st, "ridge")))),
    ]
    for gen in (imp, dr):
        for var in ("plain", "enrolled"):
            key = k(rc, "network", var)
            pairs.append((f"nc_before_{gen}_{var}",
                          s3(s[gen][key]["mean_over_seeds"]
                             - before[gen][key]["mean_over_seeds"])))
    pp = "ridge_per_person"
    pairs += [
        ("nc_pp_new", span([_margin(s, imp, k(f, pp), k(f, "network"))
                            for f in (rs, st)], f3, "-")),
        ("nc_pp_seen", f3(_margin(s, imp, k(rc, pp), k(rc, "network")))),
        ("nc_pp_rs_enrol", s3(_margin(s, imp, k(rs, "network", "enrolled"),
                                      k(rs, pp, "enrolled")))),
        ("nc_pp_rc_enrol", s3(_margin(s, imp, k(rc, "network", "enrolled"),
                                      k(rc, pp, "enrolled")))),
        ("nc_pp_drift", span([_margin(s, dr, k(f, "network", v), k(f, pp, v))
                              for f, v in ((rc, "plain"), (rc, "enrolled"),
                                           (rs, "plain"), (rs, "enrolled"),
                                           (st, "plain"))], s3)),
    ]
    o = _options_means(results)
    base = "no_early_stopping"
    best_imp = max((v, n) for (g, n), v in o.items() if g == imp and n != "ridge"
                   and n != "ridge_pp")
    pairs += [
        ("opt_es_drift", s3(o[(dr, "early_stopping_2")] - o[(dr, base)])),
        ("opt_es_imp", s3(o[(imp, "early_stopping_2")] - o[(imp, base)])),
        ("opt_es_imp_below_best", f3(best_imp[0] - o[(imp, "early_stopping_2")])),
        ("opt_others", dash([o[(g, n)] - o[(g, base)] for g in (imp, dr)
                             for n in ("5_epochs", "weight_decay",
                                       "emitter_dropout_0.5")])),
    ]
    return subs(pairs)


# --- new people and enrolment (guide), from new_content.json -----------------

MODEL_LABELS = {"network": "network (defaults)", "ridge": "ridge",
                "ridge_per_person": "ridge, per-person steps",
                "stimulus_mean": "stimulus mean"}


def _seed_table(results, rows):
    """Rows (label, family, model, variant): per seed and mean, both generators."""
    report = load("new_content.json", results)
    s, seeds = report["summary"], report["settings"]["seeds"]
    head = " / ".join(map(str, seeds))
    out = []
    for label, fam, model, var in rows:
        cells = [label]
        for gen in nct.GENERATORS:
            values = _per_seed(s, gen, f"{fam}|{model}|{var}")
            cells.append(" / ".join(map(f3, values))
                         + f" ({f3(statistics.mean(values))})")
        out.append(cells)
    return list_table(["model", *(f"{t}, seed {head} (mean)"
                                  for t in nct.GENERATORS.values())], out)


def new_people_table(results):
    return _seed_table(results, [(MODEL_LABELS[m], "receivers", m, "plain")
                                 for m in ("ridge", "network", "ridge_per_person",
                                           "stimulus_mean")])


def new_people_values(results):
    s = _nc(results)
    rc = "receivers"
    pairs = []
    for gen, short in (("impression", "imp"), ("drift", "drift")):
        net = _per_seed(s, gen, f"{rc}|network|plain")
        for model, name in (("ridge", "ridge"), ("ridge_per_person", "pp"),
                            ("stimulus_mean", "sm")):
            other = _per_seed(s, gen, f"{rc}|{model}|plain")
            pairs.append((f"np_{name}_{short}",
                          span([a - b for a, b in zip(net, other, strict=True)], s3)))
    return subs(pairs)


def enrolment_table(results):
    rows = [("network, none", "receivers", "network", "plain")]
    rows += [(f"{MODEL_LABELS[m]}, {how}", "receivers", m, "enrolled")
             for m, how in (("network", "``adapt`` (defaults)"),
                            ("ridge", "offset"), ("ridge_per_person", "offset"),
                            ("stimulus_mean", "offset"))]
    rows += [("new content: network, none", "receivers+stimuli", "network", "plain")]
    rows += [(f"new content: {MODEL_LABELS[m]}, {how}", "receivers+stimuli", m,
              "enrolled")
             for m, how in (("network", "``adapt`` (defaults)"), ("ridge", "offset"),
                            ("ridge_per_person", "offset"))]
    return _seed_table(results, rows)


def enrolment_values(results):
    s = _nc(results)
    pairs = []
    for gen, short in (("impression", "imp"), ("drift", "drift")):
        for fam, fs in (("receivers", "seen"), ("receivers+stimuli", "new")):
            net = _per_seed(s, gen, f"{fam}|network|enrolled")
            for other, var, name in (("ridge", "enrolled", "ridge"),
                                     ("network", "plain", "none"),
                                     ("ridge_per_person", "enrolled", "pp")):
                ref = _per_seed(s, gen, f"{fam}|{other}|{var}")
                pairs.append((f"en_{fs}_{name}_{short}",
                              span([a - b for a, b in zip(net, ref, strict=True)],
                                   s3)))
    speed = load("enrolment_speed.json", results)["result"]["enrolment_speed"]
    for row in speed:
        kind = "la" if row["listener_adaptation"] else "plain"
        name = f"en_speed_w{row['window']}_{kind}"
        pairs.append((name, dash(row["cpu_s"], lambda x: f"{x:.3f}")))
    return subs(pairs)


# --- performance ---------------------------------------------------------------

def _kept(results, name):
    return load(f"{name}.json", results)


def _load_of(run):
    """1-minute load average before and after one subprocess run of a benchmark."""
    return dash([run["load_average_before"][0], run["load_average_after"][0]],
                lambda x: f"{x:.1f}")


def perf_headline(results):
    one = _kept(results, "overhead")
    three = _kept(results, "overhead_3_epochs")
    r1, r3 = one["result"]["results"][0], three["result"]["results"][0]
    scaling = _kept(results, "scaling")
    full = scaling["result"]["results"][-1]
    load_ = _kept(results, "load")
    fps = lambda x: f"{grouped(x)} frames/s"  # noqa: E731
    rows = [
        ["fit, 48,000 frames, 1 epoch (``bench_overhead.py --epochs 1 --repeats 3``)",
         fps(r1["fit_frames_per_s_regressor"]),
         f"{fps(r1['fit_frames_per_s_plain'])} ({r1['fit_ratio']:.2f}x)",
         load_avg(one)],
        ["fit, 48,000 frames, 3 epochs (``--epochs 3 --repeats 2``)",
         fps(r3["fit_frames_per_s_regressor"]),
         f"{fps(r3['fit_frames_per_s_plain'])} ({r3['fit_ratio']:.2f}x)",
         load_avg(three)],
        ["predict, 48,000 frames (the 1-epoch run)",
         fps(r1["predict_frames_per_s_regressor"]),
         f"{fps(r1['predict_frames_per_s_plain'])} ({r1['predict_ratio']:.2f}x)",
         load_avg(one)],
        [f"full paper scale, 1 epoch (``bench_scaling.py``, {grouped(full['frames'])} "
         "frames)", f"{fps(full['train_frames_per_s'])}, fit "
         f"{full['fit_wall_s']:.0f} s", "--", _load_of(full)],
        ["full paper scale, peak RSS of load + resample + concatenate + fit",
         f"{full['peak_rss_gb']:.2f} GB", "(target 3 GB)", _load_of(full)],
    ]
    rows += [[f"``load_impression``, paper-scale CSV, ``n_jobs={b['n_jobs']}`` "
              "(``bench_load.py``)", f"{b['wall_s']:.0f} s", "(target 60 s)",
              load_avg(load_)] for b in load_["result"]["best"]]
    return list_table(["measurement", "regressor", "plain PyTorch loop, same run "
                       "(regressor / loop)", "load avg"], rows)


def readme_performance(results):
    one = _kept(results, "overhead")
    three = _kept(results, "overhead_3_epochs")
    r1, r3 = one["result"]["results"][0], three["result"]["results"][0]
    full = _kept(results, "scaling")["result"]["results"][-1]
    load_ = _kept(results, "load")
    return (
        f"On a 2-core Intel Xeon VM shared with other jobs (1-minute load average "
        f"{load_avg(one)}), one torch thread, at the paper's model size (2-layer "
        f"BLSTM, hidden 64, 16 heads, batch 512; `benchmarks/bench_overhead.py`, "
        f"48,000 frames): training {grouped(r1['fit_frames_per_s_regressor'])} "
        f"frames/s and prediction {grouped(r1['predict_frames_per_s_regressor'])} "
        f"frames/s, {r1['fit_ratio']:.2f}x and {r1['predict_ratio']:.2f}x the speed "
        f"of a plain PyTorch loop over the same module in the same run (one epoch, "
        f"`fit`'s set-up included; over three epochs {r3['fit_ratio']:.2f}x). "
        f"Fitting one epoch over the full paper scale ({grouped(full['frames'])} "
        f"frames from the released CSV layout, `bench_scaling.py`) took "
        f"{full['fit_wall_s']:.0f} s with a peak RSS of {full['peak_rss_gb']:.2f} GB "
        f"for load + fit; loading that layout took "
        + " and ".join(f"{b['wall_s']:.0f} s with `n_jobs={b['n_jobs']}`"
                       for b in load_["result"]["best"])
        + f" (`bench_load.py`, load average {load_avg(load_)}). JSON in "
        "`benchmarks/results/`.\n")


def perf_amp(results):
    record = _kept(results, "amp_cpu")
    rows = [[r["variant"], f"{r['fit_cpu_s']:.2f}", f3(r["ccc"]["competence"]),
             f3(r["ccc"]["warmth"])] for r in record["result"]["rows"]]
    base, *amp = record["result"]["rows"]
    times = [r["fit_cpu_s"] / base["fit_cpu_s"] for r in amp]
    moved = max(abs(r["ccc"][d] - base["ccc"][d]) for r in amp
                for d in ("competence", "warmth"))
    return list_table(["variant", "fit CPU s", "test CCC competence",
                       "test CCC warmth"], rows) + (
        f"\n\nLoad average {load_avg(record)}; torch's CPU capability "
        f"``{record['result']['machine']['cpu_capability']}``. Here ``amp=True`` "
        f"took {dash(times, lambda x: f'{x:.2f}')} times the float32 fit's CPU "
        f"seconds, and the CCCs moved by at most {f3(moved)} (one fold, one seed).")


def perf_load(results):
    record = _kept(results, "load")
    layout = record["result"]["layout"]
    rows = []
    for run in record["result"]["runs"]:
        rows.append([str(run["n_jobs"]), f"{run['wall_s']:.1f}",
                     f"{run['cpu_s_process']:.1f} + {run['cpu_s_workers']:.1f}",
                     f"{run['peak_rss_gb_tree_sampled']:.2f}",
                     f"{run['returned_array_gb']:.2f}", _load_of(run)])
    return list_table(["n_jobs", "wall s", "CPU s (process + workers)",
                       "peak RSS GB (process tree)", "returned arrays GB",
                       "load avg"], rows) + (
        f"\n\nThe layout: {layout['csv_files']} files, "
        f"{layout['csv_bytes'] / 1e9:.2f} GB of CSV.")


FRACTIONS = {5: "1/8", 10: "1/4", 20: "1/2", 40: "1"}


def perf_scaling(results):
    record = _kept(results, "scaling")
    rows = []
    for r in record["result"]["results"]:
        phases = r["phases"]
        fit_cpu = sum(v["cpu_s"] for k, v in phases.items() if k.startswith("fit."))
        load_ = phases["load_impression"]
        rows.append([str(r["receivers"]), grouped(r["frames"]),
                     FRACTIONS.get(r["receivers"], "?"),
                     f"{min(r['epoch_s']):.1f}", grouped(r["train_frames_per_s"]),
                     f"{r['fit_wall_s']:.1f} ({fit_cpu:.1f})",
                     f"{load_['wall_s']:.1f} ({load_['cpu_s']:.1f})",
                     f"{r['peak_rss_gb']:.2f}", _load_of(r)])
    return list_table(["receivers", "frames", "fraction", "epoch s",
                       "train frames/s", "fit wall s (CPU s)",
                       "load_impression wall s (CPU s)", "peak RSS GB",
                       "load avg"], rows)


def perf_phases(results):
    full = _kept(results, "scaling")["result"]["results"][-1]
    rows = [[name, f"{p['wall_s']:.2f}", f"{p['cpu_s']:.2f}",
             "-" if p["peak_rss_gb_sampled"] is None
             else f"{p['peak_rss_gb_sampled']:.2f}"]
            for name, p in full["phases"].items()]
    return list_table(["phase (full scale)", "wall s", "CPU s",
                       "sampled peak RSS GB"], rows)


def _window_table(results, name):
    record = _kept(results, name)
    rows = [[str(r["window"]), str(r["hop"]), grouped(r["train_units_per_epoch"]),
             grouped(r["train_frames_per_s"]), grouped(r["train_frame_steps_per_s"]),
             f"{r['fit_cpu_s']:.1f}", grouped(r["predict_frames_per_s"]),
             f"{r['predict_cpu_s']:.1f}", f"{r['peak_rss_gb']:.2f}", _load_of(r)]
            for r in record["result"]["results"]]
    return list_table(["window", "hop", "windows/epoch", "train frames/s",
                       "train frame-steps/s", "fit CPU s", "predict frames/s",
                       "predict CPU s", "peak RSS GB", "load avg"], rows)


def perf_window_units(results):
    return _window_table(results, "window_units")


def perf_window_frames(results):
    return _window_table(results, "window_frames")


def perf_chunks(results):
    record = _kept(results, "window_chunks")
    rows = []
    for r in record["result"]["results"]:
        label = ("window 1, 512 frames a batch" if r["window"] == 1 else
                 f"window {r['window']}, ``attention_span={r['attention_span']}``, "
                 "8 chunks a batch")
        rows.append([label,
                     " / ".join(grouped(x) for x in r["train_frames_per_s_runs"]),
                     " / ".join(f"{x:.2f}" for x in r["train_speed_vs_first_runs"]),
                     f"{r['fit_cpu_s']:.2f}", grouped(r["predict_frames_per_s"]),
                     f"{r['peak_rss_gb']:.2f}", _load_of(r)])
    return list_table(["configuration (median run: CPU s, predict, RSS)",
                       "train frames/s, each run", "ratio to window 1, each run",
                       "fit CPU s", "predict frames/s", "peak RSS GB",
                       "load avg"], rows)


def _chunk_cpu_ratio(results):
    r = _kept(results, "window_chunks")["result"]["results"]
    return r[1]["fit_cpu_s"] / r[0]["fit_cpu_s"]


def perf_values(results):
    scaling = _kept(results, "scaling")["result"]
    fit = scaling["peak_rss_linear_fit"]
    units = {r["window"]: r
             for r in _kept(results, "window_units")["result"]["results"]}
    frames = {r["window"]: r
              for r in _kept(results, "window_frames")["result"]["results"]}
    speedup = frames[100]["train_frames_per_s"] / units[100]["train_frames_per_s"]
    return subs([
        ("scaling_fixed_gb", f"{fit['fixed_gb']:.2f}"),
        ("scaling_bytes", grouped(fit["bytes_per_frame"])),
        ("scaling_full_gb", f"{scaling['results'][-1]['peak_rss_gb']:.2f}"),
        ("window_frames_speedup", f"{speedup:.1f} times"),
        ("window_rss_frames", f"{frames[100]['peak_rss_gb']:.2f}"),
        ("window_rss_units", f"{units[100]['peak_rss_gb']:.2f}"),
    ])


def network_values(results):
    r = _kept(results, "window_chunks")["result"]
    return subs([("chunk_cpu", f"{_chunk_cpu_ratio(results):.2f}"),
                 ("chunk_ratios", dash(r["results"][1]["train_speed_vs_first_runs"],
                                       lambda x: f"{x:.2f}")),
                 ("chunk_repeats", str(r["model"]["repeats"]))])


# --- cluster and raw signals --------------------------------------------------

def dask_table(results):
    record = _kept(results, "dask")
    r = record["result"]
    t = r["times_s"]
    one = t["one_process_1_torch_thread"] if "one_process_1_torch_thread" in t \
        else min(t["one_process_runs"])
    runs = lambda xs: " / ".join(f"{x:.1f}" for x in xs)  # noqa: E731
    rows = [[f"{r['machine']['cpu_count']} cores shared with other jobs, load average "
             f"{load_avg(record)}",
             f"{one:.1f} s ({runs(t['one_process_runs'])})",
             f"{t['dask_plain_best']:.1f} s "
             f"({runs(x['time_s'] for x in t['dask_plain_runs'])})",
             f"{t['dask_scatter_best']:.1f} s "
             f"({runs(x['time_s'] for x in t['dask_scatter_runs'])})",
             f"{one / t['dask_plain_best']:.2f} / {one / t['dask_scatter_best']:.2f}"]]
    return list_table(["machine", "one process, 1 thread: best (each run)",
                       "2 Dask workers x 1 thread, plain", "the same, scatter",
                       "speed-up of the best (plain / scatter)"], rows)


def dask_values(results):
    r = _kept(results, "dask")["result"]
    b = r["bytes_over_tcp"]
    t = r["times_s"]
    one = min(t["one_process_runs"])
    return subs([("dask_plain_mb", f"{b['plain_mean'] / 1e6:.1f}"),
                 ("dask_per_fit", f"{b['plain_per_fit_over_pickled_X_y']:.1f}"),
                 ("dask_xy_mb", f"{r['sizes']['pickled_X_y_bytes'] / 1e6:.1f}"),
                 ("dask_scatter_mb", f"{b['scatter_mean'] / 1e6:.1f}"),
                 ("dask_fit_s", f"{one / r['sizes']['fits']:.1f}")])


def audio_rates_table(results):
    rows = [[grouped(r["rate"]), f"{r['native_median']:.3f}",
             f"{r['native_rms_energy']:.2f}", f"{r['native_zcr']:.2f}",
             f"{r['resampled_median']:.3f}",
             f"{r['resampled_worst']:.2f} ({r['resampled_worst_channel']})"]
            for r in _kept(results, "audio_rates")["result"]["rows"]]
    return list_table(["rate (Hz)", "native: median of 16", "native: RMS energy",
                       "native: ZCR", "resampled: median of 16",
                       "resampled: worst channel"], rows)


def raw_signals_values(results):
    f = _kept(results, "features")["result"]
    a = _kept(results, "audio_rates")["result"]
    x = lambda d: f"{grouped(d['x_real_time_per_core'])}x"  # noqa: E731
    rows = {r["rate"]: r for r in a["rows"]}
    tone = a["tone_200hz"]
    pure = a["pure_sine_f0_16k"]
    low = [p for p in pure if p["f0_read_minus_true"] == -p["hz"]]
    mid = [p for p in pure if 130 <= p["hz"] <= 260]
    hz = lambda v: f"{v:g}"  # noqa: E731
    return subs([
        ("feat_is09", x(f["audio"]["IS09"])),
        ("feat_egemaps", x(f["audio"]["eGeMAPS"])),
        ("feat_compare", x(f["audio"]["ComParE"])),
        ("feat_physio", x(f["physio"]["processed"])),
        ("feat_sessions", x(f["load_raw_sessions"])),
        ("tone_zcr", f"{tone['native_48k_over_16k']['zcr']:.2f}"),
        ("tone_rms", f"{tone['native_48k_over_16k']['rms_energy']:.2f}"),
        ("tone_res_zcr", f"{tone['resampled_48k_over_16k']['zcr']:.2f}"),
        ("tone_res_rms", f"{tone['resampled_48k_over_16k']['rms_energy']:.2f}"),
        ("closer_8k", str(rows[8000]["resampled_closer_channels"])),
        ("closer_11k", str(rows[11025]["resampled_closer_channels"])),
        ("f0_low", ("0 (unvoiced) for the sines at " + _and([hz(p["hz"]) for p in low])
                    + " Hz") if low else "no sine read as unvoiced"),
        ("f0_mid", span([p["f0_read_minus_true"] for p in mid],
                        lambda v: f"{v:+.1f}") + " Hz"),
        ("f0_mid_tones", _and([hz(p["hz"]) for p in mid]) + " Hz"),
    ])


# --- live ----------------------------------------------------------------------

CAUSAL_RESAMPLING_ROWS = (("hold", "hold only"), ("mean", "trailing frame mean"),
                          ("butter2", "**Butterworth order 2 (the default)**"),
                          ("butter4", "Butterworth order 4"),
                          ("cheby8", "Chebyshev I order 8, causal"),
                          ("paper", "offline ``\"paper\"`` (not causal)"),
                          ("polyphase", "offline ``\"polyphase\"`` (not causal)"))


def _f1(x):
    """One decimal, without a negative zero."""
    return f"{(x if abs(x) >= 0.05 else 0.0):.1f}"


def causal_resampling_table(results):
    methods = load("causal_resampling.json", results)["result"]["methods"]
    rows = []
    for key, label in CAUSAL_RESAMPLING_ROWS:
        m = methods[key]
        rows.append((label, f3(m["tones"]["100.0"]["inner"]),
                     f3(m["tones"]["100.0"]["aligned"]),
                     _f1(m["alias_db"]["20Hz_from_100Hz"]),
                     _f1(m["delay_ms"]["100.0"]),
                     f3(m["slow_noise"]["noise_0.5"]["mean"])))
    return list_table(("method", "tones from 100 Hz: error", "error, delay removed",
                       "20 Hz tone (dB)", "delay at 100 Hz (ms)",
                       "slow signal + noise: error"), rows)


LIVE_VARIANTS = (("offline", "offline default"),
                 ("causal resampling", "causal resampling only"),
                 ("running statistics", "running statistics only"),
                 ("trailing window", "trailing window only"),
                 ("causal (all)", "**live (all causal)**"))


def live_accuracy_table(results, name="live_accuracy.json"):
    summary = load(name, results)["result"]["summary"]
    rows = [(label, *(f3(summary[g][part][key]) for g in ("impression", "drift")
                      for part in ("plain", "enrolled")))
            for key, label in LIVE_VARIANTS]
    return list_table(("predictions", "``make_impression``", "+ 60 s enrolment",
                       "``make_dyadic_drift``", "+ 60 s enrolment"), rows)


def live_values(results):
    report = load("live_accuracy.json", results)["result"]
    pairs = []
    for g, short in (("impression", "imp"), ("drift", "drift")):
        for part, p in (("plain", "plain"), ("enrolled", "enrol")):
            gaps = [r["scores"][part]["causal (all)"] - r["scores"][part]["offline"]
                    for r in report["runs"] if r["generator"] == g]
            pairs.append((f"live_gap_{short}_{p}", span(gaps, s3)))
            pairs.append((f"live_mean_gap_{short}_{p}", s3(sum(gaps) / len(gaps))))
    settings = report["settings"]
    pairs.append(("live_seeds", _and([str(x) for x in settings["seeds"]])))
    return subs(pairs)


def live_latency_table(results):
    rows = []
    for name, label in (("live_before.json", "before optimising"),
                        ("live.json", "**now**")):
        r = load(name, results)["result"]
        for key, what in (("one_stream", "1 stream, per 40 ms push"),
                          ("streams_64", "64 streams, per tick")):
            lat = r[key]["latency"]
            rows.append((f"{what}, {label}", *(f"{lat[q]:.2f}" for q in
                                               ("p50_ms", "p95_ms", "p99_ms",
                                                "max_ms"))))
    return list_table(("latency (ms)", "p50", "p95", "p99", "max"), rows)


def live_latency_values(results):
    r = load("live.json", results)["result"]
    points = {p["minute"]: p for p in r["memory"]["points"]}
    first, last = points[1], points[max(points)]
    record = load("live.json", results)
    return subs([
        ("live_params", grouped(r["n_parameters"])),
        ("live_rss_1", f"{first['peak_rss_mb']:.1f} MB"),
        ("live_rss_120", f"{last['peak_rss_mb']:.1f} MB"),
        ("live_rss_growth", f"{last['peak_rss_mb'] - first['peak_rss_mb']:.2f} MB"),
        ("live_minutes", str(r["memory"]["minutes"])),
        ("live_load", load_avg(record)),
    ])


def live_normalisation_table(results):
    summary = load("live_normalisation.json", results)["result"]["summary"]
    names = list(summary["impression"]["study"])
    rows = [("offline (all of a person's recordings)",
             *(f3(summary[g]["plain"]["offline"]) for g in ("impression", "drift")))]
    rows += [(name + (" (**the default**)" if name.endswith("600 s, prior 30 s")
                      else ""),
              *(f3(summary[g]["study"][name]) for g in ("impression", "drift")))
             for name in names]
    return list_table(("running statistics", "``make_impression``",
                       "``make_dyadic_drift``"), rows)


def mutation_table(results):
    report = load("mutation.json", results)["result"]
    rows = [(f"``{m['module'].removeprefix('sklearn_impression/')}``",
             grouped(m["mutants"]), grouped(m["killed"]), grouped(m["survived"]),
             f"{100 * m['score']:.1f}%") for m in report["modules"]]
    return list_table(("module", "mutants", "killed", "survived", "score"), rows)


# --- the list of figures (docs/figures.rst) ------------------------------------

def _where():
    where = {}
    for path in documents(ROOT):
        rel = path.relative_to(ROOT).as_posix()
        for name, _ in blocks(path):
            where.setdefault(name, []).append(rel)
    for rel in FILES:
        where.setdefault(rel, []).append(rel)
    return where


def _command(record, name):
    """The command that rewrites a results file."""
    if "result" in record:  # kept by keep.py
        threads = record["machine"].get("omp_num_threads")
        env = f"OMP_NUM_THREADS={threads} " if threads else ""
        return f"{env}python benchmarks/keep.py {name} -- {record['command']}"
    return record["command"]


def figures_index(results):
    where = _where()
    lines = ["Figures", "~~~~~~~", ""]
    entries = [(name, fn_files_what[1], fn_files_what[2], where.get(name, []))
               for name, fn_files_what in BLOCKS.items() if name != "figures_index"]
    entries += [(rel, files, what, [rel]) for rel, (_, files, what) in FILES.items()]
    used = set()
    for name, files, what, places in entries:
        used.update(files)
        lines += [f"``{name}``: {what}",
                  f"   in {', '.join(f'``{p}``' for p in places) or '(nowhere)'}; "
                  f"from {', '.join(f'``{f}``' for f in files)}", ""]
    lines += ["Results files and their commands", "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~",
              ""]
    for name in sorted(used):
        record = load(name, results)
        bits = []
        if record.get("commit"):
            bits.append(f"commit ``{record['commit'][:10]}``"
                        + (" with local changes" if record.get("local_changes")
                           else ""))
        if record.get("date"):
            bits.append(record["date"])
        machine = record.get("machine", {})
        if "load_average_before" in machine:
            bits.append(f"load average {load_avg(record)}")
        lines += [f"``{name}``", "   .. code-block:: text", "",
                  f"      {_command(record, Path(name).stem)}", ""]
        if record.get("note") and "result" not in record:
            bits.append(record["note"])
        if bits:
            lines += [f"   {'; '.join(bits)}.", ""]
    return "\n".join(lines)


# --- the registry --------------------------------------------------------------

#: name -> (render function, JSON files it reads, what it shows)
BLOCKS = {
    "demo_time": (demo_time, ["demo_time.json"],
                  "wall time of ``sklearn-impression demo``"),
    "demo": (demo_table, ["demo_time.json"], "the demo's CCC table"),
    "demo_new_content": (demo_new_content, ["demo_time.json"],
                         "the demo's new-content CCCs, network and ridge"),
    "new_content": (readme_new_content, ["new_content.json"],
                    "new people on seen and new content, with and without "
                    "enrolment (mean over seeds)"),
    "new_content_values": (new_content_values,
                           ["new_content.json", "new_content_before.json",
                            "new_content_options.json",
                            "new_content_emitter_dropout.json"],
                           "margins and options quoted in the guide's prose"),
    "new_people": (new_people_table, ["new_content.json"],
                   "new people on seen content, per seed"),
    "new_people_values": (new_people_values, ["new_content.json"],
                          "the margins quoted on the new-people page"),
    "enrolment": (enrolment_table, ["new_content.json"],
                  "60 s of enrolment, per seed"),
    "enrolment_values": (enrolment_values,
                         ["new_content.json", "enrolment_speed.json"],
                         "enrolment margins and the time ``adapt`` takes"),
    "perf_headline": (perf_headline, ["overhead.json", "overhead_3_epochs.json",
                                      "scaling.json", "load.json"],
                      "fit and predict speed against a plain loop, full scale"),
    "performance": (lambda results: readme_performance(results),
                    ["overhead.json", "overhead_3_epochs.json", "scaling.json",
                     "load.json"], "the README's performance paragraph"),
    "perf_amp": (perf_amp, ["amp_cpu.json"], "``amp=True`` on CPU"),
    "perf_load": (perf_load, ["load.json"], "loading the paper-scale layout"),
    "perf_scaling": (perf_scaling, ["scaling.json"], "1/8 to full paper scale"),
    "perf_phases": (perf_phases, ["scaling.json"], "memory by phase, full scale"),
    "perf_window_units": (perf_window_units, ["window_units.json"],
                          "``window``, 512 windows a batch"),
    "perf_window_frames": (perf_window_frames, ["window_frames.json"],
                           "``window``, about 512 frames a batch"),
    "perf_chunks": (perf_chunks, ["window_chunks.json"], "250-frame chunks"),
    "perf_values": (perf_values, ["scaling.json", "window_units.json",
                                  "window_frames.json"],
                    "figures quoted in the performance page's prose"),
    "network_values": (network_values, ["window_chunks.json"],
                       "the chunks' cost quoted on the network page"),
    "dask": (dask_table, ["dask.json"], "grid search on Dask"),
    "dask_values": (dask_values, ["dask.json"], "Dask transfers"),
    "audio_rates": (audio_rates_table, ["audio_rates.json"],
                    "IS09 descriptors at other sampling rates"),
    "causal_resampling": (causal_resampling_table, ["causal_resampling.json"],
                          "causal resampling candidates and the offline methods"),
    "live_accuracy": (live_accuracy_table, ["live_accuracy.json"],
                      "live against offline CCC, each causal step alone"),
    "live_accuracy_new_content": (
        lambda results: live_accuracy_table(results, "live_accuracy_new_content.json"),
        ["live_accuracy_new_content.json"],
        "live against offline, new people on new content"),
    "live_values": (live_values, ["live_accuracy.json"],
                    "live against offline, per seed"),
    "live_latency": (live_latency_table, ["live.json", "live_before.json"],
                     "live latency, 1 and 64 streams"),
    "live_latency_values": (live_latency_values, ["live.json"],
                            "live memory over a 120-minute replay"),
    "live_normalisation": (live_normalisation_table, ["live_normalisation.json"],
                           "the running statistics' settings compared (seed 0)"),
    "mutation": (mutation_table, ["mutation.json"],
                 "mutation scores of the modules of issue 23"),
    "figures_index": (figures_index, [], "this list"),
    "raw_signals_values": (raw_signals_values, ["features.json", "audio_rates.json"],
                           "feature extraction speed, tones"),
}

#: Whole files written by a function: path -> (function, JSON files, what).
FILES = {
    "docs/user_guide/new_content_tables.rst": (
        lambda results: nct.render(Path(results)),
        ["new_content.json", "new_content_before.json", "new_content_options.json",
         "new_content_emitter_dropout.json"],
        "the guide's new-content tables"),
}

#: Numbers that look like measurements but are not ours, per file: the text and
#: why it may stand outside a block.
NOT_MEASURED = {
    "docs/performance.rst": {
        "23 GB": "the VM's RAM, a specification",
        "3 GB": "issue 6's memory target, not a measurement",
    },
    "docs/user_guide/cluster.rst": {
        "16GB": "a SLURM job's memory request in a configuration example",
    },
    "docs/user_guide/protocols.rst": {
        "0.770": "the paper's reported CCC (Li & Lai 2022), cited",
        "0.748": "the paper's reported CCC (Li & Lai 2022), cited",
    },
}


# --- reading and writing blocks -------------------------------------------------

def documents(root=ROOT):
    paths = []
    for pattern in DOCUMENTS:
        paths += sorted(Path(root).glob(pattern))
    return [p for p in paths if p.relative_to(root).as_posix() not in FILES]


def _pattern(path):
    return MD_BLOCK if Path(path).suffix == ".md" else RST_BLOCK


def _body(path, name, results):
    text = BLOCKS[name][0](results)
    if Path(path).suffix == ".md":
        # a table or paragraph starts on the line after the marker; a phrase
        # (no final newline) sits inside its sentence
        return "\n" + text if text.endswith("\n") else text
    return "\n" + text.rstrip("\n") + "\n\n"


def blocks(path):
    """The (name, body) of each figures block in a file."""
    text = Path(path).read_text()
    return [(m.group("name"), m.group("body")) for m in _pattern(path).finditer(text)]


def rendered(path, results=RESULTS):
    """The file's text with every block written from ``results``."""
    text = Path(path).read_text()

    def replace(match):
        name = match.group("name")
        if name not in BLOCKS:
            raise KeyError(f"{path}: unknown figures block {name!r}")
        body = _body(path, name, results)
        start, end = match.span("body")
        return (match.group(0)[:start - match.start()] + body
                + match.group(0)[end - match.start():])

    return _pattern(path).sub(replace, text)


def outside_blocks(path):
    """The file's text with the bodies of its blocks removed."""
    text = Path(path).read_text()
    return _pattern(path).sub(lambda m: m.group(0).replace(m.group("body"), ""), text)


#: What a measured figure looks like: three decimals, rates, sizes, ratios.
MEASURED = re.compile(r"(?<![\w.])[+-]?\d\.\d{3}(?![\d])"
                      r"|\d[\d,.]*\s*(?:k\s*)?frames/s"
                      r"|\d[\d,.]*\s*[GM]i?B\b"
                      r"|(?<![\w.])\d+(?:\.\d+)?x\b")


def unbacked(path, root=ROOT):
    """Measured-looking numbers outside the file's blocks and not listed."""
    allowed = NOT_MEASURED.get(Path(path).relative_to(root).as_posix(), {})
    return [m.group(0) for m in MEASURED.finditer(outside_blocks(path))
            if m.group(0).strip() not in allowed]


def check(results=RESULTS, root=ROOT):
    """Names of the files whose figures differ from what ``results`` gives."""
    stale = [p for p in documents(root) if Path(p).read_text() != rendered(p, results)]
    stale += [Path(root) / p for p, (fn, _, _) in FILES.items()
              if (Path(root) / p).read_text() != fn(results)]
    return stale


def write(results=RESULTS, root=ROOT):
    for path in documents(root):
        new = rendered(path, results)
        if path.read_text() != new:
            path.write_text(new)
            print(f"wrote {path.relative_to(root)}")
    for rel, (fn, _, _) in FILES.items():
        path = Path(root) / rel
        if path.read_text() != fn(results):
            path.write_text(fn(results))
            print(f"wrote {rel}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        stale = check()
        for path in stale:
            print(f"figures differ from benchmarks/results/: {path}")
        sys.exit(1 if stale else 0)
    write()
