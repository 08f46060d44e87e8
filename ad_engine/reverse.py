"""Reverse mode: the computational graph and the backward sweep.

Every operation on a Variable records a node: its value, the primitive that
made it, the values of its arguments and its parents (the Variables among
them). ``y.backward()`` puts the nodes in topological order, then walks them
from the output back: each node multiplies its adjoint by its local partial
derivatives (the primitive's vjps, rules.py) and adds the result into its
parents' adjoints.
"""

from __future__ import annotations

import itertools
import operator

import numpy as np

from ad_engine.dispatch import ArraySurface, as_operand, format_part
from ad_engine.rules import plain, value_of

_created = itertools.count()  # numbers the nodes in the order they are made


class Variable(ArraySurface):
    """A node of the computational graph (reverse mode): a value, and after
    ``backward()`` the gradient of the output with respect to it.

    ``value`` is a float or a numpy array; numpy broadcasting applies in the
    forward pass and gradients are summed back to each operand's shape. A
    graph lives as long as something refers to its output (or to a node in
    it), and is freed as soon as nothing does.

    Attributes:
      ``primitive`` -- the operation that made this node (None for a leaf);
      ``args``      -- the values of its arguments;
      ``parents``   -- one entry per argument: the Variable it came from, None for a constant;
      ``adjoint``   -- dy/d(this node) from the latest backward sweep (every node);
      ``grad``      -- on leaves (Variables you created), the adjoints of all
                       sweeps so far, *accumulated* as in PyTorch: call
                       ``zero_grad()`` before the next backward. ``None`` until then.
    """

    __slots__ = ("value", "grad", "adjoint", "name", "primitive", "args", "parents", "number",
                 "__weakref__")
    __array_priority__ = 10

    def __init__(self, value, name=None):
        checked = as_operand(value)
        if checked is None or isinstance(checked, (complex, ArraySurface)):
            raise TypeError(
                f"Variable value must be a float or a numeric numpy array, not {type(value).__name__!r}"
            )
        if np.ndim(checked) == 0:
            value = float(np.real_if_close(checked)) if not isinstance(checked, float) else checked
        else:
            value = np.array(checked, dtype=float)
        self._record(value, None, (), ())
        self.name = name

    def _record(self, value, primitive, args, parents):
        self.value, self.primitive, self.args, self.parents = value, primitive, args, parents
        self.grad = self.adjoint = self.name = None
        self.number = next(_created)

    @property
    def primal(self):
        return self.value

    @property
    def op(self):
        """The name of the primitive that made this node (None for a leaf)."""
        return None if self.primitive is None else self.primitive.name

    def process(self, primitive, args):
        """Evaluate ``primitive`` on the values of ``args`` and record the new node."""
        values = tuple([a.value if isinstance(a, Variable) else a for a in args])
        parents = tuple([a if isinstance(a, Variable) else None for a in args])
        node = Variable.__new__(Variable)
        node._record(plain(primitive.evaluate(*values)), primitive, values, parents)
        return node

    def backward(self, seed=None):
        """Back-propagate from this node: fill ``.adjoint`` of every node of its graph
        and add the result into ``.grad`` of every leaf.

        A scalar output needs no seed (dy/dy = 1). For a non-scalar output, pass
        ``seed``, an array of the output's shape: the adjoint of the output, i.e.
        the vector of a vector-Jacobian product.
        """
        seed = self._seed(seed)
        order = topological_order(self)
        for node in order:
            node.adjoint = None
        self.adjoint = seed
        for node in reversed(order):
            if node.primitive is None:  # a leaf: accumulate, as PyTorch does
                node.grad = _accumulate(node.grad, node.adjoint)
            for i, parent in enumerate(node.parents):
                if parent is not None:
                    gradient = node.primitive.vjps[i](node.adjoint, node.value, *node.args)
                    parent.adjoint = gradient if parent.adjoint is None else parent.adjoint + gradient

    def _seed(self, seed):
        shape = np.shape(self.value)
        if seed is None:
            if shape != ():
                raise ValueError(
                    f"backward() without a seed needs a scalar output, but this output has shape "
                    f"{shape}; pass seed=np.ones({shape}) (or any array of shape "
                    f"{shape}) to get a vector-Jacobian product"
                )
            return 1.0
        seed = value_of(seed)
        if np.shape(seed) != shape:
            raise ValueError(
                f"seed has shape {np.shape(seed)} but the output has shape {shape}; they must match"
            )
        return float(seed) if shape == () else np.array(seed, dtype=float)

    def zero_grad(self):
        """Forget the accumulated gradient (``.grad`` becomes None)."""
        self.grad = None

    def __repr__(self):
        name = f", name={self.name!r}" if self.name else ""
        return f"Variable({format_part(self.value)}{name})"


def _accumulate(grad, adjoint):
    """grad + adjoint; a new .grad is a writeable array of its own (an adjoint may be a
    read-only broadcast view, or shared by several leaves: x + y passes one to both)."""
    if grad is not None:
        return grad + adjoint
    return np.array(adjoint) if isinstance(adjoint, np.ndarray) else adjoint


def topological_order(output):
    """Every node that ``output`` depends on, parents before children.

    An iterative search finds them (no recursion: a graph 10^6 operations deep
    is fine). Nodes are numbered when they are made, and an operation is always
    made after its inputs, so sorting by that number is a topological order.
    """
    nodes, seen = [output], {output}  # nodes hash by identity
    for node in nodes:  # the list grows while we walk it: every node found is visited once
        for parent in node.parents:
            if parent is not None and parent not in seen:
                seen.add(parent)
                nodes.append(parent)
    nodes.sort(key=_by_number)
    return nodes


_by_number = operator.attrgetter("number")


def grad(f, argnums=0):
    """Return a function that computes the gradient of scalar ``f`` by reverse mode (JAX style).

    ``grad(f)(x, y)`` is df/dx; with ``argnums=(0, 1)`` it is the tuple (df/dx, df/dy).
    Arguments are floats or numpy arrays; gradients have their shapes.
    """
    single = isinstance(argnums, int)
    positions = (argnums,) if single else tuple(argnums)

    def gradient(*args):
        inputs = list(args)
        for i in positions:
            if i >= len(args):
                raise ValueError(f"argnums={argnums} but f was called with {len(args)} arguments")
            inputs[i] = Variable(args[i])
        output = f(*inputs)
        if not isinstance(output, Variable):
            raise TypeError(
                f"f must return a Variable that depends on its arguments, it returned "
                f"{type(output).__name__!r}"
            )
        output.backward()
        grads = tuple(
            inputs[i].grad if inputs[i].grad is not None else np.zeros_like(inputs[i].value)
            for i in positions
        )
        return grads[0] if single else grads

    return gradient
