"""Symbolic values for writing derivative rules as ordinary arithmetic.

Inside a rule, ``g * y`` or ``F.cos(x)`` does not compute anything: it emits IR
operations into the builder that is active (see `building`).  This keeps every
derivative rule in the primitive table one short line.  Arithmetic with plain Python
numbers folds the trivial cases (``g * 1`` is ``g``) so the generated code stays clean.
"""
import contextlib

from .core import Value

_active = []


@contextlib.contextmanager
def building(builder):
    """Make `builder` the one that symbolic operations emit into."""
    _active.append(builder)
    try:
        yield builder
    finally:
        _active.pop()


def _builder():
    return _active[-1]


def _val(x):
    """A Sym, a Value or a Python number, as an IR Value of the active builder."""
    if isinstance(x, Sym):
        return x.value
    if isinstance(x, Value):
        return x
    return _builder().const(x)


def _is(x, number):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == number


class Sym:
    """An IR value that emits operations when combined with other values."""
    __slots__ = ("_value", "_thunk")

    def __init__(self, value=None, thunk=None):
        self._value = value
        self._thunk = thunk  # fetched on first use, so unused primal values are never requested

    @property
    def value(self):
        if self._value is None:
            self._value = _val(self._thunk())
        return self._value

    def __add__(self, o):
        return self if _is(o, 0) else F.add(self, o)

    def __radd__(self, o):
        return self if _is(o, 0) else F.add(o, self)

    def __sub__(self, o):
        return self if _is(o, 0) else F.sub(self, o)

    def __rsub__(self, o):
        return -self if _is(o, 0) else F.sub(o, self)

    def __mul__(self, o):
        if _is(o, 1):
            return self
        if _is(o, -1):
            return -self
        return F.mul(self, o)

    __rmul__ = __mul__

    def __truediv__(self, o):
        return self if _is(o, 1) else F.div(self, o)

    def __rtruediv__(self, o):
        return F.div(o, self)

    def __neg__(self):
        return F.neg(self)

    def __pow__(self, o):
        return F.pow(self, o)


class _Emitters:
    """``F.name(*args)`` emits primitive `name` and returns its result as a Sym."""

    def __getattr__(self, prim):
        def emit(*args, **attrs):
            result = _builder().emit(prim, [_val(a) for a in args], attrs)
            return Sym(result)
        emit.__name__ = prim
        return emit


F = _Emitters()
