"""Argument kinds -> IR types: the key of the compiled-function cache.

A tuple or list argument (the parameter tuples ML code passes around: ``(W1, b1, W2, b2)``)
has a `Sequence` type: its items' types, nested as the argument is.  The compiled code
takes its items as separate parameters, in order (`leaves`, `flatten`), and a gradient
with respect to it is packed back into the same structure (`unflatten`).
"""
from dataclasses import dataclass

import numpy as np

from .errors import AdjitTypeError
from .ir.types import BOOL, F64, I64, Array

_DTYPES = {np.dtype(np.float64): F64, np.dtype(np.int64): I64, np.dtype(np.bool_): BOOL}
_ARRAYS = {}  # (dtype, ndim) -> its Array type, made once (a dataclass is slow to make per call)
ACCEPTED = ("a float, an int, a bool, a NumPy array of float64, int64 or bool, or a tuple or list of those")


@dataclass(frozen=True)
class Sequence:
    """The type of a tuple or list argument: `kind` ("tuple" or "list") and its items' types."""
    kind: str
    items: tuple

    def __str__(self):
        return f"{self.kind}({', '.join(map(str, self.items))})"


def leaves(t):
    """The types of the compiled code's parameters for argument type `t`, in order."""
    if isinstance(t, Sequence):
        return [leaf for item in t.items for leaf in leaves(item)]
    return [t]


def leaf_names(t, name):
    """The Python spelling of each leaf of an argument named `name`: params[0][1]."""
    if isinstance(t, Sequence):
        return [n for k, item in enumerate(t.items) for n in leaf_names(item, f"{name}[{k}]")]
    return [name]


def flatten(value, t, out=None):
    """The leaf values of argument `value` of type `t`, appended to list `out` (a 0-d float
    array taken as a float)."""
    out = [] if out is None else out
    if isinstance(t, Sequence):
        for item, ti in zip(value, t.items):
            flatten(item, ti, out)
    else:
        out.append(float(value) if t is F64 and isinstance(value, np.ndarray) else value)  # (type_of gives F64 itself)
    return out


def unflatten(t, flat):
    """Values for the leaves of type `t`, taken from iterator `flat`, in `t`'s structure."""
    if isinstance(t, Sequence):
        items = [unflatten(item, flat) for item in t.items]
        return items if t.kind == "list" else tuple(items)
    return next(flat)


def type_of(value, name, func_name):
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.timedelta64):
        if isinstance(value, int) and not -2**63 <= value < 2**63:
            raise AdjitTypeError(f"argument {name!r} of {func_name}() does not fit in 64 bits")
        return I64
    if isinstance(value, (float, np.float64)):
        return F64
    if isinstance(value, np.ndarray):
        if value.ndim == 0:  # what NumPy returns for some scalar operations: taken as a number
            if value.dtype == np.float64:
                return F64
            raise AdjitTypeError(f"argument {name!r} of {func_name}() is a 0-d {value.dtype} array",
                                 hint=f"pass a number instead, e.g. float({name})")
        t = _ARRAYS.get((value.dtype, value.ndim))
        if t is None:
            dtype = _DTYPES.get(value.dtype)
            if dtype is None:
                raise AdjitTypeError(
                    f"argument {name!r} of {func_name}() is an array of {value.dtype}, which adjit does not accept",
                    hint=f"convert it, e.g. {name}.astype(np.float64); adjit accepts {ACCEPTED}")
            t = _ARRAYS[(value.dtype, value.ndim)] = Array(dtype, value.ndim)
        return t
    if type(value) in (tuple, list):  # (not a namedtuple: its fields have names)
        try:
            items = tuple([type_of(v, name, func_name) for v in value])
        except AdjitTypeError:  # again, to name the item: params[2] (not built on every call)
            items = tuple([type_of(v, f"{name}[{k}]", func_name) for k, v in enumerate(value)])
        return Sequence(type(value).__name__, items)
    if type(value).__module__.startswith("adjit.tape"):  # a tape scalar or array: adjit.tape.grad(adjit.grad(f))
        raise AdjitTypeError(
            f"argument {name!r} of {func_name}() is a value being differentiated by adjit.tape: adjit.tape cannot "
            f"differentiate through a function compiled by adjit, and nested transformations are not supported yet",
            hint=f"give adjit.tape the plain Python function {func_name}, not its adjit.jit/adjit.grad version")
    raise AdjitTypeError(f"argument {name!r} of {func_name}() is a {type(value).__name__}, which adjit does not accept",
                         hint=f"pass {ACCEPTED} (a list of numbers meant as an array: np.asarray(..., dtype=np.float64))")


def bind(func, args, kwargs):
    """Positional arguments of `func` from a call's args and kwargs, defaults applied."""
    import inspect
    from .frontend.source import parse_function
    parsed = parse_function(func)  # a builtin, a ufunc or exec'd code: SourceUnavailableError now, not a binding error
    sig = inspect.signature(func)
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            from .errors import UnsupportedSyntaxError
            stars, node = ("*", parsed.tree.args.vararg) if p.kind == p.VAR_POSITIONAL else ("**", parsed.tree.args.kwarg)
            filename, lineno, text = parsed.where(node)
            raise UnsupportedSyntaxError(f"{func.__name__}() has a {stars}{p.name} parameter, which compiled functions "
                                         "cannot take", filename=filename, lineno=lineno, source_line=text,
                                         hint="use plain positional parameters")
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as e:
        raise AdjitTypeError(f"bad call of {func.__name__}(): {e}") from None
    bound.apply_defaults()
    return list(bound.arguments.keys()), list(bound.arguments.values())
