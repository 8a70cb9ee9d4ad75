"""Every error adjit raises on purpose.

All of them derive from :class:`AdjitError`.  Errors tied to a place in the user's
source carry that place (``file:line``), the offending source line and a hint that
says what to write instead, so a refusal is never a riddle.

An `AdjitError` that leaves adjit's public API (`user_facing`) has adjit's own frames
cut from its traceback, as JAX filters its frames: the traceback ends at the user's call,
and the message names the place in the user's function.  ``ADJIT_TRACEBACK_FILTERING=off``
keeps the full traceback (for a bug report).
"""
import functools
import os


class AdjitError(Exception):
    """Base class of every error adjit raises on purpose."""

    def __init__(self, message, *, filename=None, lineno=None, source_line=None, hint=None):
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.source_line = source_line
        self.hint = hint
        super().__init__(self._format())

    def _format(self):
        parts = []
        if self.filename is not None and self.lineno is not None:
            parts.append(f"{self.filename}:{self.lineno}: {self.message}")
        else:
            parts.append(self.message)
        if self.source_line:
            parts.append(f"    {self.source_line.strip()}")
        if self.hint:
            parts.append(f"  hint: {self.hint}")
        return "\n".join(parts)


class UnsupportedSyntaxError(AdjitError):
    """A Python construct outside adjit's supported subset."""


class AdjitNameError(AdjitError):
    """A name that is undefined, or may be unbound on some path."""


class AdjitTypeError(AdjitError):
    """Operand, argument or result types adjit cannot accept."""


class SourceUnavailableError(AdjitError):
    """The function's source code cannot be read (builtins, exec'd code, lambdas)."""


class RecursionRefusedError(AdjitError):
    """A function calls itself, directly or through helpers."""


class GradientError(AdjitError):
    """A request to differentiate that cannot be honoured (bad argnums, non-scalar output...)."""


def _filtering():
    return os.environ.get("ADJIT_TRACEBACK_FILTERING", "on").strip().lower() not in ("off", "0", "no", "false")


def user_facing(function):
    """Wrap a public entry point so that an `AdjitError` it raises ends at the caller's code.

    The error is re-raised without the traceback of adjit's internals (translation, reverse
    mode, code generation, Numba) and without the exception it was raised while handling;
    only the line below, in this file, stays between the user's call and the message.  The
    error object, its message (with ``file:line`` of the user's source) and its attributes
    are unchanged.  Nested entry points (check_grad calling a gradient) filter once each."""
    @functools.wraps(function)
    def entry_point(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except AdjitError as error:
            if not _filtering():
                raise
            error.__suppress_context__ = True
            raise error.with_traceback(None)  # adjit's frames are hidden: see the message for your file:line
    return entry_point


def describe_type(t):
    """A type of adjit's IR in the user's words ("a float", "a 2-D float64 array"): messages
    never show the IR's own names (f64, i64[:])."""
    from .ir.types import BOOL, F64, I64, is_array
    names = {F64: ("a float", "float64"), I64: ("an int", "int64"), BOOL: ("a bool", "bool")}
    if is_array(t):
        return f"a {t.ndim}-D {names[t.dtype][1]} array"
    return names[t][0] if t in names else f"a {t}"


def dtype_name(t):
    """The NumPy name of a scalar type of the IR (float64, int64, bool)."""
    from .ir.types import BOOL, F64, I64
    return {F64: "float64", I64: "int64", BOOL: "bool"}.get(t, str(t))
