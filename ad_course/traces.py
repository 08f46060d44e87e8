"""Looking at a graph: the evaluation trace (Baydin et al., Table 3) and a drawing (notebook 05).

Nodes are numbered as in Baydin et al.: the n leaves v_{1-n}, ..., v_0 in the
order they were created, then the operations v_1, v_2, ... in evaluation order.
How each primitive prints (its formula and partial derivatives) is declared
where it is registered (ad_engine/numpy_rules.py).
"""

from __future__ import annotations

import numpy as np

from ad_engine.reverse import Variable, topological_order

_SUBSCRIPTS = str.maketrans("-0123456789", "\u208b\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089")
_BAR = "\u0304"  # combining macron: "v" + _BAR is v-bar, the adjoint

def format_number(x, decimals=3):
    """x rounded to ``decimals`` places without trailing zeros: 2.0 -> '2', 0.6931 -> '0.693'."""
    text = f"{float(x):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _operand(x):
    """A constant as an operand in a formula: negative numbers in parentheses."""
    if np.ndim(x) != 0:
        return repr(x)
    text = format_number(x)
    return f"({text})" if text.startswith("-") else text


def local_gradients(node):
    """Return the local partial derivatives of a scalar node: a list of
    ``(parent, d node / d parent)``, one entry per Variable argument (an argument
    used twice, as in ``x * x``, appears twice). Leaves return [].

    The partials come from the node's primitive, as the backward sweep uses
    them: they are the contributions of an adjoint equal to 1.
    """
    if node.primitive is None:
        return []
    if node.primitive.partials is None or node.shape != ():
        raise ValueError(
            f"local_gradients needs a scalar elementwise operation, got op {node.op!r} with "
            f"shape {node.shape}"
        )
    vjps = node.primitive.vjps
    return [(parent, float(vjps[i](1.0, node.value, *node.args)))
            for i, parent in _parents_by_argument(node)]


def _parents_by_argument(node):
    """(argument index, parent Variable) for each Variable argument of ``node``."""
    return [(i, parent) for i, parent in enumerate(node.parents) if parent is not None]


def _numbered_graph(y):
    """Run a backward sweep from scalar ``y`` (leaves' ``.grad`` left as they were)
    and number its nodes; return (order, index) with index[id(node)] = k of v_k."""
    if not isinstance(y, Variable):
        raise TypeError(f"expected a Variable, got {type(y).__name__!r}")
    order = topological_order(y)
    for node in order:
        if node.shape != () or (node.primitive is not None and node.primitive.partials is None):
            raise ValueError(
                f"traces and drawings are for small scalar graphs; node {node!r} has op "
                f"{node.op!r} and shape {node.shape}"
            )
    leaves = [node for node in order if node.primitive is None]
    saved = [(leaf, leaf.grad) for leaf in leaves]
    y.backward()
    for leaf, previous in saved:  # the sweep is for display: do not accumulate .grad
        leaf.grad = previous
    index, next_op = {}, 1
    for k, leaf in enumerate(leaves):
        index[id(leaf)] = k + 1 - len(leaves)
    for node in order:
        if node.primitive is not None:
            index[id(node)] = next_op
            next_op += 1
    return order, index


def _arguments(node, label):
    """The arguments of ``node`` as (label of a parent node or formatted constant) strings."""
    return [_operand(a) if parent is None else label(parent) for a, parent in zip(node.args, node.parents)]


def _primal_formula(node, args):
    form = node.primitive.formula
    if form is not None:
        return form.format(*args)
    return f"{node.op} {args[0]}" if len(args) == 1 else f"{node.op}({', '.join(args)})"


class TraceRow(tuple):
    """One line of a trace: ``target = formula = numbers = value`` (``numbers`` may be '')."""

    __slots__ = ()

    def __new__(cls, target, formula, numbers, value):
        return super().__new__(cls, (target, formula, numbers, float(value)))

    target = property(lambda self: self[0])
    formula = property(lambda self: self[1])
    numbers = property(lambda self: self[2])
    value = property(lambda self: self[3])


class Trace:
    """The evaluation trace of a small scalar graph, as in Table 3 of Baydin et al. (2018).

    ``primal``  -- rows of the forward primal trace: inputs v_{1-n}..v_0, then every
                   operation v_k = op(...) = value in evaluation order, then y = v_m;
    ``adjoint`` -- rows of the reverse adjoint trace: the seed, then for each node in
                   reverse order one row per parent, vbar_parent = vbar_node × partial
                   (``vbar_j = vbar_j + ...`` when v_j already had a contribution),
                   then the gradient with respect to each input;
    ``gradient`` -- dict input name (or label) -> dy/dx.
    ``str()`` is a text table, ``_repr_html_`` an HTML one (shown by Jupyter).
    """

    def __init__(self, primal, adjoint, gradient, decimals):
        self.primal, self.adjoint, self.gradient, self.decimals = primal, adjoint, gradient, decimals

    def _lines(self, rows):
        import unicodedata

        def width(text):  # display width: combining characters take no room
            return sum(1 for c in text if not unicodedata.combining(c))

        def pad(text, n):
            return text + " " * (n - width(text))

        cells = [(r.target, r.formula, r.numbers, format_number(r.value, self.decimals)) for r in rows]
        widths = [max(width(c[j]) for c in cells) for j in range(3)]
        lines = []
        for target, formula, numbers, value in cells:
            parts = [pad(target, widths[0]), "=", pad(formula, widths[1])]
            if any(c[2] for c in cells):
                parts += ["=" if numbers else " ", pad(numbers, widths[2])]
            lines.append(" ".join(parts + ["=", value]).rstrip())
        return lines

    def __str__(self):
        return "\n".join(
            ["Forward primal trace"] + self._lines(self.primal)
            + ["", "Reverse adjoint trace"] + self._lines(self.adjoint)
        )

    __repr__ = __str__

    def _repr_html_(self):
        import html

        def cell(text, align="left"):  # explicit: notebook CSS right-aligns table cells
            return f'<td style="text-align:{align}">{text}</td>'

        def body(title, rows):
            out = [f'<tr><th colspan="4" style="text-align:left">{title}</th></tr>']
            for r in rows:
                numbers = f"= {html.escape(r.numbers)}" if r.numbers else ""
                out.append(
                    "<tr>" + cell(html.escape(r.target), "right") + cell(f"= {html.escape(r.formula)}")
                    + cell(numbers) + cell(f"= {format_number(r.value, self.decimals)}") + "</tr>"
                )
            return "".join(out)

        return (
            '<table style="font-family:monospace">'
            + body("Forward primal trace", self.primal)
            + body("Reverse adjoint trace", self.adjoint)
            + "</table>"
        )


def trace_table(y, output_name="y", decimals=3):
    """Return the ``Trace`` (primal and adjoint trace) of the scalar graph ending at ``y``.

    Runs one backward sweep from ``y`` to fill every node's ``.adjoint`` (the
    leaves' ``.grad`` are left as they were) and lists each step the way
    Table 3 of Baydin et al. does: leaves are v_{1-n}..v_0 in creation order
    (named by their ``.name``), operations v_1, v_2, ... in evaluation order.
    In the adjoint trace a node used by two operations gets two rows, the
    second one ``vbar_j = vbar_j + vbar_i × d v_i / d v_j``. Values are printed
    with ``decimals`` places; the rows keep full floats.
    """
    order, index = _numbered_graph(y)

    def label(node, bar=False):
        return "v" + (_BAR if bar else "") + str(index[id(node)]).translate(_SUBSCRIPTS)

    primal, adjoint = [], []
    for node in order:
        if node.primitive is None:
            primal.append(TraceRow(label(node), node.name or "", "", node.value))
            continue
        args = _arguments(node, label)
        numbers = [_operand(a) for a in node.args]
        primal.append(TraceRow(label(node), _primal_formula(node, args),
                               _primal_formula(node, numbers), node.value))
    primal.append(TraceRow(output_name, label(y), "", y.value))

    bar = output_name + _BAR if len(output_name) == 1 else f"{output_name}bar"
    adjoint.append(TraceRow(label(y, bar=True), bar, "", y.adjoint))
    running = {id(y): y.adjoint}
    for node in reversed(order):
        if node.primitive is None:
            continue
        args = _arguments(node, label)
        forms = node.primitive.partial_formulas
        for (i, parent), (_, partial) in zip(_parents_by_argument(node), local_gradients(node)):
            if forms is not None:
                symbol = forms[i].format(*args, out=label(node))
            else:
                symbol = f"∂{label(node)}/∂{label(parent)}"
            term = f"{label(node, bar=True)} × {symbol}"
            numbers = f"{format_number(node.adjoint)} × {_operand(partial)}"
            contribution = node.adjoint * partial
            if id(parent) in running:
                running[id(parent)] += contribution
                term = f"{label(parent, bar=True)} + {term}"
                numbers = f"{format_number(running[id(parent)] - contribution)} + {numbers}"
            else:
                running[id(parent)] = contribution
            adjoint.append(TraceRow(label(parent, bar=True), term, numbers, running[id(parent)]))
    gradient = {}
    for node in order:
        if node.primitive is None:
            name = node.name or label(node)
            gradient[name] = running.get(id(node), 0.0)
            adjoint.append(TraceRow(f"∂{output_name}/∂{name}", label(node, bar=True), "",
                                    gradient[name]))
    return Trace(primal, adjoint, gradient, decimals)


def draw_graph(y, ax=None, decimals=3, edge_labels=True):
    """Draw the computational graph of the scalar expression ``y`` with matplotlib.

    Runs a backward sweep from ``y`` (as ``trace_table`` does: ``.grad`` of the
    leaves is left unchanged). Each node is a box with its label v_k and its
    operation or name, its value and its adjoint vbar_k; each edge is an arrow
    from a parent to the operation that uses it, labelled with the local
    partial derivative when ``edge_labels``. Layout: column = depth (the
    longest path from a leaf), inputs on the left, ``y`` on the right.

    Returns the Axes; node boxes are ``ax.texts`` with gid "node", arrows are
    ``ax.patches`` with gid "edge", edge labels are texts with gid "edge label".
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    order, index = _numbered_graph(y)
    depth = {}
    for node in order:
        depth[id(node)] = 1 + max((depth[id(p)] for _, p in _parents_by_argument(node)), default=-1)
    columns = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    position = {}
    for column, nodes in sorted(columns.items()):
        if column > 0:  # order a column by the mean height of each node's parents
            nodes.sort(key=lambda n: -np.mean([position[id(p)][1] for _, p in _parents_by_argument(n)]))
        for row, node in enumerate(nodes):
            position[id(node)] = (2.0 * column, (len(nodes) - 1) / 2 - row)
    n_rows = max(len(n) for n in columns.values())
    if ax is None:
        width = min(3.0 + 2.6 * len(columns), 12.0)
        height = min(1.5 + 1.5 * n_rows, 7.0)
        ax = plt.figure(figsize=(width, height)).add_subplot()
    # at 13 pt a column (box and arrow) needs about 1.9 inches and a row about 1 inch
    # (the limits below add a column's and 0.8 row's margin): shrink the text to fit
    box = ax.get_position()
    inches = ax.figure.get_size_inches()
    scale = min(1.0, box.width * inches[0] / (1.9 * len(columns)),
                box.height * inches[1] / (1.0 * (n_rows + 0.6)))

    boxes = {}
    for node in order:
        k = index[id(node)]
        what = (node.name or "input") if node.primitive is None else node.op
        lines = [f"$v_{{{k}}}$: {what}", f"value {format_number(node.value, decimals)}"]
        if node.adjoint is not None:
            lines.append(rf"$\bar{{v}}_{{{k}}}$ = {format_number(node.adjoint, decimals)}")
        colour = "#dbe9f6" if node.primitive is None else ("#fde0c5" if node is y else "#eeeeee")
        boxes[id(node)] = ax.text(
            *position[id(node)], "\n".join(lines), ha="center", va="center", fontsize=13 * scale,
            gid="node", zorder=3,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": "0.3"},
        )
    for node in order:
        if node.primitive is None:
            continue
        seen = {}
        for (_, parent), (_, partial) in zip(_parents_by_argument(node), local_gradients(node)):
            repeat = seen[id(parent)] = seen.get(id(parent), -1) + 1
            start, end = position[id(parent)], position[id(node)]
            bend = 0.0 if repeat == 0 else 0.35 * (-1) ** repeat
            ax.add_patch(FancyArrowPatch(
                start, end, arrowstyle="-|>", mutation_scale=18 * max(scale, 0.6), color="0.35", lw=1.5,
                connectionstyle=f"arc3,rad={bend}", patchA=boxes[id(parent)].get_bbox_patch(),
                # above the boxes: an arrow is clipped to box outlines placed when they draw
                patchB=boxes[id(node)].get_bbox_patch(), gid="edge", zorder=4,
            ))
            if edge_labels:
                # midpoint of the arc3 curve: the chord's midpoint moved by bend/2 times
                # the chord turned by -90 degrees
                dx, dy = end[0] - start[0], end[1] - start[1]
                middle = (0.5 * (start[0] + end[0]) + 0.5 * bend * dy,
                          0.5 * (start[1] + end[1]) - 0.5 * bend * dx)
                ax.text(*middle, format_number(partial, decimals), fontsize=12 * scale, color="tab:blue",
                        ha="center", va="center", gid="edge label", zorder=5,
                        bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"})
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    return ax
