"""Run the suite a student runs on several simulated machines (``make test-portability``;
CONTRIBUTING.md, section 4).  ``OPENBLAS_CORETYPE`` selects numpy's OpenBLAS kernels (another
summation order in ``@`` and LAPACK), ``NPY_DISABLE_CPU_FEATURES`` switches off numpy's SIMD
paths; each configuration runs pytest in a fresh process, side by side with the other
Pythons' runs, and prints the BLAS kernel and SIMD level the process really got (so a switch
that did nothing is seen).  Zen and Sandybridge are left out: each costs a whole run.

Usage: ``python tools/portability.py [--jobs N] [--skip-this-machine] [--python LABEL=PATH ...]
-- PYTEST ARGUMENT ...`` (the Makefile passes the suite of ``make test-core``).
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from numpy._core._multiarray_umath import __cpu_features__ as FEATURES

from course import ROOT

NO_AVX512 = "AVX512_ICL AVX512_SPR X86_V4"
NO_AVX2 = NO_AVX512 + " X86_V3"

# (name, environment changes: None removes a variable); the first is this machine as it is.
CONFIGURATIONS = [
    ("this machine", {}),
    ("OpenBLAS autodetect", {"OPENBLAS_CORETYPE": None, "OPENBLAS_L2_SIZE": None}),
    ("SkylakeX, all SIMD", {"OPENBLAS_CORETYPE": "SkylakeX"}),
    ("Haswell, no AVX-512", {"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": NO_AVX512}),
    ("Nehalem, no AVX2", {"OPENBLAS_CORETYPE": "Nehalem", "NPY_DISABLE_CPU_FEATURES": NO_AVX2}),
    # OpenBLAS's oldest x86-64 kernel (Katmai), also what it picks on a CPU it does not know,
    # such as a virtual machine's generic one: BLAS dot sums in another order there
    ("Prescott, no AVX2", {"OPENBLAS_CORETYPE": "Prescott", "NPY_DISABLE_CPU_FEATURES": NO_AVX2}),
]

# The instruction set each forced OpenBLAS kernel uses: on a CPU without it, SIGILL.
KERNEL_NEEDS = {"SkylakeX": "AVX512F", "Haswell": "AVX2", "Nehalem": "SSE42", "Prescott": "SSE3"}

# Printed by a fresh interpreter under each configuration: what it really runs.
PROBE = r"""
import ctypes, glob, os, platform, numpy
from numpy._core._multiarray_umath import __cpu_features__ as features
libs = glob.glob(os.path.join(os.path.dirname(numpy.__file__), os.pardir, "numpy.libs", "*openblas*"))
core = "?"
for lib in libs:  # the OpenBLAS of numpy 2's wheels (scipy-openblas64), where a wheel bundles one
    corename = ctypes.CDLL(lib).scipy_openblas_get_corename64_
    corename.restype = ctypes.c_char_p
    core = corename().decode()
level = next((name for name in ("AVX512_ICL", "X86_V4", "X86_V3") if features.get(name)), "X86_V2")
print(f"Python {platform.python_version()}, numpy {numpy.__version__}, BLAS {core}, SIMD up to {level}")
"""


def environment(changes: dict) -> dict:
    return {k: v for k, v in {**os.environ, **changes}.items() if v is not None}


def probe(changes: dict, python: str = sys.executable) -> str:
    """What a fresh interpreter ``python`` gets under ``changes`` (versions, BLAS, SIMD)."""
    result = subprocess.run([python, "-c", PROBE], env=environment(changes),
                            capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else (
        f"probe failed: {result.stderr.strip()[-200:]}")


def run(name: str, changes: dict, described: str, pytest_args: list[str],
        python: str = sys.executable) -> tuple[bool, str]:
    """Run pytest with ``python`` under one configuration; return (passed, the lines to print)."""
    start = time.perf_counter()
    result = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args],
        env=environment(changes), cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    ok = result.returncode == 0 and not described.startswith("probe failed")
    lines = [f"{'ok    ' if ok else 'FAILED'} {name:<24} {described:<66} "
             f"{(result.stdout.strip().splitlines() or ['no output'])[-1]} ({seconds:.0f} s)"]
    if not ok:
        failures = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
        lines += [f"       {line}" for line in failures or result.stdout.splitlines()[-20:]]
    return ok, "\n".join(lines)


def plan(configurations: list, skip_first: bool) -> list:
    """For each (name, changes, python) in order, the line saying why it does not run,
    or (name, changes, what the probe found, python) to run."""
    entries, seen = [], {}
    for number, (name, changes, python) in enumerate(configurations):
        lacking = KERNEL_NEEDS.get(changes.get("OPENBLAS_CORETYPE") or "")
        if lacking and not FEATURES.get(lacking):
            entries.append(f"skip   {name:<24} this CPU has no {lacking}, which the kernel needs")
            continue
        described = probe(changes, python)
        if described in seen:
            entries.append(f"same   {name:<24} {described}: as {seen[described]!r}")
        elif number == 0 and skip_first:
            entries.append(f"skip   {name:<24} {described}: make test has run the suite here")
        else:
            entries.append((name, changes, described, python))
        seen.setdefault(described, name)
    return entries


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="configurations run at a time (default: one per CPU core)")
    parser.add_argument("--skip-this-machine", action="store_true",
                        help="leave out the first configuration (make test has just run it)")
    parser.add_argument("--python", action="append", default=[], metavar="LABEL=PATH",
                        help="also run the whole suite with this interpreter (its own "
                             "virtual environment) in this machine's configuration")
    parser.add_argument("pytest_args", nargs="+", help="the suite (make test-core's)")
    args = parser.parse_args(argv)
    configurations = [(name, changes, sys.executable) for name, changes in CONFIGURATIONS]
    if platform.machine().lower() not in ("x86_64", "amd64"):
        print(f"{platform.machine()} is not x86-64: only this machine's own configuration runs")
        configurations = configurations[:1]
    configurations += [(f"Python {label}", {}, path) for label, _, path in
                       (option.partition("=") for option in args.python)]
    start = time.perf_counter()
    entries = plan(configurations, args.skip_this_machine)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        # the other Pythons' runs, the longest, start first; the lines come in the table's order
        to_run = sorted((e for e in entries if isinstance(e, tuple)), key=lambda e: e[3] == sys.executable)
        runs = {id(entry): pool.submit(run, *entry[:3], args.pytest_args, entry[3]) for entry in to_run}
        results = []
        for entry in entries:
            ok, lines = runs[id(entry)].result() if id(entry) in runs else (None, entry)
            print(lines, flush=True)
            results += [] if ok is None else [ok]
    print(f"portability: {sum(results)} of {len(results)} configurations passed "
          f"({time.perf_counter() - start:.0f} s, {max(1, args.jobs)} at a time)")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
