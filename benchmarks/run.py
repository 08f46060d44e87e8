"""Run every benchmark, print the figures, write benchmarks/RESULTS.md and results.png.

    make bench                      (creates .venv-bench with the peers, then runs this)
    .venv-bench/bin/python -m benchmarks.run [--quick]

Each timed figure is the median of repeated runs after one warm-up run
(time.perf_counter; the engines of one workload take turns, so a change of the
machine's load hits them alike), and each workload is timed only after every engine has
agreed with the reference to 1e-8 relative (workloads.TOLERANCE). ``--quick``
uses small sizes and few repeats (a dry run of the whole pipeline, ~1 minute;
its RESULTS.md says so).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import autodiff_helpers as ad
from benchmarks import workloads as w
from benchmarks.peers import environment_info, load_peers

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OURS = "autodiff_helpers"
FWD_OURS = ("autodiff_helpers (ad.jvp)", "autodiff_helpers (Dual(x, 1.0))",
            "autodiff_helpers (ad.derivative, f' only)")
OURS_GC_OFF = "autodiff_helpers (gc paused)"
MLP_OURS = ("autodiff_helpers (ad.MLP + SGD)", "autodiff_helpers (Variable ops)")
FORCE_FLOOR, FORCE_OURS = "numpy staple force (by hand)", "autodiff_helpers (-ad.grad)"
STAPLE_TOLERANCE = 1e-12  # the hand-derived force must be the AD force to round-off


class Config:
    """Sizes and time budgets: "full" (make bench), "quick" (a dry run, ~1-2 minutes) or
    "tiny" (the smoke test: every code path, sizes too small to mean anything)."""

    def __init__(self, mode="full"):
        self.mode = mode
        full, quick = mode == "full", mode == "quick"
        self.scalar_sizes = ((10**3, 10**4, 10**5, 10**6) if full
                             else (10**3, 10**4) if quick else (10**2, 10**3))
        self.peer_max_nodes = 10**5 if full else 10**4
        self.logistic_ns = tuple(range(10, 21)) if full else (10, 12, 14) if quick else (4, 6)
        self.probe_depths = (w.PROBE_DEPTHS if full else w.PROBE_DEPTHS[:5] if quick
                             else w.PROBE_DEPTHS[:2])
        self.probe_budget = 45.0 if full else 10.0
        self.fwd_points = 10**6 if full else 10**5 if quick else 10**3
        self.mlp_sizes = w.MLP_SIZES if mode != "tiny" else {
            "small": ((2, 4, 4, 2), 8), "medium": ((8, 16, 4), 16)}
        self.lattice_size = w.LATTICE_L if mode != "tiny" else 4
        self.budget = 2.0 if full else 0.3 if quick else 0.01  # seconds of repeats per figure
        self.min_repeats = 5 if full else 3 if quick else 1
        # collect garbage before each timing (the previous graph is freed outside the
        # timed region); skipped when tiny: in a pytest process one collection takes ~0.1 s
        self.collect = gc.collect if mode != "tiny" else (lambda: None)


# -----------------------------------------------------------------------------
# timing
# -----------------------------------------------------------------------------

def median_time(run, cfg, max_repeats=200):
    """Median seconds of ``run()`` over repeats after one warm-up (repeats fill ~cfg.budget)."""
    cfg.collect()
    start = time.perf_counter()
    run()
    warm = time.perf_counter() - start
    repeats = int(min(max_repeats, max(cfg.min_repeats, cfg.budget / max(warm, 1e-7))))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(runs, cfg, max_rounds=200):
    """{name: median seconds} for several ways of doing one thing, timed in rounds (each
    run once per round, in turn) so that a change of machine load hits all of them alike.
    A run slower than 50 ms per call is timed on its own (median_time)."""
    cfg.collect()
    warm = {}
    for name, run in runs.items():
        start = time.perf_counter()
        run()
        warm[name] = time.perf_counter() - start
    fast = {name: run for name, run in runs.items() if warm[name] < 0.05}
    rounds = int(min(max_rounds, max(cfg.min_repeats, cfg.budget * len(fast)
                                     / max(sum(warm[name] for name in fast), 1e-7))))
    times = {name: [] for name in fast}
    for _ in range(rounds):
        for name, run in fast.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(record) for name, record in times.items()}
    for name, run in runs.items():
        if name not in fast:
            medians[name] = median_time(run, cfg)
    return {name: medians[name] for name in runs}


def paired_medians(runs, floor, cfg):
    """({name: median seconds}, {name: ratio to ``floor``}): each run takes turns with the
    floor alone (interleaved_medians of the pair), and its ratio is taken against the floor's
    median in that same pairing, so load drift and cache effects cancel in the ratio.
    The floor's own time is the median over its pairings."""
    pairs = {name: interleaved_medians({floor: runs[floor], name: run}, cfg)
             for name, run in runs.items() if name != floor}
    floor_time = statistics.median([pair[floor] for pair in pairs.values()] or
                                   [median_time(runs[floor], cfg)])
    times, ratios = {floor: floor_time}, {floor: 1.0}
    for name in runs:
        if name != floor:
            times[name] = pairs[name][name]
            ratios[name] = pairs[name][name] / pairs[name][floor]
    return times, ratios


def forward_backward_times(forward, backward, steps, cfg):
    """Medians of forward (building the graph) and backward (the reverse sweep) times."""
    cfg.collect()
    start = time.perf_counter()
    backward(forward(steps))  # warm-up
    warm = time.perf_counter() - start
    repeats = int(min(30, max(cfg.min_repeats, cfg.budget / max(warm, 1e-7))))
    fwd, bwd = [], []
    for _ in range(repeats):
        cfg.collect()  # free the previous graph outside the timed region
        t0 = time.perf_counter()
        state = forward(steps)
        t1 = time.perf_counter()
        backward(state)
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
        del state
    return statistics.median(fwd), statistics.median(bwd), repeats, warm


def check(errors, what):
    """Print the agreement check and stop if any engine disagrees."""
    worst = max(errors.values())
    print(f"  agreement ({what}): largest relative error {worst:.1e} "
          f"({', '.join(f'{k} {v:.0e}' for k, v in errors.items())})")
    bad = {k: v for k, v in errors.items() if not v <= w.TOLERANCE}
    if bad:
        raise SystemExit(f"engines disagree on {what}: {bad}; not timing wrong answers")
    return worst


# -----------------------------------------------------------------------------
# the sections
# -----------------------------------------------------------------------------

def run_scalar(peers, cfg):
    print("\n[1] scalar graph with shared subexpressions: l -> 0.5 l (1 - l) + 0.5 x")
    engines, skipped = w.scalar_engines(peers)
    # the same engine with Python's cyclic garbage collector paused while the graph is
    # built and swept (ad.collector_paused, the advice for large graphs): graph nodes are
    # ordinary tracked objects, so with the collector on its passes over the growing
    # graph cost more per node as the graph grows
    engines = {OURS: engines[OURS], OURS_GC_OFF: engines[OURS],
               **{name: pair for name, pair in engines.items() if name != OURS}}
    worst = check(w.scalar_agreement(engines, 200), "dl/dx at 200 steps")
    rows, stopped = [], {}
    for nodes in cfg.scalar_sizes:
        steps = w.steps_for_nodes(nodes)
        for name, (forward, backward) in engines.items():
            if name not in (OURS, OURS_GC_OFF) and nodes > cfg.peer_max_nodes:
                continue
            if name in stopped:
                rows.append({"engine": name, "nodes": nodes, "skipped": stopped[name]})
                continue
            paused = ad.collector_paused() if name == OURS_GC_OFF else contextlib.nullcontext()
            try:
                with paused:
                    fwd, bwd, repeats, warm = forward_backward_times(forward, backward, steps, cfg)
            except Exception as error:  # micrograd: RecursionError in its recursive sort
                stopped[name] = f"{type(error).__name__} at {nodes:,} nodes"
                rows.append({"engine": name, "nodes": nodes, "skipped": stopped[name]})
                print(f"  {name:18s} {nodes:>9,} nodes  FAILED: {type(error).__name__}")
                continue
            row = {"engine": name, "nodes": 4 * steps + 2, "forward": fwd, "backward": bwd,
                   "ratio": bwd / fwd, "per_node_us": (fwd + bwd) / (4 * steps + 2) * 1e6,
                   "repeats": repeats}
            rows.append(row)
            print(f"  {name:18s} {row['nodes']:>9,} nodes  forward {fwd * 1e3:9.2f} ms  "
                  f"backward {bwd * 1e3:9.2f} ms  backward/forward {bwd / fwd:5.2f}  "
                  f"{row['per_node_us']:6.2f} us/node  (median of {repeats})")
            if warm * 10 > 20:  # the next size would take ~10x as long per run
                stopped[name] = (f"not run: one run took {warm:.1f} s at {nodes:,} nodes, "
                                 "~10x that here")
    return {"rows": rows, "skipped": skipped, "agreement": worst}


def run_probe(peers, cfg):
    print(f"\n[1b] largest depth without error (subprocess per engine, "
          f"budget {cfg.probe_budget:.0f} s each)")
    engines, skipped = w.scalar_engines(peers)
    results = {}
    for name in engines:
        code = ("import sys; from benchmarks import workloads as w; "
                f"w.probe_depths({name!r}, {cfg.probe_budget}, {cfg.probe_depths!r})")
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                              text=True, timeout=cfg.probe_budget * 4 + 120)
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        ok = [r["depth"] for r in lines if r["status"] == "ok"]
        failure = next((r for r in lines if r["status"] != "ok"), None)
        if proc.returncode != 0 and (failure is None):
            tried = cfg.probe_depths[len(ok)] if len(ok) < len(cfg.probe_depths) else None
            failure = {"depth": tried, "status": f"process died (exit {proc.returncode}): "
                       f"{proc.stderr.strip().splitlines()[-1:] }"}
        results[name] = {"largest_ok": max(ok) if ok else None, "failure": failure,
                         "log": lines}
        print(f"  {name:18s} largest depth ok: {max(ok) if ok else 'none':>9}  "
              f"then: {_describe_failure(failure)}")
    return {"results": results, "skipped": skipped}


def _describe_failure(failure):
    if failure is None:
        return "all probed depths ok"
    if failure["status"] == "budget":
        return (f"{failure['depth']:,} not tried (time budget; estimated "
                f"{failure['estimate_s']:.0f} s)")
    return f"{failure['status']} at depth {failure['depth']:,}"


def run_logistic(cfg):
    print("\n[1c] the lecture's path-summing engine vs autodiff_helpers, logistic map 4 l (1 - l)")
    worst = check(w.logistic_agreement(max(cfg.logistic_ns)), f"n = {max(cfg.logistic_ns)}")
    rows = []
    for n in cfg.logistic_ns:
        times = interleaved_medians({"path": lambda: w.logistic_path_sum(n),
                                     "ours": lambda: w.logistic_ad(n)}, cfg)
        path, ours = times["path"], times["ours"]
        rows.append({"n": n, "path": path, "ours": ours, "ratio": path / ours})
        print(f"  n = {n:2d}: path-sum {path * 1e3:10.3f} ms   autodiff_helpers "
              f"{ours * 1e3:7.3f} ms   ratio {path / ours:9.1f}")
    return {"rows": rows, "agreement": worst}


def run_mlp(peers, cfg):
    print("\n[2] MLP training step (forward + backward + SGD), tanh, softmax cross-entropy")
    out = {}
    for size, (layers, batch) in cfg.mlp_sizes.items():
        problem = w.mlp_problem(layers, batch)
        engines, skipped = w.mlp_engines(peers, problem)
        worst = check(w.mlp_agreement(engines, problem), f"{size} MLP gradients")
        engines, _ = w.mlp_engines(peers, problem)  # fresh parameters for timing
        times, ratios = paired_medians(engines, "numpy (hand-written)", cfg)
        label = "-".join(map(str, layers))
        for name, seconds in times.items():
            print(f"  {size:6s} {label} batch {batch}: {name:32s} {seconds * 1e3:9.3f} ms  "
                  f"x{ratios[name]:7.2f} the numpy floor")
        for name, reason in skipped.items():
            print(f"  {size:6s}: {name} SKIPPED: {reason}")
        out[size] = {"layers": label, "batch": batch, "times": times, "ratios": ratios,
                     "skipped": skipped, "agreement": worst}
    return out


def run_fwd(peers, cfg):
    print(f"\n[3] forward mode on arrays: f and f' of x exp(-x^2) on {cfg.fwd_points:,} points")
    x = w.fwd_grid(cfg.fwd_points)
    engines, skipped = w.fwd_engines(peers, x)
    worst = check(w.fwd_agreement(engines, x), "f and f'")
    times, ratios = paired_medians(engines, "numpy f alone", cfg)
    for name, seconds in times.items():
        print(f"  {name:42s} {seconds * 1e3:8.2f} ms  x{ratios[name]:5.2f} numpy's f alone")
    return {"times": times, "ratios": ratios, "skipped": skipped, "agreement": worst,
            "points": cfg.fwd_points}


def run_hvp(peers, cfg):
    print(f"\n[4] Hessian-vector product, n = {w.HVP_DIM}: "
          "f = sum sin(x_i) x_(i+1) + sum x_i^4")
    x, v = w.hvp_point()
    engines, skipped = w.hvp_engines(peers, x, v)
    worst = check(w.hvp_agreement(engines, x, v), "H v")
    times, ratios = paired_medians(engines, "numpy H v by hand", cfg)
    for name, seconds in times.items():
        print(f"  {name:30s} {seconds * 1e6:10.1f} us  x{ratios[name]:7.1f} by hand")
    return {"times": times, "ratios": ratios, "skipped": skipped, "agreement": worst}


def run_force(peers, cfg):
    print(f"\n[5] HMC force of 2-D compact U(1), L = {cfg.lattice_size}: "
          "-grad of S = beta sum (1 - cos theta_P)")
    theta = w.lattice_configuration(cfg.lattice_size)
    staple = max(w.relative_error(-ad.grad(w.wilson_action)(t, w.LATTICE_BETA),
                                  w.staple_force(t, w.LATTICE_BETA))
                 for t in [theta] + [w.lattice_configuration(cfg.lattice_size, seed)
                                     for seed in range(10, 15)])
    print(f"  staple force = AD force on 6 random configurations: largest relative "
          f"error {staple:.1e}")
    if not staple <= STAPLE_TOLERANCE:
        raise SystemExit(f"the staple force is not the gradient of the action ({staple:.1e})")
    engines, skipped = w.force_engines(peers, theta)
    worst = check(w.force_agreement(engines, theta), "the force")
    times, ratios = paired_medians(engines, FORCE_FLOOR, cfg)
    for name, seconds in times.items():
        print(f"  {name:30s} {seconds * 1e6:10.1f} us  x{ratios[name]:6.2f} the staple force")
    return {"times": times, "ratios": ratios, "skipped": skipped, "agreement": worst,
            "staple": staple, "size": cfg.lattice_size}


# -----------------------------------------------------------------------------
# report
# -----------------------------------------------------------------------------

def goals(res):
    ours_rows = sorted((r for r in res["scalar"]["rows"] if r["engine"] == OURS),
                       key=lambda r: r["nodes"])
    ratio_row = min(ours_rows, key=lambda r: abs(np.log(r["nodes"] / 10**5)))  # ~10^5 nodes
    depth = res["probe"]["results"][OURS]["largest_ok"] or 0
    medium = res["mlp"]["medium"]["ratios"]
    small = res["mlp"]["small"]["ratios"]
    ours_mlp = [name for name in MLP_OURS if name in medium]
    fwd = res["fwd"]["ratios"]
    gc_off = [r for r in res["scalar"]["rows"]
              if r["engine"] == OURS_GC_OFF and r["nodes"] == ratio_row["nodes"] and "ratio" in r]
    rows = [
        ("backward/forward on workload 1 (at {:,} nodes)".format(ratio_row["nodes"]),
         "<= 1.5", f"{ratio_row['ratio']:.2f}", ratio_row["ratio"] <= 1.5),
    ] + [
        ("... the same with the garbage collector paused", "<= 1.5", f"{r['ratio']:.2f}",
         r["ratio"] <= 1.5) for r in gc_off
    ] + [
        ("largest depth without error", ">= 1,000,000", f"{depth:,}", depth >= 10**6),
    ]
    for name in (OURS_GC_OFF, OURS):  # the goal is for large graphs built as advised
        per_node = [r["per_node_us"] for r in res["scalar"]["rows"]
                    if r["engine"] == name and r["nodes"] >= 9_000 and "per_node_us" in r]
        growth = per_node[-1] / per_node[0] if len(per_node) > 1 else None
        rows.append((f"linear growth: time per node at 10^6 / at 10^4 nodes, {name}",
                     "<= 1.5" if name == OURS_GC_OFF else "(for information)",
                     "n/a" if growth is None else f"{growth:.2f}",
                     None if name == OURS or growth is None else growth <= 1.5))
    for name in ours_mlp:
        ratio = medium[name]
        rows.append((f"medium MLP step / numpy floor: {name}", "<= 1.2", f"{ratio:.2f}",
                     ratio <= 1.2))
    for name in ours_mlp:
        if "torch" in small:
            # ratio of the two ratios to the numpy floor (each measured taking turns with it)
            rows.append((f"small MLP step / PyTorch CPU step: {name}", "< 1",
                         f"{small[name] / small['torch']:.2f}", small[name] < small["torch"]))
        else:
            rows.append((f"small MLP step / PyTorch CPU step: {name}", "< 1",
                         "torch not installed", None))
    for name in FWD_OURS:
        fwd_ratio = fwd[name]
        rows.append((f"forward mode on arrays / numpy f alone: {name}", "<= 3",
                     f"{fwd_ratio:.2f}", fwd_ratio <= 3))
    force = res["force"]["ratios"][FORCE_OURS]
    rows.append((f"HMC force (L = {res['force']['size']}) / hand-written staple force: "
                 f"{FORCE_OURS}", "<= 2", f"{force:.2f}", force <= 2))
    return rows


def _fmt_ms(seconds):
    return f"{seconds * 1e3:.3f}" if seconds < 1 else f"{seconds * 1e3:,.0f}"


def write_results(res, info, cfg, path):
    lines = ["# Benchmark results", "",
             "Generated by `make bench` (benchmarks/run.py); do not edit by hand.",
             ""]
    if cfg.mode != "full":
        lines += [f"**Dry run (`--{cfg.mode}`): small sizes, few repeats. Not the real figures.**",
                  ""]
    lines += ["Times are medians of repeated runs after a warm-up (`time.perf_counter`). "
              "Ratios to a floor (hand-written numpy) come from runs that take turns with that "
              "floor, so a change of the machine's load hits both alike. `make bench` runs every "
              "engine on one thread (BLAS, OpenMP, XLA), and keeps glibc's heap (freed memory is "
              "not given back to the kernel, and arrays up to 32 MB come from the heap): with "
              "glibc's default trimming, some processes faulted the freed pages back in at "
              "every step and timed the same MLP step 2x slower than others. "
              "Before timing, every engine's gradient was checked against a closed form or the "
              "hand-written numpy version: all agree to 1e-8 relative (largest errors below).", "",
              "## Machine and versions", "", "| | |", "|---|---|"]
    for key, value in info.items():
        lines.append(f"| {key} | {value} |")
    lines.append(f"| date | {res['date']} |")
    lines.append(f"| load average (1, 5, 15 min) before / after | {res['load_before']} / "
                 f"{res['load_after']} |")
    lines.append(f"| run time | {res['elapsed']:.0f} s |")
    lines += ["", "## Goals", "", "| goal | target | measured | met |", "|---|---|---|---|"]
    for goal, target, measured, met in goals(res):
        lines.append(f"| {goal} | {target} | {measured} | "
                     f"{'n/a' if met is None else ('yes' if met else '**no**')} |")

    s = res["scalar"]
    lines += ["", "## 1. Scalar graph with shared subexpressions", "",
              "`l -> 0.5 l (1 - l) + 0.5 x` from l = x = 0.3: every step uses l twice and x "
              "feeds every step, 4 operations per step, dl/dx ~ 0.78 at any depth (neither "
              "overflow nor underflow). Forward = building the graph (tape), backward = the "
              "reverse sweep. jax runs eagerly (`jax.vjp`; jit would compile the unrolled loop). "
              f"Agreement: {s['agreement']:.1e}.", "",
              "| engine | nodes | forward ms | backward ms | backward/forward | us per node |",
              "|---|---:|---:|---:|---:|---:|"]
    for r in s["rows"]:
        if "skipped" in r:
            lines.append(f"| {r['engine']} | {r['nodes']:,} | {r['skipped']} | | | |")
        else:
            lines.append(f"| {r['engine']} | {r['nodes']:,} | {_fmt_ms(r['forward'])} | "
                         f"{_fmt_ms(r['backward'])} | {r['ratio']:.2f} | {r['per_node_us']:.2f} |")
    lines += _skipped_lines(s["skipped"])

    p = res["probe"]
    lines += ["", "### Largest depth without error", "",
              "Depth = operations on the longest path (3 per step); probed at "
              + ", ".join(f"{d:,}" for d in cfg.probe_depths)
              + f" in a subprocess per engine, each depth checked against the recurrence, "
              f"{cfg.probe_budget:.0f} s per engine.", "",
              "| engine | largest depth ok | next depth |", "|---|---:|---|"]
    for name, r in p["results"].items():
        largest = f"{r['largest_ok']:,}" if r["largest_ok"] else "none"
        lines.append(f"| {name} | {largest} | {_describe_failure(r['failure'])} |")
    lines += _skipped_lines(p["skipped"])

    lg = res["logistic"]
    lines += ["", "### The lecture's path-summing engine vs this engine", "",
              "Logistic map `l -> 4 l (1 - l)`, n steps from x = 0.1, graph construction and "
              "gradient together. The path-summing engine visits a shared node once per path "
              f"(~2^n). Agreement: {lg['agreement']:.1e}.", "",
              "| n | path-sum ms | autodiff_helpers ms | ratio |", "|---:|---:|---:|---:|"]
    for r in lg["rows"]:
        lines.append(f"| {r['n']} | {_fmt_ms(r['path'])} | {r['ours'] * 1e3:.3f} | "
                     f"{r['ratio']:,.1f} |")

    lines += ["", "## 2. MLP training step (forward + backward + SGD update)", "",
              "tanh hidden layers, softmax cross-entropy (mean over the batch), SGD lr 0.1, "
              "float64. The floor is the same step written by hand in numpy. Two library versions: "
              "`ad.MLP` + `ad.cross_entropy` (one fused graph node) + `ad.SGD`, as notebook 06 "
              "uses them, and the same step built from `ad.Variable` primitives (`x @ W + b`, "
              "`np.tanh`, the loss as log-sum-exp of exp/sum/log nodes). micrograd works on "
              "scalars (tanh/exp/log added in its own closure style)."]
    for size, m in res["mlp"].items():
        lines += ["", f"**{size}: {m['layers']}, batch {m['batch']}** "
                  f"(agreement {m['agreement']:.1e})", ""]
        lines += _timing_table(m, "ms per step", "x numpy floor", 1e3, ".3f", ".2f")

    f = res["fwd"]
    lines += ["", "## 3. Forward mode on arrays", "",
              f"f(x) = x exp(-x^2) and f'(x) on {f['points']:,} points (float64). "
              f"Agreement: {f['agreement']:.1e}.", ""]
    lines += _timing_table(f, "ms", "x numpy f alone", 1e3, ".2f", ".2f")

    h = res["hvp"]
    lines += ["", "## 4. Hessian-vector product", "",
              f"f(x) = sum sin(x_i) x_(i+1) + sum x_i^4, n = {w.HVP_DIM}, H v "
              "(forward-over-reverse: jvp of grad; ad.hvp: a forward sweep with duals holding "
              f"Variables, then one backward sweep). Agreement: {h['agreement']:.1e}.", ""]
    lines += _timing_table(h, "us", "x by hand", 1e6, ".1f", ".1f")

    f = res["force"]
    lines += ["", "## 5. The force of Hybrid Monte Carlo", "",
              f"2-D compact U(1) lattice gauge theory, L = {f['size']}: link angles theta of "
              "shape (2, L, L), S = beta sum_P (1 - cos theta_P) with theta_P = t1 + roll(t2, -1, "
              "axis=0) - roll(t1, -1, axis=1) - t2, beta = 2. Each engine computes the force "
              "F = -dS/dtheta by reverse mode from S as written; the floor is the force derived "
              "by hand (the staples, numpy). The staple force equals the AD force to "
              f"{f['staple']:.1e} relative on 6 random configurations. "
              f"Agreement: {f['agreement']:.1e}.", ""]
    lines += _timing_table(f, "us", "x staple force", 1e6, ".1f", ".2f")
    lines += ["", "![benchmark plot](results.png)", ""]
    path.write_text("\n".join(lines))


def _timing_table(section, time_column, ratio_column, scale, time_format, ratio_format):
    """The table "| engine | time * scale | ratio |" of a section's "times" and "ratios",
    then its skipped peers."""
    return ([f"| engine | {time_column} | {ratio_column} |", "|---|---:|---:|"]
            + [f"| {name} | {seconds * scale:{time_format}} | "
               f"{section['ratios'][name]:{ratio_format}} |"
               for name, seconds in section["times"].items()]
            + _skipped_lines(section["skipped"]))


def _skipped_lines(skipped):
    return [""] + [f"- {name}: SKIPPED ({reason})" for name, reason in skipped.items()] \
        if skipped else []


def plot(res, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    by_engine = {}
    for r in res["scalar"]["rows"]:
        if "per_node_us" in r:
            by_engine.setdefault(r["engine"], []).append((r["nodes"], r["per_node_us"]))
    for name, points in by_engine.items():
        nodes, per_node = zip(*points)
        left.loglog(nodes, per_node, "o-", label=name)
    left.set_xlabel("nodes in the graph")
    left.set_ylabel("forward + backward time per node (us)")
    left.set_title("Scalar graph with shared subexpressions")
    left.legend(fontsize=8)
    rows = res["logistic"]["rows"]
    ad.plot_measurements(
        [r["n"] for r in rows],
        {"lecture path-sum engine": [r["path"] * 1e3 for r in rows],
         "autodiff_helpers": [r["ours"] * 1e3 for r in rows]},
        connect=True, ax=right, xlabel="logistic map steps n",
        ylabel="time for value and gradient (ms)")
    right.set_title("Path summing vs topological sweep")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--tiny", action="store_true", help="smoke test: every code path, tiny")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    cfg = Config("tiny" if args.tiny else "quick" if args.quick else "full")
    peers = load_peers()
    info = environment_info(peers)
    for key, value in info.items():
        print(f"{key}: {value}")
    start = time.perf_counter()
    res = {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
           "load_before": ", ".join(f"{x:.2f}" for x in os.getloadavg())}
    res["scalar"] = run_scalar(peers, cfg)
    res["probe"] = run_probe(peers, cfg)
    res["logistic"] = run_logistic(cfg)
    res["mlp"] = run_mlp(peers, cfg)
    res["fwd"] = run_fwd(peers, cfg)
    res["hvp"] = run_hvp(peers, cfg)
    res["force"] = run_force(peers, cfg)
    res["elapsed"] = time.perf_counter() - start
    res["load_after"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print("\nGoals:")
    for goal, target, measured, met in goals(res):
        print(f"  {goal}: {measured} (target {target}) "
              f"{'n/a' if met is None else ('met' if met else 'NOT MET')}")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    plot(res, output.with_name("results.png"))
    write_results(res, info, cfg, output)
    print(f"\nwrote {output} and {output.with_name('results.png')} in {res['elapsed']:.0f} s")
    return res


if __name__ == "__main__":
    main()
