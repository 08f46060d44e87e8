"""The automatic differentiation engine of the course (it imports nothing from ad_course).

Read it in this order, from the bottom layer up (each module imports only from
the modules before it):

  rules.py            a primitive, its registration, the tables, tags and ``bind``
  numpy_rules.py      the table of numpy's elementwise functions, matmul, where, sums...
  linalg_rules.py     einsum, inv, det, slogdet, SVD, cholesky, pinv
  linalg.py           eigh, solve
  numpy_functions.py  numpy functions written with primitives (concatenate, roll, norm...)
  dispatch.py         how x * y or np.sin(x) reaches a primitive (ArraySurface)
  forward.py          Dual, derivative, jvp
  reverse.py          Variable, the backward sweep, grad
  higher_order.py, checkpoint.py, numerical.py, nn.py, optim.py

Importing the package (or any module of it: Python runs this file first) loads
every module, so every rule is registered whatever is imported and in which order.
"""

from ad_engine import numpy_rules, linalg_rules, linalg, numpy_functions  # noqa: F401, I001
from ad_engine import dispatch, forward, reverse  # noqa: F401
from ad_engine import checkpoint, higher_order, nn, numerical, optim  # noqa: F401
from ad_engine.forward import Dual, derivative, jvp
from ad_engine.reverse import Variable, grad
from ad_engine.rules import defprimitive, implements

__all__ = ["Dual", "Variable", "defprimitive", "derivative", "grad", "implements", "jvp"]
