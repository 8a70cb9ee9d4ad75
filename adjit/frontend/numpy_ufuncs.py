"""The NumPy ufunc spellings of arithmetic and of the NumPy-only elementwise functions
(issue 14): ``np.add(a, b)`` is ``a + b``, ``np.logaddexp(a, b)`` is one primitive of the
table, on numbers and on arrays (broadcasting as NumPy).  ``out=``, ``where=``, ``dtype=``
and other ufunc keywords are refused.
"""
import numpy as np

from ..errors import AdjitTypeError, UnsupportedSyntaxError
from ..ir.core import Value
from ..ir.types import BOOL, F64, I64, is_array

# operators: np.f(a, b) is the Python operator (the frontend's own rules for numbers and arrays)
_OPERATORS = {np.add: "add", np.subtract: "sub", np.multiply: "mul", np.divide: "div", np.true_divide: "div",
              np.mod: "mod", np.remainder: "mod", np.floor_divide: "floordiv"}
# primitives of the table, applied elementwise: name -> (primitive, number of operands)
_ELEMENTWISE = {np.exp2: ("exp2", 1), np.logaddexp: ("logaddexp", 2), np.logaddexp2: ("logaddexp2", 2),
                np.fmax: ("fmax", 2), np.fmin: ("fmin", 2), np.sinc: ("sinc", 1),
                np.deg2rad: ("radians", 1), np.rad2deg: ("degrees", 1)}
_UNARY = {np.negative, np.reciprocal, np.positive}


def _operands(tr, node, path, n):
    if node.keywords:
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() with the keyword {node.keywords[0].arg}= is not "
                       "supported", hint="call it with its operands only and assign the result")
    if len(node.args) != n:
        raise tr.error(AdjitTypeError, node, f"{path}() takes {n} operand(s), got {len(node.args)}")
    args = [tr.expr(a) for a in node.args]
    for a in args:
        if not isinstance(a, Value):
            raise tr.error(UnsupportedSyntaxError, node, f"{path}() takes numbers and arrays")
    return args


# ufunc methods: np.add.accumulate is cumsum, np.maximum.accumulate a running max (a gather of
# the elements where the maxima are, so its derivative is the gather's)
_ACCUMULATE = {np.add: "cumsum", np.multiply: "cumprod", np.maximum: "running_argmax", np.minimum: "running_argmin"}


def _accumulate(tr, target, path, node):
    from .numpy_shapes import _arr, _axis_or_flat
    from .numpy_stats import bind
    a = bind(tr, node, path, ["array", "axis"])
    x = _arr(tr, a["array"], node, path)
    if x.type.dtype == BOOL:
        x = tr.b.cast(x, I64)
    x, axis = _axis_or_flat(tr, x, a.get("axis"), node, path, default=0)
    if x.type.ndim == 0:
        raise tr.error(AdjitTypeError, node, f"{path}() needs an array of at least one dimension")
    prim = _ACCUMULATE[target.__self__]
    if prim.startswith("running"):
        return tr.b.emit("take_along", [x, tr.b.emit(prim, [x], {"axis": axis})], {"axis": axis})
    return tr.b.emit(prim, [x], {"axis": axis})


def call(tr, target, path, node):
    from .arrays import elementwise, unary
    import ast
    if getattr(target, "__name__", None) == "accumulate" and isinstance(getattr(target, "__self__", None), np.ufunc) \
            and target.__self__ in _ACCUMULATE:
        return _accumulate(tr, target, path, node)
    if not (isinstance(target, np.ufunc) or target is np.sinc):  # np.sinc is a Python function
        return None
    if target in _OPERATORS:
        a, b = _operands(tr, node, path, 2)
        return tr.binop(_OPERATORS[target], a, b, node)
    if target in _ELEMENTWISE:
        prim, n = _ELEMENTWISE[target]
        args = _operands(tr, node, path, n)
        if any(is_array(a.type) for a in args):
            return elementwise(tr, prim, args, node, path)
        return tr.b.emit(prim, args)
    if target in _UNARY:
        (x,) = _operands(tr, node, path, 1)
        if target is np.reciprocal:
            if (x.type.dtype if is_array(x.type) else x.type) != F64:
                raise tr.error(AdjitTypeError, node, "np.reciprocal() of an integer is an integer division "
                               "in NumPy (1 // x); adjit supports it on floats",
                               hint="write 1.0 / x for the float reciprocal")
            return tr.binop("div", tr.b.const(1.0), x, node)
        op = ast.USub() if target is np.negative else ast.UAdd()
        if is_array(x.type):
            return unary(tr, op, x, node)
        return tr.b.emit("neg", [x]) if target is np.negative else x
    return None
