"""Time the HMC force of 2-D compact U(1): -ad.grad of the Wilson action against the
hand-written staple force, and the engine's own floor.

Usage: python -m benchmarks.force_step [--repeats N] [--size L]

The three take turns, N times each, and the medians are printed with their ratio to the
staple force. "engine floor" makes the numpy calls that the engine makes for the same
force (forward values, then each vjp), without the engine: AD minus the floor is the
engine's own cost (recording nodes, dispatch, the sweep), the floor over the staple
force is the price of computing the force as a gradient at all. The floor is checked
to be the AD force bit for bit, so it cannot drift from what the engine does.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy is imported

import numpy as np  # noqa: E402

import autodiff_helpers as ad  # noqa: E402
from benchmarks import workloads as w  # noqa: E402
from benchmarks.run import Config, interleaved_medians  # noqa: E402

roll = ad.PRIMITIVES["roll"].evaluate  # np.roll as the engine evaluates it


def engine_floor(theta, beta):
    """-dS/dtheta from the numpy calls the engine makes for it, in its order."""
    t1, t2 = theta[0], theta[1]
    p = t1 + roll(t2, -1, 0) - roll(t1, -1, 1) - t2  # forward: the values
    np.add.reduce(1.0 - np.cos(p), axis=None)
    g_sum = np.empty(p.shape)  # the sum's transpose
    g_sum[...] = beta
    g_p = -g_sum * -np.sin(p)  # 1 - cos, cos
    g_t1 = g_p + roll(-g_p, 1, 1)  # the plaquette's four terms, rolled back
    g_t2 = -g_p + roll(g_p, 1, 0)
    g_theta = np.zeros(theta.shape)  # the transposes of theta[0] and theta[1]
    g_theta[0] = g_t1
    other = np.zeros(theta.shape)
    other[1] = g_t2
    return -(g_theta + other)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3000)
    parser.add_argument("--size", type=int, default=w.LATTICE_L)
    args = parser.parse_args(argv)
    theta, beta = w.lattice_configuration(args.size), w.LATTICE_BETA
    grad = ad.grad(w.wilson_action)
    runs = {"staple force (numpy, by hand)": lambda: w.staple_force(theta, beta),
            "engine floor (its numpy calls)": lambda: engine_floor(theta, beta),
            "AD force (-ad.grad)": lambda: -grad(theta, beta)}
    reference = runs["AD force (-ad.grad)"]()
    assert np.array_equal(runs["engine floor (its numpy calls)"](), reference)
    assert w.relative_error(reference, runs["staple force (numpy, by hand)"]()) < 1e-12
    cfg = Config("full")
    cfg.min_repeats = args.repeats
    medians = interleaved_medians(runs, cfg, max_rounds=args.repeats)
    hand = medians["staple force (numpy, by hand)"]
    print(f"L = {args.size}, median of {args.repeats} runs each, taking turns:")
    for name, seconds in medians.items():
        print(f"  {name:32s} {seconds * 1e6:7.1f} us  x{seconds / hand:5.2f}")
    return medians


if __name__ == "__main__":
    main()
