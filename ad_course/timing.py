"""Timing code, and pausing Python's cyclic garbage collector while a large graph is built.

CPython frees an object as soon as nothing refers to it (reference counting).
Only reference cycles need its second mechanism, the cyclic collector, which
every so often walks every container object that has survived earlier walks.
A computational graph under construction is what it handles worst: 10^6
nodes, all alive, all survivors, each full walk visiting the whole graph.
Where that matters (graphs of 10^5 nodes and more, benchmarks), build the
graph inside ``with collector_paused():``; the graph is still freed by
reference counting the moment its output goes.
"""

from __future__ import annotations

import contextlib
import gc
import time


@contextlib.contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector inside a ``with`` block and restore
    its previous state afterwards (reference counting still frees objects)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def best_time(function, number=1, repeat=3) -> float:
    """Return the time of one call of ``function()`` in seconds: the best of
    ``repeat`` runs of ``number`` calls each, with the garbage collector paused
    during the runs (as ``timeit`` does). The minimum is the run least
    disturbed by the rest of the machine."""
    times = []
    with collector_paused():
        for _ in range(repeat):
            start = time.perf_counter()
            for _ in range(number):
                function()
            times.append((time.perf_counter() - start) / number)
    return min(times)
