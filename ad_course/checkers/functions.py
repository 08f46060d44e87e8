"""Exercises whose answer is a function: notebook 05's path count (05-2) and
notebook 07's Newton-CG (07-3). Each is run on inputs that vary what a lucky
answer depends on and compared with a reference computed here."""

from __future__ import annotations

import sys
from collections import deque

import numpy as np

from ad_course.checkers.backward import _topological
from ad_course.checkers.verdict import (
    StudentError,
    Verdict,
    as_number,
    checker,
    close,
    expect_function,
    returned_floats,
    run,
)
from ad_engine.higher_order import hvp
from ad_engine.reverse import grad
from ad_engine.rules import value_of

# -- 05-2: the number of paths from y to x in a graph ----------------------------------

def _sum_paths(y, x, parents_of):
    """Paths from y to x: in reversed topological order (no recursion, any depth), each
    node passes its count to the parents that ``parents_of(node)`` lists."""
    paths = {id(y): 1}
    for node in reversed(_topological(y)):
        for parent in parents_of(node):
            paths[id(parent)] = paths.get(id(parent), 0) + paths.get(id(node), 0)
    return paths.get(id(x), 0)


def paths_reference(y, x):
    """Paths from y to x, each parent edge counted (a node used twice by one operation
    gives two paths)."""
    return _sum_paths(y, x, lambda node: [parent for parent, _ in node.parents])


def _paths_breadth_first(y, x):
    """A typical mistake: sum path counts in breadth-first order (not topological)."""
    paths, order, seen = {id(y): 1}, [y], {id(y)}
    for node in order:
        for parent, _ in node.parents:
            paths[id(parent)] = paths.get(id(parent), 0) + paths.get(id(node), 0)
            if id(parent) not in seen:
                seen.add(id(parent))
                order.append(parent)
    return paths.get(id(x), 0)


def _paths_distinct_parents(y, x):
    """A typical mistake: a node used twice by one operation counted once."""
    return _sum_paths(y, x, lambda node: {id(p): p for p, _ in node.parents}.values())


def _nodes(y, x):
    """A typical mistake: the number of nodes, not of paths."""
    seen, queue = {id(y)}, deque([y])
    while queue:
        for parent, _ in queue.popleft().parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)
    return len(seen)


PATH_SLIPS = [
    (_paths_breadth_first, "a node passed its count on before all the nodes that use it had "
                           "added theirs: walk the nodes in reversed topological order"),
    (_paths_distinct_parents, "an operation that uses a node twice (u*u) gives two paths: "
                              "count every (parent, local) pair"),
    (_nodes, "that is the number of nodes; a node's path count is the sum over the nodes "
             "that use it"),
]


def _path_graphs(Node, logistic_map):
    graphs = []
    for n in (4, 7, 12):
        x = Node(0.3)
        graphs.append((f"the logistic map l_{n}", logistic_map(x, n), x))
    u = Node(0.5)
    s = u * u
    graphs.append(("y = s + (s*3)*s, s = u*u", s + (s * 3) * s, u))
    x = Node(0.3)  # each slip of PATH_SLIPS counts another number here (7, 5, 8; right: 9)
    s = x * x
    t = s + 1
    graphs.append(("y = ((t*s)*s + t)*x, t = s + 1, s = x*x", ((t * s) * s + t) * x, x))
    a, b = Node(2.0), Node(-1.0)
    graphs.append(("y = (a*b)*b + a, paths to b", (a * b) * b + a, b))
    c = Node(1.5)
    graphs.append(("a leaf not in the graph", (a * b) + a, c))
    x = Node(0.25)  # 2^60 + 1 paths: more than a float's 53 bits hold exactly
    s = x
    for _ in range(60):
        s = s + s
    graphs.append(("s doubled 60 times from x, y = s + x", s + x, x))
    # two edges per step: deeper than the 1000 nested calls Python allows (the exercise's
    # "without recursion"), and 2^999 paths still a float; reached only by a count that
    # walks each node once
    n = 1000
    x = Node(0.3)
    graphs.append((f"the logistic map l_{n}, {2 * n} nodes deep", logistic_map(x, n), x))
    return graphs


class _WalkedParents(tuple):
    """A node's parents, counting how often any node's parents are walked."""

    walks = 0

    def __iter__(self):
        _WalkedParents.walks += 1
        return super().__iter__()


def _count_walks(y):
    """Let every node of y's graph count the walks over its parents; the number of nodes."""
    nodes = _topological(y)
    for node in nodes:
        try:
            node.parents = _WalkedParents(node.parents)
        except (AttributeError, TypeError):  # a Node class that refuses: no count
            pass
    return len(nodes)


def _count_text(n):
    """A count as a student reads it: whole, or for a big one its power of two or size."""
    if abs(n) < 10**15:
        return str(n)
    exponent = abs(n).bit_length() - 1
    if abs(n) == 2**exponent:
        return f"2^{exponent}"
    return f"{n} (about 2^{exponent})" if abs(n) < 2**80 else f"about {float(n):.6e}"


def _slip_everywhere(slip, count_paths, graphs, name):
    """True when ``count_paths`` gives what ``slip`` gives on the other graphs where the
    slip is wrong (there is at least one), not by coincidence on one graph only. Only
    graphs of few paths: a count once per path stays quick there."""
    others = [(y, x) for other, y, x in graphs
              if other != name and paths_reference(y, x) < 2**12 and slip(y, x) != paths_reference(y, x)]
    for y, x in others:
        try:
            if not bool(run(count_paths, y, x, what="count_paths") == slip(y, x)):
                return False
        except (StudentError, TypeError, ValueError):  # an error, or several numbers
            return False
    return bool(others)


@checker
def check_count_paths(count_paths, Node, logistic_map):
    """Check ``count_paths(y, x)``: the number of paths from node y back to node x
    (each (parent, local) pair one edge), on logistic maps and graphs with shared
    nodes on paths of unequal length, walking each node's parents a few times, not
    once per path (the recursion the exercise replaces), and on a graph deeper than
    Python's recursion limit."""
    expect_function(count_paths, 2, "a function count_paths(y, x)")
    try:
        graphs = _path_graphs(Node, logistic_map)
    except Exception as error:  # noqa: BLE001 - the student's Node class, the notebook's map
        return Verdict(False, f"could not build the test graphs with Node and logistic_map: "
                              f"{type(error).__name__}: {error} (call "
                              f"check_count_paths(count_paths, Node, ad.logistic_map))")
    for name, y, x in graphs:
        expected = paths_reference(y, x)
        n_nodes = _count_walks(y)
        _WalkedParents.walks = 0
        try:
            got = run(count_paths, y, x, what=f"count_paths on {name}")
        except StudentError as error:
            if "RecursionError" not in error.verdict.message:
                raise
            return Verdict(False, error.verdict.message + ": count without recursion, with a "
                                  "loop over the nodes in reversed topological order")
        if got is None or got is Ellipsis:
            return Verdict(False, f"count_paths returned {got!r}; expected a whole number")
        if isinstance(got, np.ndarray) and got.shape == ():  # a 0-d array: the number inside
            got = got.item()
        if isinstance(got, (int, np.integer)) and not isinstance(got, bool):
            got = int(got)  # exactly, however large
        else:
            try:
                count = as_number(got, "a whole number")
            except StudentError as error:
                return Verdict(False, f"count_paths on {name}: {error.verdict.message}")
            if not count.is_integer():
                return Verdict(False, f"count_paths on {name} returned {count:g}; expected a "
                                      f"whole number")
            got = int(count)
        walks = _WalkedParents.walks
        if got == expected and walks > 10 * n_nodes + 10:
            return Verdict(False, f"on {name} ({n_nodes} nodes) your count walked the parents of "
                                  f"a node {walks} times: once per path, as the recursion does "
                                  f"(for l_60, 2^59 paths). Visit each node once, in reversed "
                                  f"topological order, adding its count to its parents'")
        if got == expected:
            continue
        counted = f"on {name} you count {_count_text(got)} paths, there are {_count_text(expected)}"
        if got == int(float(expected)):
            return Verdict(False, f"{counted}: counted in floats, which hold 53 bits: above 2^53 "
                                  f"the last digits are lost. Count in Python ints (1, not 1.0)")
        if (got - expected) % 2**64 == 0:  # equal but for multiples of 2^64: int64 wrapped
            return Verdict(False, f"{counted}: the count wrapped around (numpy's int64 holds "
                                  f"numbers below 2^63); count in Python ints")
        for slip, hint in PATH_SLIPS:
            if slip(y, x) == got and slip(y, x) != expected \
                    and _slip_everywhere(slip, count_paths, graphs, name):
                return Verdict(False, f"{counted}: {hint}")
        return Verdict(False, counted)
    return Verdict(True, "count_paths is right on every test graph")


# -- 07-3: Newton's method with conjugate-gradient steps ---------------------------------

def _quadratic_5(x):
    A = np.diag([1.0, 2.0, 5.0, 10.0, 30.0]) + 0.5
    return 0.5 * x @ A @ x - np.arange(1.0, 6.0) @ x


def _convex_3(x):
    return np.sum(np.exp(x)) + (x[0] - 2 * x[1]) ** 2 + x[2] ** 2


def _newton_cases():
    from ad_course.rosenbrock import rosenbrock
    return [
        ("the 2-D Rosenbrock function from (-1.2, 1)", rosenbrock, np.array([-1.2, 1.0]), 6),
        ("a 5-D quadratic (one Newton step is exact)", _quadratic_5, np.zeros(5), 2),
        ("a 3-D convex function from (1, -1, 0.5)", _convex_3, np.array([1.0, -1.0, 0.5]), 4),
    ]


def _parallel(d, v):
    scale = np.linalg.norm(d) * np.linalg.norm(v)
    return bool(scale) and abs(d @ v) >= (1 - 1e-6) * scale


def _in_span(d, vectors):
    """True when ``d`` lies in the span of ``vectors`` (to 1e-6 of its length)."""
    basis = np.column_stack(vectors)
    coefficients = np.linalg.lstsq(basis, d, rcond=None)[0]
    return bool(np.linalg.norm(basis @ coefficients - d) <= 1e-6 * np.linalg.norm(d))


def _cg_steps(f, made, path, name):
    """A verdict on the products H d of each Newton step (grouped by the point x_k they
    were made at), or None: CG from p = 0 starts with d = -grad f; a warm start from the
    previous Newton step p0 = x_k - x_(k-1) first makes the product H p0 for its residual
    -grad f - H p0, which is then CG's first direction; after that at most n = x.size
    CG products, as the exercise asks."""
    steps = []
    for x, d in made:
        if not np.any(d):
            continue
        if steps and np.array_equal(steps[-1][0], x):
            steps[-1][1].append(d)
        else:
            steps.append((x, [d]))
    for x, ds in steps:
        where = f"the Newton step at x = {np.round(x, 6).tolist()} on {name}"
        g = np.asarray(grad(f)(x), dtype=float)
        k = next((k for k, row in enumerate(path) if np.allclose(row, x, rtol=1e-12, atol=0)),
                 None)
        previous = path[k] - path[k - 1] if k else None
        warm = not _parallel(ds[0], g) and previous is not None and _parallel(ds[0], previous)
        if not _parallel(ds[0], g) and not warm:
            return Verdict(False, f"the path is right, but in {where} the first product H d had "
                                  f"a d that is not along grad f: CG from p = 0 starts with "
                                  f"d = -grad f (or, warm-started from the previous Newton step "
                                  f"p0, with one product H p0 for the residual -grad f - H p0); "
                                  f"products along other fixed directions assemble the Hessian")
        if warm and len(ds) > 1 and x.size > 2 and \
                not _in_span(ds[1], [g, np.asarray(hvp(f, x, ds[0]), dtype=float)]):
            return Verdict(False, f"the path is right, but in {where} the product after the "
                                  f"warm start's H p0 had a d that is not the residual "
                                  f"-grad f - H p0: CG's first direction is that residual; "
                                  f"products along other fixed directions assemble the Hessian")
        # each later CG direction is its residual plus a multiple of the last direction: it
        # lies in the span of grad f, the earlier directions and H times them (the Krylov
        # space); a direction outside it (grad f, then a fixed basis: the Hessian assembled
        # in that basis) is no CG step. In 2-D every direction lies in that span.
        if x.size > 2:
            products = [np.asarray(hvp(f, x, d), dtype=float) for d in ds[:-1]]
            for k in range(1 + warm, len(ds)):
                if not _in_span(ds[k], [g] + ds[:k] + products[:k]):
                    return Verdict(False, f"the path is right, but in {where} product {k + 1} "
                                          f"had a d outside the span of grad f, the earlier "
                                          f"directions and H times them, where CG's next "
                                          f"direction lies (its residual r - alpha H d plus "
                                          f"beta times the last d): products along other fixed "
                                          f"directions assemble the Hessian in their basis")
        iterations = len(ds) - warm
        if iterations > x.size:
            return Verdict(False, f"the path is right, but {where} made {iterations} CG "
                                  f"products H d{' after the warm start' if warm else ''}; the "
                                  f"exercise allows at most dim x = {x.size} CG iterations per "
                                  f"Newton step (in exact arithmetic CG is done after n): stop "
                                  f"after n, or earlier when the residual is round-off")
    return None


@checker
def check_newton_cg(newton_cg):
    """Check ``newton_cg(f, x0, n_steps)`` -> path (n_steps + 1 rows) against pure Newton
    (``ad.newton_minimize``, the Hessian assembled) on three functions, and that it
    never assembles the Hessian (``ad.hessian`` is not called, and no two products H d
    have d along a coordinate axis, d = c e_i)."""
    from ad_course.rosenbrock import newton_minimize

    # the student's code calls ad.hessian through the facade, which imports this
    # module: instrument it where it already is instead of importing it (a cycle)
    autodiff_helpers = sys.modules["autodiff_helpers"]

    expect_function(newton_cg, 3, "a function newton_cg(f, x0, n_steps)")
    hessian_calls, paths = [], {}
    products = {}  # each function's name -> (f, [(the point, d) of every product H d made])
    hessian = autodiff_helpers.hessian

    def counted_hessian(*args):
        hessian_calls.append(args)
        return hessian(*args)

    def counted(f, made):
        """f, recording in ``made`` the calls that a Hessian-vector product makes (ad.hvp,
        or ad.jvp of ad.grad): its argument carries a Dual and a Variable, one inside the
        other."""
        def wrapped(x):
            inner = getattr(x, "val", getattr(x, "value", None))
            if {type(x).__name__, type(inner).__name__} == {"Dual", "Variable"}:
                dual = x if type(x).__name__ == "Dual" else inner
                made.append((np.array(value_of(x), dtype=float),
                             np.asarray(getattr(dual.dval, "value", dual.dval), dtype=float)))
            return f(x)
        return wrapped

    autodiff_helpers.hessian = counted_hessian
    try:
        for name, f, x0, steps in _newton_cases():
            products[name] = f, []
            reference = newton_minimize(f, x0, n_steps=steps, tol=0)
            got = run(newton_cg, counted(f, products[name][1]), x0.copy(), steps,
                      what=f"newton_cg on {name}")
            got = returned_floats(got, "newton_cg", f"the path x_0, ..., x_n_steps, "
                                  f"an array of shape {reference.shape}")
            if got.shape == reference.shape[1:]:
                return Verdict(False, f"newton_cg on {name} returned one point; expected the "
                                      f"path x_0, ..., x_{steps}, shape {reference.shape}")
            paths[name] = got
            if got.shape != reference.shape:
                return Verdict(False, f"newton_cg on {name} returned shape {got.shape}; "
                                      f"expected the path x_0, ..., x_{steps}, shape "
                                      f"{reference.shape}")
            if not close(got, reference, rtol=1e-8, atol=1e-10):
                k = int(np.argmax(np.any(~np.isclose(got, reference, rtol=1e-8, atol=1e-10),
                                         axis=1)))
                hint = ""
                step = got[k] - got[k - 1] if k else None
                right = reference[k] - reference[k - 1] if k else None
                if k and close(step, -right, rtol=1e-6, atol=1e-12):
                    hint = ": the step has the wrong sign, solve H p = -grad f and add p"
                elif k and not products[name][1]:
                    hint = (": your newton_cg made no Hessian-vector product (ad.hvp) here, so "
                            "its step is not Newton's: a step from the gradient alone is "
                            "gradient descent, and H d from differences of gradients is a "
                            "finite difference, right to about 1e-8 only; solve H p = -grad f "
                            "by CG with H d = ad.hvp(f, x, d)")
                elif k:
                    hint = (": x_{k} differs, so the CG solve of H p = -grad f is not converged "
                            "or not right: up to n iterations, with H d from ad.hvp").format(k=k)
                off = float(np.max(np.abs(got[k] - reference[k])))
                return Verdict(False, f"on {name} your x_{k} is {np.round(got[k], 6).tolist()}; "
                                      f"Newton gives {np.round(reference[k], 6).tolist()} "
                                      f"(they differ by up to {off:.2g}){hint}")
        directions = [d for _, made in products.values() for _, d in made]
        unit_vectors = sum(int(np.count_nonzero(d) == 1) for d in directions)  # d = c e_i, any c
        if hessian_calls:
            return Verdict(False, "the path is right but ad.hessian was called: use only "
                                  "Hessian-vector products, ad.hvp")
        if unit_vectors >= 2:  # CG's directions start at -grad f: never unit vectors
            return Verdict(False, f"the path is right but {unit_vectors} products H d had "
                                  "d = c e_i, along a coordinate axis: that assembles the Hessian "
                                  "column by column, as ad.hessian does; CG multiplies H by its "
                                  "search directions d")
        if not directions:
            return Verdict(False, "the path is right but no Hessian-vector product was computed "
                                  "(ad.hvp): the exercise asks for CG with products H d")
        for name, (f, made) in products.items():
            verdict = _cg_steps(f, made, paths[name], name)
            if verdict is not None:
                return verdict
    except StudentError as error:
        return error.verdict
    finally:
        autodiff_helpers.hessian = hessian
    return Verdict(True, "newton_cg follows Newton's path on all three functions with "
                         "Hessian-vector products only")
