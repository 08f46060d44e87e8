"""Beyond first derivatives: Hessian-vector products, Hessians, and f, f', f'' in one sweep."""

from __future__ import annotations

import numpy as np

from ad_engine.dispatch import one_element_shape
from ad_engine.forward import Dual, call_perturbed, primal_part, tangent_part, unit_vectors
from ad_engine.reverse import Variable, leaf_gradient
from ad_engine.rules import Traced, is_complex, live_tag, shape_of


def hvp(f, x, v):
    """Return the Hessian-vector product H(x) v of a scalar function of a 1-D array.

    One forward sweep with duals whose parts are Variables gives the
    directional derivative grad f(x)·v as a node of a graph; one backward sweep
    of that node gives its gradient, H v. The cost is a small constant times
    the cost of f, whatever the dimension. The name follows the order of the
    operators: the gradient (reverse mode) of a forward-mode directional
    derivative, grad(jvp), is reverse-over-forward. JAX's cookbook recommends
    the other order, forward-over-reverse (the jvp of grad); both give H v.
    At a real x a complex v gives H Re v + i H Im v (two sweeps). f returns a scalar (or
    one element, as for grad); a vector f is refused, with the ways to its Hessians.
    """
    x, v = as_point(x), as_point(v)
    shape = shape_of(x)
    if len(shape) != 1 or shape != shape_of(v):
        raise ValueError(f"x and v must be 1-D arrays of one shape, got {shape} and "
                         f"{shape_of(v)}")
    if is_complex(v) and not is_complex(x):
        # H v is linear in v; the backward sweep to a real x keeps a real part (a real input
        # gets a real gradient), which would drop i H Im v: the two real directions go apart
        return hvp(f, x, np.real(v)) + 1j * hvp(f, x, np.imag(v))
    # the graph of x and the perturbation along v, both newer than every traced value that
    # x, v or f hold (a Variable made by hand would share a graph with the caller's)
    with live_tag() as graph, live_tag() as tag:
        point = Variable(x, tag=graph)
        result = call_perturbed(f, Dual(point, v, tag))
        # checked before the zeros below: a vector f linear along v got them
        one_element_shape(result, f, _NEEDS, _WAYS_OUT)
        directional = tangent_part(result, tag, 0.0)
        if not (isinstance(directional, Variable) and directional.tag == graph):
            # grad f · v does not depend on x: f is at most linear along v. Zeros of x's
            # dtype, as the gradient below (np.zeros made a float32 x's H v float64)
            return leaf_gradient(point)
        # a one-element output is its element, as ad.grad takes it (reverse.sweep_from); the
        # directional derivative may have another one-element shape (c + f(y), c of shape (1,))
        seed_shape = directional.shape
        directional.backward(np.ones(seed_shape, directional.dtype) if seed_shape else None)
        # in x's dtype where that is a narrow one, as grad returns it (a rule that computes
        # its partials in float64, or hessian's float64 unit vectors, made it float64)
        return leaf_gradient(point)


_NEEDS = "ad.hvp (and ad.hessian) needs a scalar function, as ad.grad does (one element is fine)"
_WAYS_OUT = (
    ": H v is the Hessian of a scalar function times v. For a vector f, take the "
    "Hessian-vector product of each component, ad.hvp(lambda y: f(y)[i], x, v), or of a "
    "weighted sum of them, ad.hvp(lambda y: w @ f(y), x, v); for u·(H_i v) of every component "
    "f_i at once, differentiate the directional derivative again: "
    "ad.jvp(lambda y: ad.jvp(f, y, v)[1], x, u)[1]")


def as_point(x):
    """x as a float array of its own (a complex one stays complex), or as it is if traced
    (hvp, hessian differentiated)."""
    if isinstance(x, Traced):
        return x
    x = np.asarray(x)
    return np.array(x, dtype=x.dtype if x.dtype.kind in "fc" else float)


def hessian(f, x):
    """Return the Hessian matrix of a scalar function of a 1-D array: column i is
    ``hvp(f, x, e_i)``, so n Hessian-vector products for n inputs."""
    x = as_point(x)
    if np.ndim(x) != 1:
        raise ValueError(f"x must be a 1-D array, got shape {np.shape(x)}")
    columns = [hvp(f, x, unit) for unit in unit_vectors(x)]  # in x's real precision
    return np.column_stack(columns) if columns else np.zeros((0, 0), x.dtype)


def value_and_derivatives(f, t):
    """Return (f(t), f'(t), f''(t)) from one forward sweep with nested duals.

    ``t`` is a float or an array of points (``f`` acts elementwise on it); the
    sweep runs on the nested dual (t + 1·d₂) + (1 + 0·d₂)·d₁ (the lectures' notation),
    whose coefficient of d₁·d₂ is f''. If ``f`` holds Variables (a network's weights),
    the three results are Variables: a loss built from them can be
    back-propagated to the weights.
    """
    shape = np.shape(t)
    one = np.ones(shape) if shape else 1.0
    with live_tag() as inner, live_tag() as outer:  # the outer perturbation is the newer one
        result = call_perturbed(f, Dual(Dual(t, one, inner), Dual(one, 0.0 * one, inner), outer))
        value_part = primal_part(result, outer)  # f(t + d₂) = f + f' d₂
        slope_part = tangent_part(result, outer, t)  # f'(t + d₂) = f' + f'' d₂
        return (primal_part(value_part, inner), tangent_part(value_part, inner, t),
                tangent_part(slope_part, inner, t))
