"""Paired t over loop seeds between two refiner levers' runs, and of one lever against M_0/R_0.

Usage: python3 docs/results/refiner-levers/paired.py LEVER [OTHER ...]
Reads each folder's results.json (`spar experiment baselines --variants spar ... --output DIR`): the final judge
accuracy on R_0's frozen set and the actor's IFEval average, per seed. Prints the mean difference in points, its 95%
interval (t with n-1 degrees of freedom) and the one-sided p of "LEVER is higher". Needs mpmath (python3-mpmath).
"""
import json
import math
import os
import sys

import mpmath

HERE = os.path.dirname(os.path.abspath(__file__))


def series(folder):
    d = json.load(open(os.path.join(HERE, folder, "results.json")))
    points = d["result"]["variants"][0]["points"]
    first, last = points[0], points[-1]
    return {
        "judge": (last["judge_accuracy"]["per_seed"], first["judge_accuracy"]["per_seed"][0]),
        "actor": (last["average"]["per_seed"], first["average"]["per_seed"][0]),
    }


def paired(diffs):
    n = len(diffs)
    mean = sum(diffs) / n
    se = math.sqrt(sum((x - mean) ** 2 for x in diffs) / (n - 1)) / math.sqrt(n)
    t = mean / se
    # Student's t tail through the regularized incomplete beta: P(T > |t|) = I_x((n-1)/2, 1/2) / 2.
    tail = float(mpmath.betainc((n - 1) / 2, 0.5, 0, (n - 1) / ((n - 1) + t * t), regularized=True)) / 2
    critical = float(mpmath.findroot(
        lambda q: mpmath.betainc((n - 1) / 2, 0.5, 0, (n - 1) / ((n - 1) + q * q), regularized=True) - 0.05, 2.5))
    return mean, mean - critical * se, mean + critical * se, tail if t > 0 else 1 - tail


def show(label, diffs):
    mean, low, high, p = paired(diffs)
    print(f"{label}: {mean:+.2f} points, 95% CI [{low:+.2f}, {high:+.2f}], one-sided p = {p:.3f}; per seed {[round(x, 1) for x in diffs]}")


def main():
    lever = series(sys.argv[1])
    for name in ("judge", "actor"):
        values, start = lever[name]
        show(f"{sys.argv[1]} {name} vs iteration 0", [100 * (v - start) for v in values])
    for other_name in sys.argv[2:]:
        other = series(other_name)
        for name in ("judge", "actor"):
            show(f"{sys.argv[1]} vs {other_name}, {name}", [100 * (a - b) for a, b in zip(lever[name][0], other[name][0])])


if __name__ == "__main__":
    main()
