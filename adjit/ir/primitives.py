"""The table of primitive operations.

One entry per primitive, and everything about a primitive sits in its entry:

* ``args``     the types its operands are converted to (the builder inserts the casts),
* ``result``   its result type (None for a pure effect such as a store),
* ``fmt``      the Python source it becomes in generated code,
* ``partials`` one local derivative per operand, as a function of the operands and the
  result (``o``); the reverse rule is ``adjoint(arg) += g * partial``.  ``None`` marks
  an operand with no derivative (integers, indices, non-smooth steps).  A primitive
  with ``partials=None`` has a zero derivative everywhere it is defined.
* ``effect``   "pure", "read" (loads), "write" (stores) or "alloc" (creates an array).

Non-smooth conventions (documented in docs/limitations.md): max/min route the
gradient to the selected operand, ties to the first; abs'(0) = sign(0) = 0; floor, ceil,
comparisons, casts to int and // have zero derivative.
"""
import math
from dataclasses import dataclass
from typing import Callable, Optional

from .sym import F
from .types import BOOL, F64, I64, Array, NUMPY_DTYPE, is_array, promote


@dataclass(frozen=True)
class Primitive:
    name: str
    args: Callable            # (arg types, attrs) -> wanted arg types
    result: Callable          # (arg types, attrs) -> result type or None
    fmt: object               # format string over {0}, {1}... or (arg sources, attrs) -> source
    partials: Optional[tuple] = None
    effect: str = "pure"

    def source(self, args, attrs):
        if callable(self.fmt):
            return self.fmt(args, attrs)
        return self.fmt.format(*args, **attrs)


PRIMITIVES = {}


def _add(name, args, result, fmt, partials=None, effect="pure"):
    PRIMITIVES[name] = Primitive(name, args, result, fmt, partials, effect)


# ---- type rules -----------------------------------------------------------------------
def _promoted(ts, attrs):
    return [promote(*ts)] * len(ts)


def _floats(ts, attrs):
    return [F64] * len(ts)


def _as_is(ts, attrs):
    return list(ts)


def _first(ts, attrs):
    return ts[0]


def _f64(ts, attrs):
    return F64


def _i64(ts, attrs):
    return I64


def _bool(ts, attrs):
    return BOOL


def _pow_args(ts, attrs):
    base, exp = ts
    if exp == F64 or base == F64:
        # a float base keeps an int exponent: x**2 compiles to a multiplication
        return [F64, exp if exp == I64 else F64]
    return [I64, I64]


# ---- arithmetic --------------------------------------------------------------------------
_add("add", _promoted, _first, "{0} + {1}", (lambda x, y, o: 1, lambda x, y, o: 1))
_add("sub", _promoted, _first, "{0} - {1}", (lambda x, y, o: 1, lambda x, y, o: -1))
_add("mul", _promoted, _first, "{0} * {1}", (lambda x, y, o: y, lambda x, y, o: x))
_add("div", _floats, _f64, "{0} / {1}", (lambda x, y, o: 1 / y, lambda x, y, o: -o / y))
_add("floordiv", _promoted, _first, "{0} // {1}")
_add("mod", _promoted, _first, "{0} % {1}", (lambda x, y, o: 1, lambda x, y, o: -F.ffloor(x / y)))
_add("pow", _pow_args, _first, "{0} ** {1}",
     (lambda x, y, o: F.pow_dbase(x, y),
      lambda x, y, o: F.select(F.gt(x, 0.0), o * F.log(x), 0.0)))
_add("pow_dbase", _pow_args, _f64, "_rt.pow_dbase({0}, {1})")  # d(x**y)/dx, 0 where y == 0
_add("neg", lambda ts, a: [promote(*ts)], _first, "-{0}", (lambda x, o: -1,))
_add("abs", lambda ts, a: [promote(*ts)], _first, "abs({0})", (lambda x, o: F.sign(x),))
_add("max", _promoted, _first, "max({0}, {1})",
     (lambda x, y, o: F.f64(F.ge(x, y)), lambda x, y, o: F.f64(F.lt(x, y))))
_add("min", _promoted, _first, "min({0}, {1})",
     (lambda x, y, o: F.f64(F.le(x, y)), lambda x, y, o: F.f64(F.gt(x, y))))
_add("select", lambda ts, a: [BOOL] + [promote(*ts[1:])] * 2, lambda ts, a: ts[1],
     "{1} if {0} else {2}", (None, lambda c, x, y, o: F.f64(c), lambda c, x, y, o: F.f64(F.not_(c))))

# ---- comparisons and logic ---------------------------------------------------------------
for _name, _op in [("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="), ("eq", "=="), ("ne", "!=")]:
    _add(_name, _promoted, _bool, "{0} %s {1}" % _op)
_add("not_", lambda ts, a: [BOOL], _bool, "not {0}")
_add("and_", lambda ts, a: [BOOL, BOOL], _bool, "{0} and {1}")  # only on already-computed bools
_add("or_", lambda ts, a: [BOOL, BOOL], _bool, "{0} or {1}")

# ---- casts ---------------------------------------------------------------------------------
# Numba has no float(bool): a bool operand goes through int first
_add("f64", lambda ts, a: [I64 if ts[0] == BOOL else ts[0]], _f64, "float({0})", (lambda x, o: 1,))
_add("i64", _as_is, _i64, "int({0})")
_add("truth", _as_is, _bool, "{0} != 0")

# ---- scalar math: name, Python source, local derivative --------------------------------------
_SQRT_PI = math.sqrt(math.pi)
_UNARY = {
    "sin": ("math.sin", lambda x, o: F.cos(x)),
    "cos": ("math.cos", lambda x, o: -F.sin(x)),
    "tan": ("math.tan", lambda x, o: 1 + o * o),
    "asin": ("math.asin", lambda x, o: 1 / F.sqrt(1 - x * x)),
    "acos": ("math.acos", lambda x, o: -1 / F.sqrt(1 - x * x)),
    "atan": ("math.atan", lambda x, o: 1 / (1 + x * x)),
    "sinh": ("math.sinh", lambda x, o: F.cosh(x)),
    "cosh": ("math.cosh", lambda x, o: F.sinh(x)),
    "tanh": ("math.tanh", lambda x, o: 1 - o * o),
    "asinh": ("math.asinh", lambda x, o: 1 / F.sqrt(x * x + 1)),
    "acosh": ("math.acosh", lambda x, o: 1 / F.sqrt(x * x - 1)),
    "atanh": ("math.atanh", lambda x, o: 1 / (1 - x * x)),
    "exp": ("math.exp", lambda x, o: o),
    "expm1": ("math.expm1", lambda x, o: o + 1),
    "log": ("math.log", lambda x, o: 1 / x),
    "log1p": ("math.log1p", lambda x, o: 1 / (1 + x)),
    "log2": ("math.log2", lambda x, o: 1 / (x * math.log(2.0))),
    "log10": ("math.log10", lambda x, o: 1 / (x * math.log(10.0))),
    "sqrt": ("math.sqrt", lambda x, o: 0.5 / o),
    "erf": ("math.erf", lambda x, o: (2 / _SQRT_PI) * F.exp(-(x * x))),
    "erfc": ("math.erfc", lambda x, o: (-2 / _SQRT_PI) * F.exp(-(x * x))),
    "fabs": ("math.fabs", lambda x, o: F.sign(x)),
    "degrees": ("math.degrees", lambda x, o: 180.0 / math.pi),
    "radians": ("math.radians", lambda x, o: math.pi / 180.0),
    "square": ("_rt.square", lambda x, o: 2 * x),
    "sign": ("_rt.sign", None),
    "ffloor": ("np.floor", None),  # np.floor / np.ceil of a scalar stay float
    "fceil": ("np.ceil", None),
}
for _name, (_fn, _d) in _UNARY.items():
    _add(_name, _floats, _f64, _fn + "({0})", None if _d is None else (_d,))
_add("floor", _floats, _i64, "math.floor({0})")  # Python's math.floor returns an int
_add("ceil", _floats, _i64, "math.ceil({0})")
for _name in ("isnan", "isinf", "isfinite"):
    _add(_name, _floats, _bool, "math.%s({0})" % _name)

_add("atan2", _floats, _f64, "math.atan2({0}, {1})",
     (lambda y, x, o: x / (x * x + y * y), lambda y, x, o: -y / (x * x + y * y)))
_add("hypot", _floats, _f64, "math.hypot({0}, {1})",
     (lambda x, y, o: F.select(F.gt(o, 0.0), x / o, 0.0),
      lambda x, y, o: F.select(F.gt(o, 0.0), y / o, 0.0)))
_add("copysign", _floats, _f64, "math.copysign({0}, {1})",
     (lambda x, y, o: F.sign(x) * F.copysign(1.0, y), None))


# ---- constants -----------------------------------------------------------------------------
def _const_source(args, attrs):
    v = attrs["value"]
    if isinstance(v, float) and not math.isfinite(v):
        return "math.nan" if math.isnan(v) else ("math.inf" if v > 0 else "-math.inf")
    return repr(v)


def _undef_source(args, attrs):
    t = attrs["type"]
    if is_array(t):
        return f"np.empty({(0,) * t.ndim}, dtype={NUMPY_DTYPE[t.dtype]})"
    return {F64: "0.0", I64: "0", BOOL: "False"}[t]


_add("const", _as_is, lambda ts, a: a["type"], _const_source)
_add("undef", _as_is, lambda ts, a: a["type"], _undef_source)  # a placeholder never read


# ---- arrays -----------------------------------------------------------------------------------
def _index(args):
    return f"{args[0]}[{', '.join(args[1:])}]"


def _shape_tuple(dims):
    return "(" + "".join(d + ", " for d in dims) + ")"


def _dtype_of(attrs):
    return NUMPY_DTYPE[attrs["dtype"]]


_add("load", lambda ts, a: [ts[0]] + [I64] * (len(ts) - 1), lambda ts, a: ts[0].dtype,
     lambda args, a: _index(args), effect="read")
_add("store", lambda ts, a: [ts[0]] + [I64] * (len(ts) - 2) + [ts[0].dtype], lambda ts, a: None,
     lambda args, a: f"{_index(args[:-1])} = {args[-1]}", effect="write")
_add("store_add", lambda ts, a: [ts[0]] + [I64] * (len(ts) - 2) + [ts[0].dtype], lambda ts, a: None,
     lambda args, a: f"{_index(args[:-1])} += {args[-1]}", effect="write")
_add("shape", _as_is, _i64, "{0}.shape[{dim}]")
for _name in ("zeros", "ones", "empty"):
    _add(_name, lambda ts, a: [I64] * len(ts), lambda ts, a: Array(a["dtype"], len(ts)),
         lambda args, a, _n=_name: f"np.{_n}({_shape_tuple(args)}, dtype={_dtype_of(a)})", effect="alloc")
_add("full", lambda ts, a: [I64] * (len(ts) - 1) + [a["dtype"]], lambda ts, a: Array(a["dtype"], len(ts) - 1),
     lambda args, a: f"np.full({_shape_tuple(args[:-1])}, {args[-1]}, dtype={_dtype_of(a)})", effect="alloc")
for _name in ("zeros_like", "ones_like", "empty_like"):
    _add(_name, _as_is, lambda ts, a: Array(a["dtype"], ts[0].ndim),
         lambda args, a, _n=_name: f"np.{_n}({args[0]}, dtype={_dtype_of(a)})", effect="alloc")
_add("copy", _as_is, _first, "{0}.copy()", effect="alloc")
_add("add_into", _as_is, lambda ts, a: None, "_rt.add_into({0}, {1})", effect="write")

# ---- loop bookkeeping used by reverse mode ------------------------------------------------------
_add("range_len", lambda ts, a: [I64] * 3, _i64, "_rt.range_len({0}, {1}, {2})")
_add("tape_grow", _as_is, _first, "_rt.tape_grow({0})", effect="alloc")
_add("tape_reserve", lambda ts, a: [ts[0], I64], _first, "_rt.tape_reserve({0}, {1})", effect="alloc")


def is_differentiable(prim):
    return PRIMITIVES[prim].partials is not None
