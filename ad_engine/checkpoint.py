"""Checkpointing (recomputation): trade time for the memory of the reverse sweep.

Reverse mode keeps every node of the forward sweep until the backward sweep has
used it, so the memory grows with the length of the computation (the number of
time steps of an integrator). ``checkpoint(segment, *inputs)`` runs ``segment``
on plain values and records ONE node holding only its inputs; the backward
sweep runs the segment again on fresh Variables, back-propagates through that
short graph and frees it. The gradient is the same; the price is one more
forward pass of each segment. Split N steps into √N segments and the memory is
about √N segments' inputs plus one segment's graph, instead of N steps' graph.
This is the idea of ``torch.utils.checkpoint`` and ``jax.checkpoint``.
"""

from __future__ import annotations

import numpy as np

from ad_engine.dispatch import as_operand
from ad_engine.reverse import Variable
from ad_engine.rules import Primitive, Traced, live_tag, plain, value_of


def checkpoint(segment, *inputs, **kwargs):
    """Return ``segment(*inputs)``, recorded as one node that recomputes the segment
    during the backward sweep (torch.utils.checkpoint / jax.checkpoint style).

    ``segment`` takes the inputs (floats, arrays or Variables; other arguments
    such as a function or an integer number of steps are passed through as constants) and returns one value or a
    tuple of values (a state). The result has the same structure, as Variables (an integer
    or boolean output comes back as a float Variable).
    Only the inputs are stored; the segment's own nodes are built again during
    the backward sweep, used and dropped. ``segment`` must be a pure function of
    its inputs (same inputs, same outputs), since it runs twice: the backward sweep
    compares the recomputed outputs with the stored ones and refuses a segment that gives
    others (one drawing random numbers or reading a clock; pass those as inputs). Keyword arguments go to
    ``segment`` as they are, constants that are not differentiated (as torch.utils.checkpoint
    passes them; a traced value among them is followed as one the segment closes over).

    With no Variable among the inputs (plain numbers, or Duals of forward mode)
    this is just ``segment(*inputs)``: there is no graph to save memory on. So it is
    inside a derivative of a derivative (Variables whose values are traced), where
    the outer derivative needs the segment's operations themselves.
    """
    if not _one_plain_graph(inputs):
        return segment(*inputs, **kwargs)
    values = [x.value if isinstance(x, Variable) else x for x in inputs]
    result = segment(*values, **kwargs)
    single = not isinstance(result, tuple)
    outputs = _as_outputs(result)
    _check_outputs(segment, result, outputs)
    if any(isinstance(o, Traced) for o in outputs):  # the segment closes over a traced value
        return segment(*inputs, **kwargs)  # (an outer derivative's): it needs the segment's operations
    shapes = [np.shape(plain(o)) for o in outputs]
    sizes = [int(np.prod(s)) for s in shapes]
    flat = [np.ravel(np.asarray(o)) for o in outputs]
    dtypes = [np.result_type(o) for o in flat]  # numpy's dtype of each output, kept
    packed_dtype = np.result_type(*dtypes)  # one float32 output stays float32, complex stays complex
    packed = np.concatenate(flat).astype(np.result_type(packed_dtype, 0.0))  # ints as floats
    recompute = _Recompute(segment, kwargs, shapes, sizes)
    primitive = Primitive(
        f"checkpoint({getattr(segment, '__name__', 'segment')})",
        lambda *args: packed,  # evaluated once, now: the value computed above
        jvps=[None] * len(inputs),
        vjps=[recompute.vjp(i) for i in range(len(inputs))],
    )
    node = Variable.process(_first_variable(inputs), primitive, inputs)
    primitive.evaluate = _refuse_evaluation  # the value is in the node; no second call
    parts, start = [], 0
    for shape, size, dtype in zip(shapes, sizes, dtypes):
        part = _cast(node[start:start + size], dtype)
        parts.append(part[0] if shape == () else part.reshape(shape))
        start += size
    return parts[0] if single else tuple(parts)


def _cast(part, dtype):
    """A slice of the packed node back in its output's float or complex ``dtype`` (a float32
    output packed with a float64 one, a real output packed with a complex one: numpy's
    dtype of each output, not the common one); integer outputs stay floats."""
    if part.dtype == dtype or dtype.kind not in "fc":
        return part
    if dtype.kind == "f":
        if part.dtype.kind == "c":
            part = np.real(part)  # its imaginary part is zero: the output was real
        return part if part.dtype == dtype else part.astype(dtype)
    real, imag = np.real(part), np.imag(part)  # complex64 from complex128: each part rounded
    precision = np.finfo(dtype).dtype
    return real.astype(precision) + imag.astype(precision) * 1j


def _one_plain_graph(inputs):
    """Whether the traced inputs are Variables of one graph holding plain values: the case
    checkpointing is for. Otherwise (Duals, or a derivative of a derivative, whose outer
    derivative needs the segment's own operations) the segment just runs."""
    variables = [x for x in inputs if isinstance(x, Traced)]
    return bool(variables) and all(
        isinstance(x, Variable) and x.tag == variables[0].tag and not isinstance(x.value, Traced)
        for x in variables)


def _first_variable(inputs):
    return next(x for x in inputs if isinstance(x, Variable))


def _refuse_evaluation(*args):
    raise RuntimeError("a checkpoint node is evaluated once, when it is recorded")


class _Recompute:
    """The vjps of one checkpoint node: the first call in a backward sweep re-runs the
    segment on fresh leaves and back-propagates the node's adjoint through it; the
    gradients of all inputs are kept for the calls of the other inputs (same adjoint)."""

    def __init__(self, segment, kwargs, shapes, sizes):
        self.segment, self.kwargs, self.shapes, self.sizes = segment, kwargs, shapes, sizes
        self.adjoint, self.gradients = None, None

    def vjp(self, i):
        def gradient(adjoint, ans, *args):
            if isinstance(adjoint, Traced):  # a traced seed (differentiated): no reuse
                return self._sweep(adjoint, ans, args)[i]
            if self.adjoint is None or not np.array_equal(self.adjoint, adjoint):
                self.gradients = self._sweep(adjoint, ans, args)
                self.adjoint = np.array(adjoint, copy=True)
            return self.gradients[i]

        return gradient

    def _sweep(self, adjoint, packed, args):
        with live_tag() as tag:  # a graph of its own, newer than every traced value (a traced seed)
            leaves = [Variable(a, tag=tag) if _differentiable(a) else a for a in args]
            result = self.segment(*leaves, **self.kwargs)
            outputs = _as_outputs(result)
            if not self._same_outputs(outputs, packed):
                self._check_pure(packed, args)
            total, start = 0.0, 0
            for output, shape, size in zip(outputs, self.shapes, self.sizes):
                weight = np.reshape(adjoint[start:start + size], shape)
                total = total + np.sum(output * weight)
                start += size
            if isinstance(total, Variable):
                total.backward()
        return [
            (leaf.grad if leaf.grad is not None else np.zeros_like(leaf.value))
            if isinstance(leaf, Variable) else None
            for leaf in leaves
        ]

    def _same_outputs(self, outputs, packed):
        """Whether ``outputs`` have the shapes and, bit for bit, the values of the forward run."""
        if len(outputs) != len(self.shapes):
            return False
        start = 0
        for output, shape, size in zip(outputs, self.shapes, self.sizes):
            value = value_of(output)
            if np.shape(value) != shape or not np.array_equal(
                    np.ravel(value), packed[start:start + size], equal_nan=True):
                return False
            start += size
        return True

    def _check_pure(self, packed, args):
        """The recomputation on Variables gave other outputs than the forward run on plain
        values. A few functions round differently when traced (np.dot, np.linalg.norm: the
        engine's own evaluation): the segment is run once more as in the forward sweep, and
        refused if that too differs (it reads something besides its inputs)."""
        result = self.segment(*args, **self.kwargs)  # args: the node's inputs, plain values
        outputs = _as_outputs(result)
        if not self._same_outputs(outputs, packed):
            name = getattr(self.segment, "__name__", "segment")
            raise ValueError(
                f"checkpoint({name}): running the segment again in the backward sweep gave other "
                "outputs than in the forward sweep, so its gradient would be that of another "
                "computation. The segment must be a pure function of its inputs (the same inputs "
                "give the same outputs): pass random numbers as an input (noise = "
                f"rng.standard_normal(shape) outside, then ad.checkpoint({name}, x, noise)), and "
                "a time or counter it reads as an input too, instead of reading or changing "
                "state outside the segment; and do not write into an array the segment reads "
                "(a buffer filled again later) between the forward and the backward sweep")


def _check_outputs(segment, result, outputs):
    """A segment returns numbers and numeric arrays: a list of arrays passed the forward run
    (numpy stacked it) and failed in the backward sweep with np.array's message about
    Variables the user never put into an array; None, a string, a dict gave numpy's errors
    or a node holding an object array."""
    name = getattr(segment, "__name__", "segment")
    if isinstance(result, list):
        raise TypeError(
            f"checkpoint({name}): the segment returned a list; return a tuple of its values "
            f"(a state, as (q, p)), or one array (np.stack([...]) inside the segment)")
    for k, output in enumerate(outputs):
        if isinstance(output, (list, tuple)) or as_operand(output) is None:
            where = f" (output {k})" if isinstance(result, tuple) else ""
            raise TypeError(
                f"checkpoint({name}): the segment returned {type(output).__name__!r}{where}, "
                f"which is not a number or a numeric array; a segment returns one number or "
                f"array, or a tuple of them")


def _as_outputs(result):
    """A segment's result as the list of its outputs (one value, or a tuple of them)."""
    return list(result) if isinstance(result, tuple) else [result]


def _differentiable(x):
    """Floats and float or complex arrays become leaves of the recomputed graph; ints (counts
    such as a number of steps), booleans and everything else stay constants."""
    if isinstance(x, (bool, int, np.bool_, np.integer)):
        return False
    operand = as_operand(x)
    return operand is not None and not isinstance(operand, Traced)
