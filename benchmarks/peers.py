"""The peer AD engines: import what is installed, report what is not.

A peer that cannot be imported is kept in ``PEERS`` with ``module=None`` and a
reason, so the runner prints it as skipped instead of dropping it silently.
Install them with ``make bench`` (into .venv-bench, from requirements-peers.txt).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform
import sys
from dataclasses import dataclass, field

# JAX: CPU only, and float64 (its default is float32, which could not agree to 1e-8).
os.environ.setdefault("JAX_PLATFORMS", "cpu")


@dataclass
class Peer:
    name: str
    module: object = None
    version: str = ""
    reason: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def available(self):
        return self.module is not None


def _load(name, import_name, configure=None):
    try:
        module = importlib.import_module(import_name)
    except Exception as error:  # ImportError, or a broken install
        return Peer(name, reason=f"not installed ({type(error).__name__}: {error})")
    version = getattr(module, "__version__", None)
    if version is None:  # autograd and micrograd have no __version__
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "?"
    peer = Peer(name, module, version)
    if configure is not None:
        configure(peer)
    return peer


def _configure_jax(peer):
    peer.module.config.update("jax_enable_x64", True)
    peer.extra["numpy"] = importlib.import_module("jax.numpy")
    peer.extra["devices"] = str(peer.module.devices())


def _configure_torch(peer):
    peer.extra["func"] = importlib.import_module("torch.func")
    peer.extra["threads"] = peer.module.get_num_threads()


def _configure_autograd(peer):
    peer.extra["numpy"] = importlib.import_module("autograd.numpy")


def _configure_micrograd(peer):
    peer.extra["Value"] = importlib.import_module("micrograd.engine").Value


def load_peers():
    """Return {name: Peer} for micrograd, autograd, torch and jax (installed or not)."""
    return {
        "micrograd": _load("micrograd", "micrograd", _configure_micrograd),
        "autograd": _load("autograd", "autograd", _configure_autograd),
        "torch": _load("torch", "torch", _configure_torch),
        "jax": _load("jax", "jax", _configure_jax),
    }


def environment_info(peers):
    """Machine, interpreter and library versions, for the head of RESULTS.md."""
    import numpy as np

    import autodiff_helpers

    info = {
        "cores (os.cpu_count)": os.cpu_count(),
        "cores usable (sched_getaffinity)": len(os.sched_getaffinity(0)),
        "cpu": _cpu_model(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "autodiff_helpers": autodiff_helpers.__file__.rsplit("/", 1)[-1],
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "glibc heap (MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_)": ", ".join(
            os.environ.get(name, "(unset)")
            for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")),
    }
    try:
        import threadpoolctl

        blas = [
            f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '')} "
            f"threads={i.get('num_threads')}"
            for i in threadpoolctl.threadpool_info()
            if i.get("user_api") == "blas"
        ]
        info["numpy BLAS"] = "; ".join(blas) or "?"
    except ImportError:
        info["numpy BLAS"] = "(threadpoolctl not installed)"
    for name, peer in peers.items():
        info[name] = peer.version if peer.available else f"SKIPPED: {peer.reason}"
    if peers["torch"].available:
        info["torch threads"] = peers["torch"].extra["threads"]
    if peers["jax"].available:
        info["jax devices"] = peers["jax"].extra["devices"]
    return info


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"
