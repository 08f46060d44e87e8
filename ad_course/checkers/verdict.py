"""What every checker shares: the verdict it returns, and running the student's code
so that whatever goes wrong in it becomes a message, never a raw traceback."""

from __future__ import annotations

import collections.abc
import contextlib
import inspect
import os
import sys
import traceback
import types
from dataclasses import dataclass

import numpy as np

from ad_engine.reverse import Variable
from ad_engine.rules import TAGS_PER_CALL, new_tag

EPS = float(np.finfo(float).eps)

# Frames from these folders are the course's own code (or numpy's); the student's
# line is the last frame outside them.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_OWN = (
    os.path.dirname(os.path.dirname(os.path.abspath(np.__file__))),  # site-packages
    os.path.join(_ROOT, "ad_course"),
    os.path.join(_ROOT, "ad_engine"),
)


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``ok`` and a message for the student (in English)."""

    ok: bool
    message: str

    def __repr__(self):
        return ("correct: " if self.ok else "not yet: ") + self.message

    def __bool__(self):
        return self.ok


class StudentError(Exception):
    """Raised inside a checker when the student's code failed; carries the verdict."""

    def __init__(self, verdict):
        super().__init__(verdict.message)
        self.verdict = verdict


def _student_line(error):
    """Return 'line N: <source>' of the last frame of the traceback outside the course's
    library and numpy (the student's own code), or '' when there is none."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        path = os.path.abspath(frame.filename) if not frame.filename.startswith("<") else ""
        if path and path.startswith(_OWN):
            continue
        text = (frame.line or "").strip()
        return f"line {frame.lineno}: {text}" if text else f"line {frame.lineno}"
    return ""


def describe_error(error, what):
    """A message for an exception raised by the student's code: its type, its message
    and the student's line."""
    where = _student_line(error)
    where = f" at {where}" if where else ""
    hint = ""
    text = str(error)
    if isinstance(error, TypeError) and "positional argument" in text:
        hint = " (check how many arguments your function takes)"
    elif isinstance(error, TypeError) and "ellipsis" in text:
        hint = " (a placeholder ... is still in your code: replace it with your answer)"
    return f"{what} raised {type(error).__name__}: {text}{where}{hint}"


def run(function, *args, what):
    """Call ``function(*args)``; an exception becomes :class:`StudentError` whose
    verdict names its type, message and the student's line."""
    try:
        return function(*args)
    except StudentError:
        raise
    except Exception as error:  # the student's code may raise anything
        raise StudentError(Verdict(False, describe_error(error, what))) from None


@contextlib.contextmanager
def engine_watched():
    """``with engine_watched() as engine:`` sets ``engine.used`` after the block: whether the
    AD engine traced anything in it, a node of reverse mode (``ad.Variable``, ``ad.grad``,
    ``ad.hessian``, ``ad.hvp`` ...) or a derivative call (``ad.derivative``, ``ad.jvp`` ...),
    however it was reached (through ``ad``, an import, ``ad_engine`` itself). For an exercise
    that asks for a derivation by hand, so that an answer computed by the engine, which is
    what the answer is checked against, is not taken for one. (A Dual built by hand and
    operated on outside any derivative call leaves no trace.) ``engine.nodes`` counts the
    reverse-mode nodes recorded."""
    engine = types.SimpleNamespace(used=False, nodes=0)
    node, tag = Variable(0.0).number, new_tag()  # each makes one: the counters before
    try:
        yield engine
    finally:
        engine.nodes = Variable(0.0).number - node - 1  # the nodes recorded in the block
        engine.used = engine.nodes > 0 or new_tag() > tag + TAGS_PER_CALL


@contextlib.contextmanager
def calls_watched(*functions):
    """``with calls_watched(f, g) as calls:`` sets ``calls.count`` after the block: how many
    times the Python functions ``f``, ``g`` ... were entered in it, however they were reached
    (``ad.staple_force``, an import, another function of the library that calls them). For an
    exercise that forbids a library function which computes the answer, as
    :func:`engine_watched` does for the AD engine. A profile function that was set before
    (a debugger's, coverage's) keeps running."""
    codes = {function.__code__ for function in functions}
    calls = types.SimpleNamespace(count=0)

    def profile(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            calls.count += 1

    with _profiled(profile):
        yield calls


@contextlib.contextmanager
def _profiled(profile):
    """Run the block with ``profile`` as sys.setprofile's function, chained before the one
    that was set (a debugger's, coverage's), which keeps running and is restored after."""
    before = sys.getprofile()

    def chained(frame, event, arg):
        profile(frame, event, arg)
        if before is not None:
            before(frame, event, arg)

    sys.setprofile(chained)
    try:
        yield
    finally:
        sys.setprofile(before)


def is_complex(value):
    """Whether ``value`` is a complex number or array (or a list or tuple that holds one)."""
    if isinstance(value, (complex, np.complexfloating)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "c"
    if isinstance(value, (list, tuple)):
        return any(is_complex(v) for v in value[:64])
    return False


@contextlib.contextmanager
def values_watched(predicate, code=None):
    """``with values_watched(predicate) as seen:`` sets ``seen.found`` after the block: whether
    a Python function run in it (the student's own, a helper, a library function it called)
    held in a local variable, took or returned a value for which ``predicate`` is true (the
    frames of installed packages, numpy's or sympy's, and module namespaces are not read). For
    a number that only a forbidden method makes, e.g. the complex point x + i h e_j of a
    complex step, however the student's code reached it (numpy's ufuncs run no Python frame:
    :func:`uses_complex` reads the constants the code was written with). ``code``: a
    predicate on the code object of each function of the student's that runs (outside the
    course's library and installed packages), e.g. :func:`writes_complex`, for functions
    no name leads to (a lambda in a dict). A profile function that was set before keeps
    running."""
    seen = types.SimpleNamespace(found=False)

    def profile(frame, event, arg):
        if not seen.found and event in ("call", "return") \
                and not frame.f_code.co_filename.startswith(_OWN[0]) \
                and frame.f_code.co_name != "<module>":  # an exec'd module's namespace
            try:
                seen.found = (event == "return" and predicate(arg)) or \
                    any(predicate(v) for v in list(frame.f_locals.values())) or \
                    (code is not None and event == "call"
                     and not os.path.abspath(frame.f_code.co_filename).startswith(_OWN)
                     and code(frame.f_code))
            except Exception:  # noqa: BLE001 - a value the predicate cannot read is not one
                pass

    with _profiled(profile):
        yield seen


COMPLEX_NAMES = frozenset({"imag", "complex", "complex64", "complex128", "complex256",
                           "cdouble", "csingle", "clongdouble", "complex_step", "iscomplexobj"})


def writes_complex(code):
    """Whether a code object writes a complex constant or names complex arithmetic
    (COMPLEX_NAMES, but for the type checks ``complex`` and ``iscomplexobj``, which a dual
    class may make, isinstance(val, complex)), itself or in the functions defined in it."""
    return any(isinstance(const, complex) or (isinstance(const, types.CodeType)
                                              and writes_complex(const))
               for const in code.co_consts) or \
        bool((COMPLEX_NAMES - {"complex", "iscomplexobj"}) & set(code.co_names))


def uses_complex(function, tiny=None):
    """Whether the source of ``function`` (its code, the functions defined in it, and the
    functions of its notebook it names) writes a complex constant (``1e-20j``, ``1j``) or
    names complex arithmetic (``.imag``, ``complex``, ``ad.complex_step`` ...): what a complex
    step is written with, which :func:`values_watched` may not see when the complex numbers
    live only inside one numpy expression. ``tiny``: for an exercise where complex phases
    e^{i theta} are legitimate, count only what a step is written with: a complex constant
    below ``tiny`` (``1e-20j``), a complex constant beside a float constant or default below
    ``tiny`` (``1j * h`` with ``h = 1e-20``), and ``complex_step``."""
    seen, todo = set(), [function]
    complex_unit, small_float = False, False
    while todo:
        current = todo.pop()
        current = getattr(current, "__func__", current)
        code = getattr(current, "__code__", None)
        if code is None or id(code) in seen:
            continue
        seen.add(id(code))
        namespace = getattr(current, "__globals__", {})
        defaults = list(getattr(current, "__defaults__", None) or ()) + \
            list((getattr(current, "__kwdefaults__", None) or {}).values())
        codes = [code]
        while codes:
            code = codes.pop()
            for const in list(code.co_consts) + defaults:
                if isinstance(const, complex) and (tiny is None or 0 < abs(const) < tiny):
                    return True
                complex_unit |= isinstance(const, complex)
                small_float |= isinstance(const, float) and tiny is not None \
                    and 0 < abs(const) < tiny
                if complex_unit and small_float:
                    return True
                if isinstance(const, types.CodeType):
                    codes.append(const)
            defaults = []
            names = set(code.co_names)
            if names & (COMPLEX_NAMES if tiny is None else {"complex_step"}):
                return True
            todo.extend(namespace[name] for name in names & namespace.keys()
                        if isinstance(namespace[name], types.FunctionType)
                        and namespace[name].__globals__ is namespace)  # the notebook's own
        for cell in getattr(current, "__closure__", None) or ():
            try:
                if isinstance(cell.cell_contents, types.FunctionType):
                    todo.append(cell.cell_contents)
            except ValueError:  # an empty cell
                pass
    return False


def expect_function(function, n_args, described):
    """Raise :class:`StudentError` unless ``function`` is callable with ``n_args``
    positional arguments; ``described`` says what was expected, e.g. 'a function of (ans, x)'."""
    if not callable(function):
        raise StudentError(Verdict(False, f"expected {described}, got {_kind(function)}"))
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # builtins and ufuncs may have none: accept them
        return
    try:
        signature.bind(*range(n_args))
    except TypeError:
        raise StudentError(Verdict(
            False, f"expected {described}, got a function of ({', '.join(signature.parameters)})"
        )) from None


def floats(value, described, rtol=0.0):
    """``value`` as a float array (its own shape), or :class:`StudentError` saying that
    ``described`` was expected. A Variable that leaks out counts as its value; complex
    numbers count when their imaginary part is round-off. Refused with a message: the
    placeholder, None, functions, strings, True/False, Duals (which part?), ragged lists,
    a complex answer whose imaginary part matters, and float32 fractions when the check
    compares more digits than they carry (``rtol`` below their eps)."""
    if isinstance(value, (list, tuple)):
        if any(is_dual(v) for v in value):
            raise StudentError(Verdict(False, f"expected {described}, got {_kind(value)}: take "
                                              f"each one's .dval (the derivative) or .val"))
        value = [_unwrapped(v) for v in value]
    value = _unwrapped(value)
    hint = _hint(value)
    if value is None or value is Ellipsis or callable(value) or hint:
        raise StudentError(Verdict(False, f"expected {described}, got {_kind(value)}{hint}"))
    try:
        raw = np.asarray(value)
        if raw.dtype.kind in "bUSV":
            raise TypeError
        array = raw.astype(complex if raw.dtype.kind in "cO" else float)
    except (TypeError, ValueError, OverflowError):
        raise StudentError(Verdict(False, f"expected {described}, got {_kind(value)}")) from None
    if raw.dtype.kind in "fc" and np.finfo(raw.dtype).eps > max(rtol, EPS) \
            and not np.all(array == np.round(array)):
        raise StudentError(Verdict(False, f"expected {described}, got {raw.dtype} numbers (about "
                                          f"{np.finfo(raw.dtype).precision} digits): the check "
                                          f"compares more, compute in float64"))
    if array.dtype.kind == "c":
        real, imag = array.real, np.abs(array.imag)
        if imag.size and imag.max() > 1e-12 * np.abs(real).max(initial=0.0):
            raise StudentError(Verdict(False, f"expected {described}, got a complex number "
                                              f"(imaginary part up to {imag.max():.3g}): "
                                              f"the answer is real, take .real or .imag"))
        array = real.astype(float)
    return array


def is_dual(value):
    """A dual number, ad.Dual or a class of one's own (notebook 04's MiniDual): it has .dval."""
    return not isinstance(value, np.ndarray) and hasattr(value, "dval")


def _hint(value):
    """What to write instead of an object that holds the numbers asked for (a Dual, a
    dict of named numbers, an estimate with its error), or '' for anything else."""
    if is_dual(value):
        return ": take its .dval (the derivative) or .val"
    if isinstance(value, dict) or type(value).__name__ in ("dict_values", "dict_keys", "dict_items"):
        mapping = value if isinstance(value, dict) else getattr(value, "mapping", {})
        named = ", ".join(f"g[{key!r}]" for key in mapping)
        return (": pass its numbers in the order asked for"
                + (f", e.g. ({named}) for g = this dict" if named else ", as a tuple"))
    if hasattr(value, "mean") and hasattr(value, "error") and not isinstance(value, np.ndarray):
        return ": take its .mean (the estimate itself; .error is its uncertainty)"
    if isinstance(value, collections.abc.Iterator):  # a generator, map(...), zip(...)
        return (": numpy does not read the numbers out of it; make a list of them, "
                "list(...) or [... for ...] instead of (... for ...)")
    return ""


def _unwrapped(value):
    """A Variable's value (a result that leaked out of reverse mode); anything else as it is."""
    return value.value if type(value).__name__ == "Variable" else value


def as_number(value, described="a number", *, finite=True, rtol=0.0):
    """``value`` (a number, or an array of one number) as a float, or
    :class:`StudentError` saying a number was expected (a finite one, unless
    ``finite`` is False); ``rtol``: the check's tolerance (see :func:`floats`)."""
    array = floats(value, described, rtol)
    if array.size != 1:
        raise StudentError(Verdict(False, f"expected {described}, got {array.size} numbers "
                                          f"(shape {array.shape})"))
    number = float(array.reshape(()))
    if finite and not np.isfinite(number):
        raise StudentError(Verdict(False, f"expected {described}, got {number}"))
    return number


def as_array(value, shape, described="an array", rtol=0.0):
    """``value`` as a float array of ``shape``, or :class:`StudentError` saying so;
    ``rtol``: the check's tolerance (see :func:`floats`)."""
    array = floats(value, f"{described} of shape {tuple(shape)}", rtol)
    if array.shape != tuple(shape):
        transposed = array.ndim == 2 and array.shape == tuple(shape)[::-1]
        raise StudentError(Verdict(False, f"expected {described} of shape {tuple(shape)}, got "
                                          f"shape {array.shape}"
                                          + (": transposed" if transposed else "")))
    if not np.all(np.isfinite(array)):
        raise StudentError(Verdict(False, f"{described} contains inf or nan"))
    return array


def returned_floats(value, what, expected):
    """What ``what`` returned as a float array of any shape (the caller checks the
    shape with its own words), or :class:`StudentError` saying it returned something
    else where ``expected`` was expected."""
    try:
        return floats(value, expected)
    except StudentError as error:
        raise StudentError(Verdict(False, f"{what} returned "
                                          + error.verdict.message.removeprefix(f"expected {expected}, got ")
                                          + f"; expected {expected}")) from None


def _kind(value):
    if value is Ellipsis:
        return "... (the placeholder: replace it with your answer)"
    if value is None:
        return "None (did your function forget to return?)"
    name = type(value).__name__
    return f"{'an' if name[0] in 'AEIOUaeiou' else 'a'} {name} ({value!r:.60})"


def close(a, b, rtol=1e-9, atol=1e-12):
    """True when ``a`` and ``b`` have one shape and agree to ``rtol``/``atol``."""
    return bool(np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=rtol, atol=atol))


def number(x):
    """A number as the messages print it: 6 significant digits."""
    return f"{float(x):.6g}"


def apart(got, expected):
    """``got`` and ``expected`` as a message prints them side by side: 6 significant
    digits, or as many more as it takes to show them different (a student's answer off
    in the 8th digit must not read "-2; expected -2")."""
    for digits in (6, 10, 17):
        shown = f"{float(got):.{digits}g}", f"{float(expected):.{digits}g}"
        if shown[0] != shown[1]:
            break
    return shown


def checker(function):
    """Decorate a checker so that a :class:`StudentError` raised anywhere in it is
    returned as its verdict."""
    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except StudentError as error:
            return error.verdict
    wrapped.__name__, wrapped.__doc__ = function.__name__, function.__doc__
    wrapped.__wrapped__ = function
    return wrapped
