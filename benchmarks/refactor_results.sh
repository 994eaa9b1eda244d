#!/bin/bash
# The demo, a small ablation and a small bench_new_people run of one checkout,
# for comparing two commits' results (benchmarks/compare_results.py).
# Usage: benchmarks/refactor_results.sh CHECKOUT OUTDIR
# Kept: benchmarks/results/refactor/before (8c95ae1, before the subpackage layout)
# and after (c486d3e), and final (30a55cb, with the live package).
set -e
cd "$1"
export PYTHONPATH="$1" OMP_NUM_THREADS=1
mkdir -p "$2"
python -m sklearn_impression.cli demo --out "$2/demo" --quiet --n-jobs 1
python -m sklearn_impression.cli ablation --out "$2/ablation" --epochs 2 \
    --n-receivers 6 --n-stimuli 4 --duration 20 --n-splits 2 \
    --protocol receivers+stimuli+enrol --enrol-seconds 5 --quiet --n-jobs 1
python benchmarks/bench_new_people.py --generators impression drift \
    --configs ridge default --receivers 6 --stimuli 2 --duration 30 --folds 3 \
    --epochs 3 --out "$2/new_people.json"
cp "$2/demo/demo.json" "$2/ablation/ablation.json" "$2"/
