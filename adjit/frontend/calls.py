"""Calls the frontend understands: builtins, math, numpy on scalars, array creation,
array methods, and module-level helper functions (inlined).

Each supported callable maps to a primitive of the table (or a short lowering); the
maps below are the whole list, so what is supported can be read off this file.
"""
import ast
import builtins
import math

import numpy as np

from ..errors import AdjitTypeError, UnsupportedSyntaxError
from ..ir.core import Value
from ..ir.types import BOOL, F64, I64, is_array
from . import arrays, numpy_build, numpy_shapes, numpy_stats, numpy_ufuncs, numpy_unsupported

# math.* and np.* functions of scalars -> primitive name
SCALAR_FUNCTIONS = {}
for _name in ("sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh exp expm1 log1p log2 log10 "
              "sqrt erf erfc fabs floor ceil atan2 hypot copysign degrees radians isnan isinf isfinite").split():
    SCALAR_FUNCTIONS[getattr(math, _name)] = _name
_NP_NAMES = {"sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
             "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "arcsinh": "asinh", "arccosh": "acosh",
             "arctanh": "atanh", "exp": "exp", "expm1": "expm1", "log": "log", "log1p": "log1p", "log2": "log2",
             "log10": "log10", "sqrt": "sqrt", "fabs": "fabs", "abs": "abs", "absolute": "abs",
             "floor": "ffloor", "ceil": "fceil", "arctan2": "atan2", "hypot": "hypot", "copysign": "copysign",
             "degrees": "degrees", "radians": "radians", "square": "square", "sign": "sign",
             "maximum": "max", "minimum": "min", "isnan": "isnan", "isinf": "isinf", "isfinite": "isfinite"}
for _np_name, _prim in _NP_NAMES.items():
    SCALAR_FUNCTIONS[getattr(np, _np_name)] = _prim
SCALAR_FUNCTIONS[math.log] = "log"

_ALLOC = {np.zeros: "zeros", np.ones: "ones", np.empty: "empty", np.full: "full"}
_ALLOC_LIKE = {np.zeros_like: "zeros_like", np.ones_like: "ones_like", np.empty_like: "empty_like"}
_DTYPES = {float: F64, np.float64: F64, int: I64, np.int64: I64, bool: BOOL, np.bool_: BOOL}


def call(tr, target, path, node):
    """Translate a call of the Python object `target` (named `path` in the source)."""
    from ..api import Jit, _Compiled  # here, not at the top: adjit.api imports the frontend
    from ..custom import _Custom
    if isinstance(target, _Compiled) and not isinstance(target, Jit):
        return _call_transformed(tr, target, path, node)
    if isinstance(target, _Custom):
        from .custom_rules import call_custom
        return call_custom(tr, target, path, node)
    in_compiled_code = getattr(target, "_adjit_in_compiled_code", None)  # adjit.jvp (adjit.transforms)
    if in_compiled_code is not None:
        return in_compiled_code(tr, path, node)
    _refuse_transformed(tr, target, path, node)
    if hasattr(target, "py_func") and callable(getattr(target, "py_func")):
        # an adjit.jit helper (jit is the identity transformation, so this is exact) or a numba
        # dispatcher (numba.njit compiles the same Python semantics): inline its Python source.
        # adjit gradients were refused just above; they are never unwrapped.
        target = target.py_func
    handler = _BUILTINS.get(target)
    if handler is not None:
        return handler(tr, node)
    for extra in (numpy_stats, numpy_ufuncs, numpy_build, numpy_shapes):  # issue 14: NumPy spellings and keywords
        out = extra.call(tr, target, path, node)
        if out is not None:
            return out
    out = arrays.call(tr, target, path, node)
    if out is not None:
        return out
    if target in SCALAR_FUNCTIONS:
        _no_keywords(tr, node, path)
        return _scalar_function(tr, SCALAR_FUNCTIONS[target], path, node, on_arrays=isinstance(target, np.ufunc))
    if target is math.pow or target is np.power:
        _no_keywords(tr, node, path)
        x, y = _args(tr, node, 2, path)
        if target is np.power and (is_array(x.type) or is_array(y.type)):
            return arrays.elementwise(tr, "pow", [x, y if is_array(y.type) else tr.b.cast(y, F64)], node, path)
        return tr.b.emit("pow", [tr.b.cast(x, F64), tr.b.cast(y, F64)])
    if target in (np.float64, np.int64):
        (x,) = _args(tr, node, 1, path)
        return tr.b.cast(x, F64 if target is np.float64 else I64)
    if target in _ALLOC:
        return _allocate(tr, _ALLOC[target], node, path)
    if target in _ALLOC_LIKE:
        (a,) = _args(tr, node, 1, path, keywords=("dtype",))
        _need_array(tr, a, node, path)
        dtype = _dtype(tr, node, a.type.dtype)
        return tr.b.emit(_ALLOC_LIKE[target], [a], {"dtype": dtype})
    if target is np.copy:
        (a,) = _args(tr, node, 1, path)
        _need_array(tr, a, node, path)
        return tr.b.emit("copy", [a])
    import types
    refused = numpy_unsupported.refusal(target, path)
    if refused is not None or (isinstance(target, types.FunctionType) and numpy_unsupported.is_library_function(target)):
        # a library's own Python source is never inlined (np.row_stack, np.tri are Python inside NumPy)
        message, hint = refused or (f"calling {path}() is not supported in compiled code: it is a function of an "
                                    "installed library, whose source adjit does not compile",
                                    _unsupported_call_hint(target, path))
        raise tr.error(UnsupportedSyntaxError, node, message, hint=hint)
    if isinstance(target, types.FunctionType):
        args = [tr.expr(a) for a in node.args]
        kwargs = {k.arg: tr.expr(k.value) for k in node.keywords}
        return tr.inline(target, args, node, kwargs)
    raise tr.error(UnsupportedSyntaxError, node, f"calling {path}() is not supported in compiled code",
                   hint=_unsupported_call_hint(target, path))


def _unsupported_call_hint(target, path):
    """What to do instead of calling `target` (named `path`), which adjit does not compile."""
    module = getattr(target, "__module__", None) or ""
    if target is builtins.print:
        return ("print() cannot run inside compiled code: return the values you want to see (from an adjit.jit "
                "function, or with adjit.value_and_grad) and print them outside, or debug by calling the plain "
                "Python function (f.py_func of an adjit function)")
    if isinstance(target, np.ufunc) or module == "numpy" or module.startswith("numpy."):
        return (f"{path} is not in adjit's NumPy subset (the functions it compiles are listed in "
                "docs/supported-python.md, 'The NumPy array subset'): write it with those (or a loop), or "
                "compute it outside the function and pass the result in as an argument")
    if module == "math":
        return (f"{path} is not among the math functions adjit compiles (listed in docs/supported-python.md, "
                "'Calls'): write it with those, or compute it outside and pass the result in")
    if module == "builtins":
        return (f"the builtin {path}() is not supported in compiled code (the supported builtins are listed in "
                "docs/supported-python.md, 'Calls'); write it with a loop")
    return "use math/numpy functions of numbers, np.zeros-style allocation, or module-level helpers"


def _call_transformed(tr, target, path, node):
    """A call of an adjit-transformed function (a gradient, a Jacobian...): its transformed
    IR is inlined here, with fresh values, so derivatives nest without confusion."""
    from ..transforms import inline_call
    from .translate import Tup
    if node.keywords:
        raise tr.error(UnsupportedSyntaxError, node, f"keyword arguments in a call to {path}() are not supported",
                       hint="pass the arguments by position")
    args = [tr.expr(a) for a in node.args]
    if not all(isinstance(a, Value) for a in args):
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() takes numbers and arrays, not tuples")
    out = inline_call(tr.b, target, args)  # an error inside names the called function's own line

    def wrap(v):
        return Tup([wrap(x) for x in v]) if isinstance(v, tuple) else v
    return wrap(out)


def _refuse_transformed(tr, target, path, node):
    """Refuse a call of a gradient (adjit's or adjit.tape's) or of a functools.wraps-decorated
    function: inlining its Python source would silently compute the undifferentiated (or
    undecorated) function."""
    import types
    if isinstance(target, types.FunctionType) and getattr(target, "__wrapped__", None) is not None:
        if target.__globals__.get("__name__") == "adjit.tape.api":
            raise tr.error(UnsupportedSyntaxError, node,
                           f"{path} is a gradient made by adjit.tape; calling it from compiled code is a nested "
                           "transformation, which is not supported yet",
                           hint="write the derivative as its own Python function and call that, or call the "
                                "gradient outside the compiled function and pass its result in")
        raise tr.error(UnsupportedSyntaxError, node,
                       f"{path} is a decorated function (it has __wrapped__, e.g. from functools.wraps): adjit "
                       "would read the source of the function it wraps and silently leave the decorator out",
                       hint="call the undecorated function, and apply what the decorator does in the code")


def method(tr, owner, name, node):
    if is_array(owner.type) and name == "copy":
        _args(tr, node, 0, f".{name}")
        return tr.b.emit("copy", [owner])
    if is_array(owner.type):
        out = numpy_shapes.method(tr, owner, name, node)  # issue 14: scans, order, shapes
        if out is not None:
            return out
    out = arrays.method(tr, owner, name, node)
    if out is not None:
        return out
    if is_array(owner.type):
        out = numpy_stats.method(tr, owner, name, node)
        if out is not None:
            return out
    raise tr.error(UnsupportedSyntaxError, node, f"the method .{name}() is not supported here",
                   hint="arrays support .copy(), .sum()/.mean()/.max()/.min()/.prod()/.var()/.std(), .clip(), "
                        ".dot(), .reshape(), "
                        ".ravel(), .flatten(), .transpose(); call other numpy functions by their np. name")


def _no_keywords(tr, node, path):
    if node.keywords:
        raise tr.error(UnsupportedSyntaxError, node, f"keyword arguments to {path}() are not supported")


def _args(tr, node, n, path, keywords=()):
    bad = [k.arg for k in node.keywords if k.arg not in keywords]
    if bad:
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() got an unsupported keyword argument {bad[0]!r}")
    if n is not None and len(node.args) != n:
        raise tr.error(AdjitTypeError, node, f"{path}() takes {n} argument(s), got {len(node.args)}")
    return [tr.expr(a) for a in node.args]


def _scalars(tr, values, node, path):
    for v in values:
        if not isinstance(v, Value) or is_array(v.type):
            raise tr.error(UnsupportedSyntaxError, node,
                           f"{path}() of an array is not supported", hint="use the numpy function (np.sin...) on arrays, "
                           "or apply it to the elements in a loop")
    return values


def _scalar_function(tr, prim, path, node, on_arrays=False):
    args = [tr.expr(a) for a in node.args]
    if on_arrays and any(isinstance(a, Value) and is_array(a.type) for a in args):
        arity = 2 if prim in ("atan2", "hypot", "copysign", "max", "min") else 1
        if len(args) != arity:
            raise tr.error(AdjitTypeError, node, f"{path}() takes {arity} argument(s), got {len(args)}")
        return arrays.elementwise(tr, prim, args, node, path)
    args = _scalars(tr, args, node, path)
    if prim == "log" and len(args) == 2:  # log(x, base)
        return tr.b.emit("div", [tr.b.emit("log", [args[0]]), tr.b.emit("log", [args[1]])])
    from ..ir.primitives import PRIMITIVES
    arity = 2 if prim in ("atan2", "hypot", "copysign", "max", "min") else 1
    if len(args) != arity:
        raise tr.error(AdjitTypeError, node, f"{path}() takes {arity} argument(s), got {len(args)}")
    assert prim in PRIMITIVES
    return tr.b.emit(prim, args)


def _min_max(prim):
    def handler(tr, node):
        from .translate import Tup
        _no_keywords(tr, node, prim)
        args = [tr.expr(a) for a in node.args]
        if len(args) == 1 and isinstance(args[0], Tup):  # max((a, b, c)): over the tuple's items
            args = args[0].items
        elif len(args) == 1 and isinstance(args[0], Value) and is_array(args[0].type):
            # Python's max(a) iterates over a: over the elements of a 1-D array, np.max's
            # value (ties: the first, as np.max's rule); a 2-D one compares rows, which NumPy refuses
            if args[0].type.ndim != 1:
                raise tr.error(AdjitTypeError, node, f"{prim}() of a {args[0].type.ndim}-D array compares its rows, "
                               "whose truth value is ambiguous (NumPy raises ValueError)",
                               hint=f"use np.{prim}(a) for the {prim}imum element, or np.{prim}(a, axis=0)")
            return arrays.reduction("a" + prim)(tr, args[0], {}, node, prim)
        args = _scalars(tr, args, node, prim)
        if len(args) < 2:
            raise tr.error(UnsupportedSyntaxError, node, f"{prim}() needs two or more numbers, a tuple or a 1-D array")
        out = args[0]
        for a in args[1:]:
            out = tr.b.emit(prim, [out, a])
        return out
    return handler


def _abs(tr, node):
    (x,) = _args(tr, node, 1, "abs")
    if isinstance(x, Value) and is_array(x.type):  # abs(a) is a.__abs__(): np.abs
        return arrays.elementwise(tr, "abs", [x], node, "abs")
    (x,) = _scalars(tr, [x], node, "abs")
    return tr.b.emit("abs", [x])


def _cast(t):
    def handler(tr, node):
        if t == F64 and len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):  # float("inf"), float("nan"), float("1e-3")
            try:
                return tr.b.const(float(node.args[0].value))
            except ValueError:
                raise tr.error(AdjitTypeError, node, f"float() of {node.args[0].value!r} is not a number") from None
        (x,) = _scalars(tr, _args(tr, node, 1, t.name), node, t.name)
        if t == I64 and x.type == F64:
            return tr.b.emit("i64", [x])  # truncation toward zero, as Python's int()
        return tr.b.cast(x, t)
    return handler


def _len(tr, node):
    from .translate import Tup
    (a,) = _args(tr, node, 1, "len")
    if isinstance(a, Tup):
        return tr.b.const(len(a.items))
    _need_array(tr, a, node, "len")
    out = tr.b.emit("shape", [a], {"dim": 0})
    tr._nonneg.add(out)
    return out


def _sum(tr, node):
    """Python's sum(): of a tuple, the additions; of an array, the sum over its first axis
    (what adding its rows or elements one by one gives)."""
    from .translate import Tup
    if node.keywords and any(k.arg != "start" for k in node.keywords) or not 1 <= len(node.args) <= 2:
        raise tr.error(AdjitTypeError, node, "sum() takes an iterable and an optional start")
    it = tr.expr(node.args[0])
    start_node = node.args[1] if len(node.args) == 2 else (node.keywords[0].value if node.keywords else None)
    start = tr.expr(start_node) if start_node is not None else None
    if isinstance(it, Tup):
        out = start if start is not None else tr.b.const(0)
        for v in it.items:
            out = tr.binop("add", out, v, node)
        return out
    if not (isinstance(it, Value) and is_array(it.type)):
        raise tr.error(UnsupportedSyntaxError, node, "sum() is supported over an array or a tuple",
                       hint="use np.sum(...), or add in a loop")
    axis = ast.Constant(value=None if it.type.ndim == 1 else 0)
    out = arrays.reduction("sum")(tr, it, {"axis": axis}, node, "sum")
    return out if start is None else tr.binop("add", start, out, node)


def _range_outside_for(tr, node):
    raise tr.error(UnsupportedSyntaxError, node, "range() is only supported as the iterable of a for loop")


_BUILTINS = {builtins.min: _min_max("min"), builtins.max: _min_max("max"), builtins.abs: _abs,
             builtins.float: _cast(F64), builtins.int: _cast(I64), builtins.bool: _cast(BOOL),
             builtins.len: _len, builtins.range: _range_outside_for, builtins.sum: _sum}


def _need_array(tr, a, node, path):
    if not (isinstance(a, Value) and is_array(a.type)):
        raise tr.error(AdjitTypeError, node, f"{path}() needs an array argument")


def _dtype(tr, node, default):
    for k in node.keywords:
        if k.arg == "dtype":
            obj = _static(tr, k.value)
            if obj not in _DTYPES:
                raise tr.error(AdjitTypeError, node, f"dtype {ast.unparse(k.value)} is not supported",
                               hint="use float / np.float64, int / np.int64 or bool")
            return _DTYPES[obj]
    return default


def _static(tr, e):
    """A compile-time Python object named by an expression such as np.float64."""
    if isinstance(e, ast.Name):
        return tr.lookup_global(e.id, e)
    if isinstance(e, ast.Attribute):
        return getattr(_static(tr, e.value), e.attr, None)
    return None


def _allocate(tr, prim, node, path):
    from .translate import Tup
    n = 2 if prim == "full" else 1
    if len(node.args) != n:
        raise tr.error(AdjitTypeError, node, f"{path}() takes {n} positional argument(s) here")
    bad = [k.arg for k in node.keywords if k.arg != "dtype"]
    if bad:
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() got an unsupported keyword argument {bad[0]!r}")
    shape = tr.expr(node.args[0]) if not isinstance(node.args[0], ast.List) else \
        Tup([tr.expr(x) for x in node.args[0].elts])  # np.zeros([n, m]) as np.zeros((n, m))
    dims = shape.items if isinstance(shape, Tup) else [shape]
    dims = [tr.as_int(d, node) if isinstance(d, Value) and not is_array(d.type) else None for d in dims]
    if any(d is None for d in dims):
        raise tr.error(AdjitTypeError, node, f"the shape given to {path}() must be an int or a tuple of ints")
    fill = None
    if prim == "full":
        fill = tr.scalar(node.args[1])
    default = F64 if fill is None or fill.type == F64 else fill.type
    if prim == "full" and not any(k.arg == "dtype" for k in node.keywords):
        default = fill.type
    dtype = _dtype(tr, node, default)
    args = list(dims) + ([fill] if fill is not None else [])
    return tr.b.emit(prim, args, {"dtype": dtype})
