"""Notebook 05, exercise 4: the backward sweep written by hand.

The student's node class: ``Node(value)`` makes a leaf; ``+ - *`` work between nodes
and numbers; every node has ``.value``, ``.parents = ((parent, local partial), ...)``
and ``.grad``. ``backward(y)`` fills ``.grad`` of every node that y depends on with
dy/d(node). The test graphs vary what a lucky sweep depends on: a shared node's
users in both operand orders, and paths of unequal length into a shared node.
"""

from __future__ import annotations

import functools
from collections import deque

import numpy as np

from ad_course.checkers.verdict import (
    StudentError,
    Verdict,
    as_number,
    checker,
    close,
    expect_function,
    number,
    run,
)


def _graphs(Node):
    """Small graphs with shared nodes: [(name, leaves, output, exact gradients)]."""
    graphs = []
    x, w = Node(3.0), Node(-2.0)
    graphs.append(("y = x*w + x at (3, -2)", (x, w), x * w + x, (-1.0, 3.0)))
    x, w = Node(3.0), Node(-2.0)
    graphs.append(("y = x + x*w at (3, -2)", (x, w), x + x * w, (-1.0, 3.0)))
    u = Node(0.5)
    s = u * u
    graphs.append(("y = s*s + s, s = u*u, at u = 0.5", (u,), s * s + s, (1.5,)))
    u = Node(0.5)
    s = u * u
    graphs.append(("y = s + s*s, s = u*u, at u = 0.5", (u,), s + s * s, (1.5,)))
    a, b = Node(2.0), Node(5.0)
    graphs.append(("y = a*b - a at (2, 5)", (a, b), a * b - a, (4.0, 2.0)))
    u = Node(-0.7)
    s = u * u  # s reaches y directly and through a path three operations long
    graphs.append(("y = s + 2*(3*s*s - s), s = u*u, at u = -0.7", (u,),
                   s + ((s * s) * 3 - s) * 2, ((12 * 0.49 - 1) * 2 * -0.7,)))
    x, w = Node(1.5), Node(-0.4)
    graphs.append(("y = (x*w)*w + x at (1.5, -0.4)", (x, w), (x * w) * w + x,
                   (0.16 + 1.0, 2 * 1.5 * -0.4)))
    # s used twice by one operation (s*s) and once by another, reached later or sooner: a
    # sweep that counts users (2) but lets each edge (3) count down passes s on too early
    for order in ("(s*3)*2 + s*s", "s*s + (s*3)*2"):
        u = Node(0.5)
        s = u * 1.0
        y = (s * 3) * 2 + s * s if order.startswith("(") else s * s + (s * 3) * 2
        graphs.append((f"y = {order}, s = u*1, at u = 0.5", (u,), y, (6 + 2 * 0.5,)))
    return graphs


# -- sweeps students write that are wrong (each tried on the same graph) ---------------

def _all_nodes(y):
    nodes, seen, stack = [], {id(y)}, [y]
    while stack:
        node = stack.pop()
        nodes.append(node)
        for parent, _ in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return nodes


def _topological(y):
    order, done, stack = [], set(), [(y, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in done:
            done.add(id(node))
            stack.append((node, True))
            stack.extend((parent, False) for parent, _ in node.parents)
    return order


def _start(y):
    for node in _all_nodes(y):
        node.grad = 0.0
    y.grad = 1.0


def _push(node):
    for parent, local in node.parents:
        parent.grad += node.grad * local


def _breadth_first_unsorted(y):
    """Notebook 05's topological_order without the sort: a breadth-first list from y."""
    _start(y)
    nodes, seen = [y], {id(y)}
    for node in nodes:
        for parent, _ in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                nodes.append(parent)
    for node in nodes:
        _push(node)


def _fifo_once(y):
    """A queue from y that visits each node once, without counting its users."""
    _start(y)
    queue, seen = deque([y]), {id(y)}
    while queue:
        node = queue.popleft()
        _push(node)
        for parent, _ in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)


def _depth_first_once(y):
    """A stack from y that visits each node once (depth first), without counting users."""
    _start(y)
    stack, seen = [y], {id(y)}
    while stack:
        node = stack.pop()
        _push(node)
        for parent, _ in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)


def _kahn_distinct_users(y, last_first=True):
    """Kahn's sweep whose counts are the distinct users of a node while every edge counts
    down: s*s uses s twice, so s reaches 0 one user too early. ``last_first``: the ready
    nodes as a stack (else a queue); which nodes go wrong depends on it."""
    _start(y)
    users = {}
    for node in _all_nodes(y):
        for parent in {id(p): p for p, _ in node.parents}.values():
            users[id(parent)] = users.get(id(parent), 0) + 1
    ready = deque([y])
    while ready:
        node = ready.pop() if last_first else ready.popleft()
        for parent, local in node.parents:
            parent.grad += node.grad * local
            users[id(parent)] -= 1
            if users[id(parent)] == 0:
                ready.append(parent)


def _overwrite(y):
    _start(y)
    for node in reversed(_topological(y)):
        for parent, local in node.parents:
            parent.grad = node.grad * local


def _local_only(y):
    _start(y)
    for node in reversed(_topological(y)):
        for parent, local in node.parents:
            parent.grad += local


def _inputs_first(y):
    _start(y)
    for node in _topological(y):
        _push(node)


def _recursive(y):
    _start(y)

    def push(node):
        for parent, local in node.parents:
            parent.grad += node.grad * local
            push(parent)

    push(y)


_LEFT_OVER = 0.25  # the .grad every node has before the second call

_EARLY = ("a node passed its adjoint on before all the nodes that use it had added "
          "their share: ")
MISTAKES = [
    *((functools.partial(_kahn_distinct_users, last_first=order),
       _EARLY + "s * s uses s twice: count every use, one per edge (parent, local) in "
                ".parents, since each edge counts down once; with the distinct users counted, "
                "s reaches 0 one user too early") for order in (True, False)),
    (_breadth_first_unsorted, _EARLY + "a breadth-first list or queue from y that visits each "
                                       "node once is not a topological order (a shared node can "
                                       "sit on a short and a long path to y). Count each node's "
                                       "users first and pass a node on only when all of them "
                                       "have run (Kahn), or sort the nodes"),
    (_fifo_once, _EARLY + "a queue from y that visits each node once does not wait for the "
                          "other users. Count each node's users first and enqueue a parent only "
                          "when all of them have run (Kahn)"),
    (_depth_first_once, _EARLY + "depth-first, each node once, does not wait for the other "
                                 "users. Count each node's users and pass a node on only when "
                                 "the count reaches 0"),
    (_overwrite, "a node used by several operations gets one contribution from each: add them "
                 "up (parent.grad += ...), do not overwrite"),
    (_local_only, "multiply each local partial by the adjoint of the node that uses the parent "
                  "(chain rule: parent.grad += node.grad * local)"),
    (_inputs_first, "the sweep must run from y back to the inputs (reversed topological order): "
                    "a node passes its adjoint on only after all its users added theirs"),
    (_recursive, "a node passed its adjoint on before it was complete, once per path: double "
                 "counting. Visit every node once, after all its users"),
]


def _grads(backward, Node, index, what="backward(y)"):
    name, leaves, y, exact = _graphs(Node)[index]
    run(backward, y, what=what)
    return name, leaves, y, exact, tuple(leaf.grad for leaf in leaves)


def _results(backward, Node):
    """The student's input gradients on every graph (None where it failed)."""
    results = []
    for index in range(len(_graphs(Node))):
        try:
            results.append(np.array(_grads(backward, Node, index)[-1], dtype=float))
        except (StudentError, TypeError, ValueError):
            results.append(None)
    return results


def _mistake(backward, Node, index, got, exact):
    """The hint of the typical mistake that gives what the student's sweep gives: first
    one that agrees on every test graph, else one that agrees on this graph."""
    theirs = _results(backward, Node)
    on_this_graph = None
    for wrong, hint in MISTAKES:
        mine = _results(wrong, Node)
        if close(mine[index], np.array(exact)) or not close(got, mine[index]):
            continue
        if all(t is not None and close(t, m) for t, m in zip(theirs, mine)):
            return hint
        on_this_graph = on_this_graph or hint
    return on_this_graph


def _equal(a, b):
    try:
        return bool(a is b or a == b)
    except (TypeError, ValueError):  # arrays of several numbers: changed or not, not "equal"
        return False


def _graph_verdict(backward, Node, index):
    name, leaves, y, exact = _graphs(Node)[index]
    nodes = _all_nodes(y)
    before = [getattr(node, "grad", None) for node in nodes]
    run(backward, y, what="backward(y)")
    got = tuple(leaf.grad for leaf in leaves)
    if all(_equal(getattr(node, "grad", None), grad) for node, grad in zip(nodes, before)):
        return Verdict(False, f"on {name}, backward(y) changed no .grad (is ... still the "
                              f"function's body?): set y.grad = 1, then in reversed topological "
                              f"order add node.grad * local to each parent's .grad")
    if any(g is None for g in got) or y.grad is None:
        return Verdict(False, f"on {name}, backward(y) left .grad unset (None): give every "
                              f"node grad 0, set y.grad = 1, then push adjoints to the parents")
    try:
        got = np.array([as_number(g, "a number in each input's .grad") for g in got])
        y_grad = as_number(y.grad, "a number in y.grad")
    except StudentError as error:
        return Verdict(False, f"on {name}: {error.verdict.message}")
    if not np.isclose(y_grad, 1.0):
        return Verdict(False, f"after backward(y), y.grad is {number(y.grad)}; it must be "
                              f"dy/dy = 1: the sweep starts from y.grad = 1")
    if close(got, np.array(exact)):
        return _every_node_verdict(Node, index, name, y)
    message = (f"on {name} your gradient is ({', '.join(number(g) for g in got)}); expected "
               f"({', '.join(number(g) for g in exact)})")
    hint = _mistake(backward, Node, index, got, exact)
    if hint:
        return Verdict(False, f"{message}: {hint}")
    if np.all(got == 0.0):
        return Verdict(False, f"{message}: every input's grad is 0, nothing reached the inputs: "
                              f"push node.grad * local to each parent, starting from y")
    return Verdict(False, f"{message}: look at the order in which nodes pass their adjoint on")


def _every_node_verdict(Node, index, name, y):
    """None if every node of the student's swept graph ``y`` has .grad = dy/d(node) and its
    own .value, compared node by node with the same graph built again and swept here."""
    reference = _graphs(Node)[index][2]
    _start(reference)
    for node in reversed(_topological(reference)):
        _push(node)
    pairs = list(zip(_topological(y), _topological(reference)))
    for theirs, mine in pairs:
        if not close(np.array(as_number(theirs.value, "a number in .value")), np.array(mine.value)):
            return Verdict(False, f"on {name}, backward(y) changed the .value of a node "
                                  f"({number(mine.value)} became {number(theirs.value)}): the "
                                  f"sweep must only fill .grad")
    wrong = [(theirs, mine) for theirs, mine in pairs
             if theirs.grad is None or not close(np.array(as_number(theirs.grad)), np.array(mine.grad))]
    if wrong:
        theirs, mine = wrong[0]
        return Verdict(False, f"on {name} the inputs' gradients are right, but {len(wrong)} of "
                              f"the {len(pairs)} nodes have another .grad than dy/d(node): the "
                              f"node of value {number(mine.value)} has "
                              f"{'None' if theirs.grad is None else number(theirs.grad)}, "
                              f"dy/d(node) is {number(mine.grad)}. backward(y) must leave every "
                              f"node's .grad = dy/d(node), not only the inputs'")
    return None


def _renumbered_verdict(backward, Node):
    """None, or the refusal of a sweep that orders the nodes by their creation number
    ``.number`` (notebook 05's backward, which the exercise asks to replace): on a graph
    whose numbers are negated, so that they no longer follow the graph, Kahn's sweep (or any
    order found from the graph itself) is still right and the sort is not."""
    for name, leaves, y, exact in _graphs(Node)[2:4]:  # s*s + s and s + s*s: shared nodes
        nodes = _all_nodes(y)
        if not all(isinstance(getattr(node, "number", None), int) for node in nodes):
            return None  # a Node class without creation numbers: nothing to sort by
        for node in nodes:
            node.number = -node.number
        run(backward, y, what="backward(y)")
        got = np.array([as_number(leaf.grad, "a number in each input's .grad") for leaf in leaves])
        if not close(got, np.array(exact)):
            return Verdict(False, f"on {name}, with the nodes' .number negated (so that it no "
                                  f"longer says which node was made first), your gradient is "
                                  f"({', '.join(number(g) for g in got)}); expected "
                                  f"({', '.join(number(g) for g in exact)}): your sweep orders "
                                  f"the nodes by .number, as notebook 05's backward does. The "
                                  f"exercise asks for another way that needs no numbers: count "
                                  f"each node's uses, and pass a node on when its count reaches "
                                  f"0 (Kahn)")
    return None


PATH_LEVELS = 12  # s = s*s twelve times: 4096 paths from y to the input, 26 edges


def _per_path_verdict(backward, Node):
    """None, or the refusal of a sweep that pushes an adjoint along every path (the recursion
    of notebook 05, written with a stack): right on small graphs, but it adds into the
    input's .grad once per path, 2^12 times here instead of twice."""
    try:
        class Watched(Node):  # the input, counting the writes to its .grad
            writes = 0

            @property
            def grad(self):
                return self.__dict__.get("_watched_grad")

            @grad.setter
            def grad(self, value):
                type(self).writes += 1
                self.__dict__["_watched_grad"] = value

        u = Watched(1.0)
        s = u * 1.0
        for _ in range(PATH_LEVELS):
            s = s * s
    except Exception:  # noqa: BLE001 - a Node class that cannot be subclassed this way
        return None
    Watched.writes = 0
    run(backward, s, what="backward(y)")
    if Watched.writes > 4 * (PATH_LEVELS + 2):
        return Verdict(False, f"on y = s*s repeated {PATH_LEVELS} times from s = u*1, your sweep "
                              f"wrote the input's .grad {Watched.writes} times: once per path "
                              f"({2 ** PATH_LEVELS} paths), not once per edge. The gradients "
                              f"are right, but the cost grows like the number of paths, as the "
                              f"recursion does. Pass a node's adjoint on once, when all the "
                              f"nodes that use it have added their share (Kahn: count the uses)")
    return None


@checker
def check_backward(backward, Node):
    """Check a hand-written ``backward(y)`` on graphs with shared nodes (users in both
    operand orders, paths of unequal length), and that a second call gives the same
    gradients (no adding up over calls)."""
    expect_function(backward, 1, "a function backward(y) of one node")
    try:
        count = len(_graphs(Node))
    except Exception as error:  # noqa: BLE001 - the student's Node class
        return Verdict(False, f"could not build the test graphs with your Node class: "
                              f"{type(error).__name__}: {error}")
    for index in range(count):
        verdict = _graph_verdict(backward, Node, index)
        if verdict is not None:
            return verdict
    name, leaves, y, exact = _graphs(Node)[0]
    run(backward, y, what="backward(y)")
    first = tuple(as_number(leaf.grad) for leaf in leaves)
    for node in _all_nodes(y):  # what an earlier sweep may have left: the next must not use it
        node.grad = _LEFT_OVER
    run(backward, y, what="backward(y), called again,")
    second = tuple(as_number(leaf.grad) for leaf in leaves)
    if close(np.array(second), np.full(len(leaves), _LEFT_OVER)):
        return Verdict(False, f"calling backward(y) a second time on {name} changed no .grad: "
                              f"does your function keep state between calls (visited nodes in "
                              f"a set outside it, or a default argument such as seen=set())? "
                              f"Every call must sweep the whole graph again")
    if not close(np.array(second), np.array(first)):
        return Verdict(False, f"calling backward(y) twice on {name} gave {first}, then {second}: "
                              f"set every .grad to 0 before the sweep, or the adjoints add up")
    for extra in (_renumbered_verdict, _per_path_verdict):  # a Verdict is falsy when not ok
        refused = extra(backward, Node)
        if refused is not None:
            return refused
    return Verdict(True, f"backward(y) is right on all {count} test graphs, and again on a "
                         f"second call")


__all__ = ["check_backward", "MISTAKES"]
