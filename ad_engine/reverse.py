"""Reverse mode: the computational graph and the backward sweep.

Every operation on a Variable records a node: its value, the primitive that
made it, the values of its arguments and its parents (the Variables among
them). ``y.backward()`` puts the nodes in topological order, then walks them
from the output back: each node multiplies its adjoint by its local partial
derivatives (the primitive's vjps, rules.py) and adds the result into its
parents' adjoints.

Derivatives of derivatives need no other sweep. Each ``grad`` call records its
own graph, marked by a fresh tag (as forward mode tags each perturbation): only
Variables of that tag are parents of its nodes. When ``grad`` is differentiated
again (``grad(grad(f))``, ``jvp(grad(f))``), its inputs are the outer call's
Variables or Duals; the values stored in the inner graph are then traced
values, so the vjps of the inner sweep, computed from those values, are
recorded by the outer call as any other operation (autograd works so). A
nested grad that closes over the outer variable cannot add into the outer
gradient either: its sweep never leaves its own tag.

Complex numbers follow JAX's convention. Each vjp is the transpose of the jvp
(no complex conjugate): for a holomorphic step w = f(z), z̄ = w̄ f'(z). For a
real loss L of z = x + iy the gradient is

    grad L = ∂L/∂x - i ∂L/∂y

the complex conjugate of the direction of steepest ascent (PyTorch returns
∂L/∂x + i ∂L/∂y; gradient descent here is z -= lr * np.conj(grad)). For a
holomorphic f with a complex output, grad(f)(z) is the derivative f'(z) (it is
the gradient of Re f). A real input of a complex computation gets a real
gradient (the real part: the adjoint a real node receives from a complex step,
w̄ c, is cleaned where it meets a complex value again, in the vjps of Re, Im and
|z|, and at real leaves).
"""

from __future__ import annotations

import itertools
import operator

import numpy as np

from ad_engine.dispatch import (
    ArraySurface,
    as_operand,
    bind,
    format_part,
    numeric_output,
    one_element_shape,
)
from ad_engine.rules import (
    BY_HAND_VARIABLE,
    NARROW_SCALARS,
    Traced,
    by_hand_tag,
    call_tagged,
    ended,
    in_running_call,
    is_complex,
    live_tag,
    plain,
    returned_value,
    shape_of,
)

_created = itertools.count()  # numbers the nodes in the order they are made
_new = object.__new__  # a node made by an operation: no __init__, process fills its slots


class Variable(ArraySurface):
    """A node of the computational graph (reverse mode): a value, and after
    ``backward()`` the gradient of the output with respect to it.

    ``value`` is a float or a real numpy array (or, in a derivative of a
    derivative, a traced value); numpy broadcasting applies in the forward pass
    and gradients are summed back to each operand's shape. ``tag`` names the
    graph the node belongs to (each ``grad`` call makes its own). A
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

    # every slot is set in two places: __init__ (a leaf) and process (an operation's node)
    __slots__ = ("value", "_grad", "adjoint", "name", "primitive", "args", "parents", "number",
                 "tag", "__weakref__")
    __array_priority__ = 10

    def __init__(self, value, name=None, tag=None):
        # a leaf; an operation's node is made by process, which sets the same slots
        self.value, self.primitive, self.args, self.parents = _leaf_value(value), None, (), ()
        self._grad = self.adjoint = None
        self.name = name
        self.number = next(_created)
        self.tag = by_hand_tag(BY_HAND_VARIABLE, value) if tag is None else tag

    def _set_grad(self, gradient):
        # the gradient of a real leaf is real: an adjoint that reached it through a complex
        # computation may carry an imaginary part that belongs to no derivative (see the
        # module docstring), dropped here
        if gradient is not None and type(gradient) is not float and is_complex(gradient) \
                and not is_complex(self.value):
            gradient = np.real(gradient)
        self._grad = gradient

    # .grad reads _grad with a getter in C (no Python frame); setting it goes through _set_grad
    grad = property(operator.attrgetter("_grad"), _set_grad)

    # the value inside, under the name every Traced has (read by value_of and shape_of on
    # every operation: a getter in C, no Python frame)
    primal = property(operator.attrgetter("value"))

    @property
    def op(self):
        """The name of the primitive that made this node (None for a leaf)."""
        return None if self.primitive is None else self.primitive.name

    def process(self, primitive, args):
        """Evaluate ``primitive`` on the values of ``args`` and record the new node. Only
        Variables of this graph (this tag) are parents; older Duals and Variables are
        constants here, and trace the evaluation (and later the vjps) in their own graph."""
        tag, nested = self.tag, False
        values, parents = [], []
        for a in args:  # a loop, not two comprehensions: this runs once per operation
            if type(a) is Variable and a.tag == tag:
                value = a.value
                parents.append(a)
            else:
                value = a
                parents.append(None)
            if isinstance(value, Traced):
                nested = True
            values.append(value)
        if nested:  # an outer derivative's values: bind traces the evaluation
            ans = bind(primitive, *values)
        else:  # plain values: evaluate (a numpy scalar becomes a Python number, as in plain)
            ans = primitive.evaluate(*values)
            if isinstance(ans, np.generic) and type(ans) not in NARROW_SCALARS:
                ans = ans.item()
        node = _new(Variable)  # the slots __init__ sets, without its checks
        node.value, node.primitive = ans, primitive
        node.args, node.parents = tuple(values), tuple(parents)
        node._grad = node.adjoint = node.name = None
        node.number, node.tag = next(_created), tag
        return node

    def backward(self, seed=None):
        """Back-propagate from this node: fill ``.adjoint`` of every node of its graph
        and add the result into ``.grad`` of every leaf.

        A scalar output needs no seed (dy/dy = 1). For a non-scalar output, pass
        ``seed``, an array of the output's shape: the adjoint of the output, i.e.
        the vector of a vector-Jacobian product. The seed may itself be traced (a Dual
        of an outer ``jvp``, a Variable of an outer ``grad``): the gradients are then
        traced too, and differentiable with respect to the seed. A seed of this node's own
        graph is refused (see initial_adjoint).
        """
        seed = self.initial_adjoint(seed)
        order = topological_order(self)
        for node in order:
            node.adjoint = None
        self.adjoint = seed
        for node in reversed(order):
            if node.primitive is None:  # a leaf: accumulate, as PyTorch does
                node.grad = accumulate(node.grad, node.adjoint)
            for i, parent in enumerate(node.parents):
                if parent is not None:
                    gradient = node.primitive.vjps[i](node.adjoint, node.value, *node.args)
                    parent.adjoint = gradient if parent.adjoint is None else parent.adjoint + gradient

    def initial_adjoint(self, seed):
        """Return the adjoint a backward sweep from this node starts with: 1 for a scalar
        output (of its dtype: a float32 output's gradients are float32, as numpy computes
        them), else ``seed`` checked to have the output's shape. Refused on the graph of a
        grad call still running: grad sweeps it itself when f returns."""
        if ended(self.tag):
            raise TypeError(
                f"backward() was called on a node recorded inside a derivative call that has "
                f"returned (a value kept from inside the function it differentiated): that "
                f"derivative is over. What the node is now is its value, {type(self.value).__name__} "
                f"{format_part(self.value)}: if that is a Variable, call backward() on it "
                f"(node.value.backward()); a plain number depends on no Variable")
        if in_running_call(self.tag):
            raise TypeError(
                "backward() was called inside a function that ad.grad is differentiating, on "
                "that grad's own graph: grad sweeps it when the function returns, and a sweep "
                "inside would add into the same gradients. Return the value instead; for a "
                "gradient inside the function, call ad.grad there")
        shape = shape_of(self.value)
        if seed is None:
            if shape != ():
                raise ValueError(
                    f"backward() without a seed needs a scalar output, but this output has shape "
                    f"{shape}; pass seed=np.ones({shape}) (or any array of shape "
                    f"{shape}) to get a vector-Jacobian product"
                )
            value = self.value  # a float32 (float16, complex64) output starts with its own 1
            return type(value)(1) if type(value) in NARROW_SCALARS else 1.0
        if shape_of(seed) != shape:
            raise ValueError(
                f"seed has shape {shape_of(seed)} but the output has shape {shape}; "
                f"they must match"
            )
        if isinstance(seed, Traced):  # a cotangent of an outer derivative: keep its tangent
            self._refuse_a_seed_of_this_graph(seed)
            return seed
        seed = np.asarray(seed)
        # ints to floats; float32 and complex stay as they are (1.0 is a weak scalar)
        seed = seed.astype(np.result_type(seed, 1.0))
        return plain(seed[()]) if shape == () else seed

    def _refuse_a_seed_of_this_graph(self, seed):
        # The sweep's local derivatives are plain numbers computed from the nodes' values, so
        # gradients built from a seed of this very graph record only the path through the
        # seed: Variables of this graph whose own derivatives are wrong.
        part = seed
        while isinstance(part, Traced):
            if isinstance(part, Variable) and part.tag == self.tag:
                raise TypeError(
                    "backward(seed=s): s is a Variable of the graph being swept (a node of this "
                    "node's graph, or a Variable built by hand in the same scope: those share "
                    "one graph). The gradients would be Variables of that graph whose "
                    "derivatives are wrong: the sweep records only the path through s. Pass "
                    "seed=s.value for a plain seed; for a derivative with respect to the seed, "
                    "make s a Variable of an outer ad.grad (or a Dual of an outer ad.jvp): "
                    "call backward inside the function of s that ad.grad differentiates")
            part = part.primal

    def zero_grad(self):
        """Forget the accumulated gradient (``.grad`` becomes None)."""
        self._grad = None

    def __repr__(self):
        name = f", name={self.name!r}" if self.name else ""
        return f"Variable({format_part(self.value)}{name})"

    def __format__(self, spec):
        """f"{loss:.4f}" formats the value (as PyTorch formats a tensor); without a spec,
        the repr."""
        return format_part(self.value, spec) if spec else repr(self)


def _leaf_value(value):
    """The value of a Variable made by hand: a float or a float array (complex ones stay
    complex, never truncated; float32 ones stay float32, as numpy computes them), or a
    traced value (a Dual or an older Variable: derivatives of derivatives)."""
    checked = as_operand(value)
    if isinstance(checked, Traced):
        return checked
    if checked is None:
        raise TypeError(
            f"Variable value must be a float or a numeric numpy array, not {type(value).__name__!r}"
        )
    if isinstance(checked, np.ndarray) and checked.ndim:  # a copy, so that x.value is its own
        return np.array(checked, dtype=checked.dtype if checked.dtype.kind in "fc" else float)
    if isinstance(checked, np.ndarray):  # 0-d: the number inside
        checked = checked[()]
    if type(checked) in NARROW_SCALARS:
        return checked
    if isinstance(checked, complex) or np.iscomplexobj(checked):
        return complex(checked)
    return checked if isinstance(checked, float) else float(checked)


def accumulate(grad, adjoint):
    """grad + adjoint; a new .grad is a writeable array of its own (an adjoint may be a
    read-only broadcast view, or shared by several leaves: x + y passes one to both)."""
    if grad is not None:
        return grad + adjoint
    return adjoint.copy() if isinstance(adjoint, np.ndarray) else adjoint


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
    Arguments are floats or numpy arrays; gradients have their shapes. Keyword arguments
    go to f as they are, not differentiated (as in JAX).
    """
    single = isinstance(argnums, (int, np.integer))  # np.int64(1) too, as numpy's axis=
    positions = (int(argnums),) if single else tuple(argnums)

    def gradient(*args, **kwargs):
        with live_tag() as tag:  # this gradient's own graph: nested grads never mix their sweeps
            inputs = list(args)
            for i in positions:
                if not -len(args) <= i < len(args):
                    raise ValueError(f"argnums={argnums} but f was called with {len(args)} "
                                     f"arguments")
                inputs[i] = Variable(args[i], tag=tag)
            output = numeric_output(call_tagged(f, tag, *inputs, **kwargs), f)
            sweep_from(output, tag, f)
            grads = tuple(leaf_gradient(inputs[i]) for i in positions)
        return grads[0] if single else grads

    return gradient


def sweep_from(output, tag, f):
    """The backward sweep of ``grad``: from the scalar (or one-element) ``output`` of ``f``
    through the graph ``tag``. An output that does not depend on the inputs (a
    number, or a value of an outer derivative) has gradient zero: no sweep."""
    shape = one_element_shape(output, f, "grad needs a scalar output (or one element)")
    output = returned_value(output, tag)
    if isinstance(output, Variable) and output.tag == tag:
        output.backward(np.ones(shape) if shape else None)
    elif isinstance(output, Traced) and output.tag > tag:  # a Dual built by hand inside f
        raise TypeError(
            "f returned a Dual made inside f by hand, whose perturbation grad cannot return; "
            "return a value computed from f's arguments (for a derivative inside f, call "
            "ad.derivative or ad.jvp there)"
        )


def leaf_gradient(leaf):
    """The gradient grad returns for an input: of its dtype where that is a narrow one
    (float32, float16, complex64: as autograd and JAX return it; a rule that computes its
    partials in float64, as max, clip or eigh do, made it float64)."""
    value, gradient = leaf.value, leaf.grad
    narrow = _narrow_dtype(value)
    if gradient is not None:
        if is_complex(value) and not is_complex(gradient):
            gradient = gradient + 0j  # a complex input has a complex gradient
        if narrow is not None and not isinstance(gradient, Traced) \
                and np.result_type(gradient) != narrow:
            gradient = np.asarray(gradient).astype(narrow)
            return gradient if gradient.ndim else gradient[()]
        return gradient
    shape = shape_of(leaf)
    zero = np.zeros(shape, dtype=narrow or (complex if is_complex(value) else float))
    return zero if shape else plain(zero[()])


def _narrow_dtype(value):
    if type(value) is np.ndarray:
        return value.dtype if value.dtype.type in NARROW_SCALARS else None
    return np.dtype(type(value)) if type(value) in NARROW_SCALARS else None
