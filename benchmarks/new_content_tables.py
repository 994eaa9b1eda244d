"""The user guide's "New content" tables, written from the benchmarks' JSON.

``docs/user_guide/new_content_tables.rst`` is this script's output, included by
``new_content.rst``, and :func:`readme_table` is the README's ``new_content``
block; ``benchmarks/render_figures.py`` writes both (with every other figure)
and ``tests/test_figures.py`` regenerates them and fails when a figure differs
from ``benchmarks/results/``. Run after a new benchmark::

    python benchmarks/render_figures.py

Torch-free: it reads JSON only.
"""

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

#: Rows of the main table: (label, protocol family, variant).
SITUATIONS = (
    ("new people, seen content (``receivers``)", "receivers", "plain"),
    ("... + 60 s enrolment", "receivers", "enrolled"),
    ("**new people, new content** (``receivers+stimuli``)", "receivers+stimuli",
     "plain"),
    ("... + 60 s enrolment on a seen clip", "receivers+stimuli", "enrolled"),
    ("seen people, new content (``stimuli``)", "stimuli", "plain"),
)
#: Columns of the main table: (label, row name in the JSON).
MODELS = (("network (defaults)", "network"), ("ridge", "ridge"),
          ("ridge, per-person steps", "ridge_per_person"),
          ("stimulus mean", "stimulus_mean"))
OPTION_FILES = ("new_content_options.json", "new_content_emitter_dropout.json")
GENERATORS = {"impression": "``make_impression``", "drift": "``make_dyadic_drift``"}
#: Option rows of the bench_new_content_options.py results, in the order shown
#: (all network rows but the last train 10 epochs without early stopping).
OPTIONS = (("ridge", "ridge"), ("ridge, per-person steps", "ridge_pp"),
           ("network, 10 epochs, no early stopping", "no_early_stopping"),
           ("network, 5 epochs", "5_epochs"),
           ("network, weight decay 0.001", "weight_decay"),
           ("network, emitter dropout 0.5", "emitter_dropout_0.5"),
           ("network, early stopping (patience 2): the default",
            "early_stopping_2"))


def _list_table(header, rows, indent=""):
    lines = [f"{indent}.. list-table::", f"{indent}   :header-rows: 1", ""]
    for row in [header, *rows]:
        lines.append(f"{indent}   * - {row[0]}")
        lines += [f"{indent}     - {cell}" for cell in row[1:]]
    return lines + [""]


def _cell(value):
    return "n/a" if value is None else f"{value:.3f}"


def main_tables(report):
    """One table per generator: mean over seeds of the mean CCC."""
    lines = []
    for gen, title in GENERATORS.items():
        summary = report["summary"].get(gen)
        if summary is None:
            continue
        seeds = report["settings"]["seeds"]
        lines += [f"{title}, seeds {', '.join(map(str, seeds))} (mean over seeds of "
                  "the mean of competence and warmth):", ""]
        rows = []
        for label, family, variant in SITUATIONS:
            cells = [summary.get(f"{family}|{name}|{variant}", {}).get(
                "mean_over_seeds") for _, name in MODELS]
            rows.append([label, *map(_cell, cells)])
        lines += _list_table(["situation", *(m for m, _ in MODELS)], rows)
    return lines


def margin_table(report):
    """Per seed: the network minus ridge where the issue sets its targets."""
    checks = (("new content", "receivers+stimuli", "plain", "ridge"),
              ("new content, enrolled", "receivers+stimuli", "enrolled", "ridge"),
              ("seen people, new content", "stimuli", "plain", "ridge"))
    seeds = report["settings"]["seeds"]
    rows = []
    for gen, title in GENERATORS.items():
        summary = report["summary"].get(gen)
        if summary is None:
            continue
        for label, family, variant, base in checks:
            net = summary[f"{family}|network|{variant}"]["per_seed"]
            ref = summary[f"{family}|{base}|{variant}"]["per_seed"]
            diffs = [a - b for a, b in zip(net, ref, strict=True)]
            rows.append([f"{title}, {label}", *(f"{d:+.3f}" for d in diffs),
                         f"{sum(diffs) / len(diffs):+.3f}"])
    return _list_table(["network - ridge", *(f"seed {s}" for s in seeds), "mean"],
                       rows)


def before_after_table(report, before):
    """Seen content: the network with this release's defaults and with 0.1.0's."""
    rows = []
    for gen, title in GENERATORS.items():
        if gen not in report["summary"] or gen not in before["summary"]:
            continue
        for variant, label in (("plain", "seen content"),
                               ("enrolled", "seen content + 60 s enrolment")):
            key = f"receivers|network|{variant}"
            old = before["summary"][gen][key]["mean_over_seeds"]
            new = report["summary"][gen][key]["mean_over_seeds"]
            rows.append([f"{title}, {label}", _cell(old), _cell(new),
                         f"{new - old:+.3f}"])
    return _list_table(["network", "0.1.0 defaults", "these defaults", "change"],
                       rows)


def options_table(options):
    """Mean over seeds per generator of each option row (new content)."""
    rows = []
    for label, name in OPTIONS:
        cells = []
        for gen in GENERATORS:
            values = [r["mean"] for r in options["rows"]
                      if r["gen"] == gen and r["name"] == name]
            cells.append(_cell(sum(values) / len(values) if values else None))
        rows.append([label, *cells])
    return _list_table(["new people, new content", *GENERATORS.values()], rows)


def readme_table(results=RESULTS):
    """The README's new-content table (between its ``figures`` markers)."""
    report = json.loads((results / "new_content.json").read_text())
    lines = ["| data (mean of seeds " + ", ".join(map(str, report["settings"]["seeds"]))
             + ") | model | seen content | + 60 s enrolment | new content | "
             "+ 60 s enrolment on a seen clip | seen people, new content |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for gen, title in GENERATORS.items():
        summary = report["summary"].get(gen)
        if summary is None:
            continue
        for label, name in MODELS[:3]:
            cells = [summary.get(f"{family}|{name}|{variant}", {}).get(
                "mean_over_seeds") for _, family, variant in SITUATIONS]
            bold = "**" if name == "network" else ""
            lines.append(f"| {title.strip('`')} | {bold}{label}{bold} | "
                         + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def render(results=RESULTS):
    """The text of ``new_content_tables.rst``."""
    report = json.loads((results / "new_content.json").read_text())
    before = json.loads((results / "new_content_before.json").read_text())
    options = {"rows": [row for name in OPTION_FILES for row in json.loads(
        (results / name).read_text())["rows"]]}
    lines = [".. Written by benchmarks/new_content_tables.py from",
             "   benchmarks/results/new_content*.json: do not edit by hand.", "",
             ".. _new_content_main:", "", "Results", "-------", "",
             *main_tables(report),
             ".. _new_content_margins:", "", "Margins per seed", "----------------",
             "", *margin_table(report),
             ".. _new_content_before:", "", "Seen content before and after",
             "------------------------------", "", *before_after_table(report, before),
             ".. _new_content_options:", "", "The options measured",
             "--------------------", "", *options_table(options)]
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(readme_table() if sys.argv[1:] == ["--readme"] else render())
