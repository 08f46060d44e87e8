"""Importing any one module of the engine, alone, in a fresh interpreter gives the whole
engine: every rule registered, np.linalg.eigh and np.linalg.solve differentiable in
both modes, whatever is imported first."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Run after one ``import <module>``: eigh and solve in forward and reverse mode against
# their closed forms, and the registrations of every rule module in the one table.
CHECK = """
import sys
import numpy as np
import ad_engine
assert "autodiff_helpers" not in sys.modules and "ad_course" not in sys.modules
from ad_engine.forward import jvp
from ad_engine.reverse import grad
from ad_engine.rules import NUMPY_FUNCTIONS
rng = np.random.default_rng(0)
m = rng.normal(size=(4, 4))
a, da, b, c = m + m.T, rng.normal(size=(4, 4)), rng.normal(size=4), rng.normal(size=4)
da = da + da.T
w, v = np.linalg.eigh(a)
x = np.linalg.solve(a, b)
# eigh: dw_n = psi_n^T dA psi_n; the gradient of c . w is G = V diag(c) V^T read, as numpy's
# eigh reads a, from the lower triangle: 2 G below the diagonal, G on it, 0 above
_, dw = jvp(lambda a: np.linalg.eigh(a)[0], a, da)
np.testing.assert_allclose(dw, np.einsum("in,ij,jn->n", v, da, v), atol=1e-12)
g = v @ np.diag(c) @ v.T
np.testing.assert_allclose(grad(lambda a: np.linalg.eigh(a)[0] @ c)(a),
                           np.tril(2 * g) - np.diag(np.diag(g)), atol=1e-12)
# solve: dx = A^-1 (-dA x); the gradient of c . x with respect to b is A^-T c
_, dx = jvp(lambda a: np.linalg.solve(a, b), a, da)
np.testing.assert_allclose(dx, -np.linalg.solve(a, da @ x), atol=1e-12)
np.testing.assert_allclose(grad(lambda b: np.linalg.solve(a, b) @ c)(b), np.linalg.solve(a.T, c),
                           atol=1e-12)
# one function of each rule module is in the table
for function in (np.sin, np.sign, np.sum, np.linalg.inv, np.linalg.eigh, np.linalg.solve, np.roll):
    assert function in NUMPY_FUNCTIONS, function
print("ok")
"""


@pytest.mark.parametrize("first", ["ad_engine", "ad_engine.reverse", "ad_engine.forward",
                                   "ad_engine.rules", "ad_engine.dispatch", "ad_engine.linalg"])
def test_one_import_gives_the_whole_engine(first):
    result = subprocess.run([sys.executable, "-c", f"import {first}\n{CHECK}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
