"""The table of primitive operations.

One entry per primitive, and everything about a primitive sits in its entry:

* ``args``     the types its operands are converted to (the builder inserts the casts),
* ``result``   its result type (None for a pure effect such as a store),
* ``fmt``      the Python source it becomes in generated code,
* ``partials`` one local derivative per operand, as a function of the operands and the
  result (``o``); the reverse rule is ``adjoint(arg) += g * partial``.  ``None`` marks
  an operand with no derivative (integers, indices, non-smooth steps).  A primitive
  with ``partials=None`` has a zero derivative everywhere it is defined.
* ``effect``   "pure", "read" (loads), "write" (stores), "alloc" (creates an array) or
  "check" (raises a Python exception at run time; no result, never removed, no derivative).
* ``array_fmt``  for an elementwise primitive, the source it becomes when an operand is an
  array (``np.sin`` for ``math.sin``); such primitives broadcast as NumPy does, and their
  reverse rule sums the adjoint back to each operand's shape.
* ``vjp``      for a whole-array primitive (reductions, matmul, reshapes...), one rule per
  operand giving its adjoint contribution directly: ``lambda g, *operands, o: ...``.
* ``jvp``      for a whole-array primitive, its forward rule: ``jvp(tangents, operands, o,
  attrs)`` gives the result's tangent from the operands' tangents (None for a zero one).
  Elementwise primitives need none: their ``partials`` give both directions.
* ``aliases``  the result is a view that shares memory with operand 0 (a slice, ``.T``, a
  reshape); `adjit.ir.alias` builds the memory model from this flag alone.

Whole-array primitives live in `adjit.ir.array_primitives`, which adds its entries to
the same table.

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
    array_fmt: object = None  # elementwise primitives: the source when an operand is an array
    vjp: Optional[tuple] = None  # whole-array primitives: per operand, (g, *operands, o) -> contribution
    aliases: bool = False     # the result shares memory with operand 0 (a view)
    jvp: Optional[Callable] = None  # whole-array primitives: (tangents, operands, o, attrs) -> tangent

    def source(self, args, attrs, types=()):
        fmt = self.fmt
        if self.array_fmt is not None and any(is_array(t) for t in types):
            fmt = self.array_fmt
        if callable(fmt):
            return fmt(args, attrs)
        return fmt.format(*args, **attrs)

    @property
    def elementwise(self):
        return self.array_fmt is not None

    @property
    def rules(self):
        """Per operand: its derivative rule (a partial or a vjp), or None."""
        return self.partials if self.partials is not None else self.vjp


PRIMITIVES = {}


def register(name, args, result, fmt, partials=None, effect="pure", array_fmt=None, vjp=None, aliases=False,
             jvp=None):
    """Add primitive `name` to the table (see the module docstring for the fields)."""
    if array_fmt is not None:  # elementwise: the same rules lifted to arrays (broadcasting)
        args, result = _lift_args(args), _lift_result(args, result)
    PRIMITIVES[name] = Primitive(name, args, result, fmt, partials, effect, array_fmt, vjp, aliases, jvp)


_add = register


def _scalar_types(ts):
    return [t.dtype if is_array(t) else t for t in ts]


def _lift_args(rule):
    """Scalar operands are converted as the scalar rule says; arrays are used as they are
    (NumPy mixes int, bool and float arrays itself)."""
    def args(ts, attrs):
        wanted = rule(_scalar_types(ts), attrs)
        return [t if is_array(t) else w for t, w in zip(ts, wanted)]
    return args


def _lift_result(args_rule, rule):
    """With an array operand, the result is an array of the broadcast rank."""
    def result(ts, attrs):
        r = rule(args_rule(_scalar_types(ts), attrs), attrs)
        ndims = [t.ndim for t in ts if is_array(t)]
        return Array(r, max(ndims)) if ndims else r
    return result


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
_add("add", _promoted, _first, "{0} + {1}", (lambda x, y, o: 1, lambda x, y, o: 1), array_fmt="{0} + {1}")
_add("sub", _promoted, _first, "{0} - {1}", (lambda x, y, o: 1, lambda x, y, o: -1), array_fmt="{0} - {1}")
_add("mul", _promoted, _first, "{0} * {1}", (lambda x, y, o: y, lambda x, y, o: x), array_fmt="{0} * {1}")
_add("div", _floats, _f64, "{0} / {1}", (lambda x, y, o: 1 / y, lambda x, y, o: -o / y), array_fmt="{0} / {1}")
_add("floordiv", _promoted, _first, "{0} // {1}", array_fmt="{0} // {1}")
_add("mod", _promoted, _first, "{0} % {1}", (lambda x, y, o: 1, lambda x, y, o: -F.ffloor(x / y)), array_fmt="{0} % {1}")
def _constant(v):
    """The Python value of a Sym or Value that is a constant, else None."""
    v = getattr(v, "value", v)
    return v.const[0] if getattr(v, "const", None) is not None else None


def _pow_dbase_partial(x, y, o):
    """d(x**y)/dx.  For a constant exponent c, c * x**(c-1) directly (0 for c == 0): no helper
    call, no np.where on arrays, and the builder turns a small integer power into products."""
    c = _constant(y)
    if c is None or isinstance(c, bool):
        return F.pow_dbase(x, y)
    if c == 0:
        return 0.0
    if c == 1:
        return 1.0
    return (float(c) if isinstance(c, float) else c) * (x if c == 2 else F.pow(x, c - 1))


_add("pow", _pow_args, _first, "{0} ** {1}",
     (_pow_dbase_partial,
      lambda x, y, o: F.select(F.gt(x, 0.0), o * F.log(x), 0.0)), array_fmt="{0} ** {1}")
# d(x**y)/dx, 0 where y == 0
_add("pow_dbase", _pow_args, _f64, "_rt.pow_dbase({0}, {1})", array_fmt="_rt.pow_dbase_array({0}, {1})",
     partials=(lambda x, y, o: y * F.pow_dbase(x, y - 1.0),
               lambda x, y, o: F.select(F.gt(x, 0.0), F.pow(x, y - 1.0) * (1.0 + y * F.log(x)), 0.0)))
_add("neg", lambda ts, a: [promote(*ts)], _first, "-{0}", (lambda x, o: -1,), array_fmt="-{0}")
_add("abs", lambda ts, a: [promote(*ts)], _first, "abs({0})", (lambda x, o: F.sign(x),), array_fmt="np.abs({0})")
_add("max", _promoted, _first, "max({0}, {1})",
     (lambda x, y, o: F.f64(F.ge(x, y)), lambda x, y, o: F.f64(F.lt(x, y))), array_fmt="np.maximum({0}, {1})")
_add("min", _promoted, _first, "min({0}, {1})",
     (lambda x, y, o: F.f64(F.le(x, y)), lambda x, y, o: F.f64(F.gt(x, y))), array_fmt="np.minimum({0}, {1})")
_add("select", lambda ts, a: [BOOL] + [promote(*ts[1:])] * 2, lambda ts, a: ts[1],
     "{1} if {0} else {2}", (None, lambda c, x, y, o: F.f64(c), lambda c, x, y, o: F.f64(F.not_(c))),
     array_fmt="np.where({0}, {1}, {2})")

# ---- comparisons and logic ---------------------------------------------------------------
for _name, _op in [("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="), ("eq", "=="), ("ne", "!=")]:
    _add(_name, _promoted, _bool, "{0} %s {1}" % _op, array_fmt="{0} %s {1}" % _op)
_add("not_", lambda ts, a: [BOOL], _bool, "not {0}", array_fmt="np.logical_not({0})")
# and_/or_: only on already-computed bools
_add("and_", lambda ts, a: [BOOL, BOOL], _bool, "{0} and {1}", array_fmt="np.logical_and({0}, {1})")
_add("or_", lambda ts, a: [BOOL, BOOL], _bool, "{0} or {1}", array_fmt="np.logical_or({0}, {1})")

# ---- casts ---------------------------------------------------------------------------------
# Numba has no float(bool): a bool operand goes through int first
_add("f64", lambda ts, a: [I64 if ts[0] == BOOL else ts[0]], _f64, "float({0})", (lambda x, o: 1,),
     array_fmt="{0}.astype(np.float64)")
_add("i64", _as_is, _i64, "int({0})", array_fmt="{0}.astype(np.int64)")
_add("truth", _as_is, _bool, "{0} != 0", array_fmt="{0} != 0")

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
# the NumPy ufunc of each, for arrays (erf and erfc have none: refused on arrays)
_NUMPY_UFUNC = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh", "acosh": "arccosh",
                "atanh": "arctanh", "ffloor": "floor", "fceil": "ceil", "erf": None, "erfc": None}
for _name, (_fn, _d) in _UNARY.items():
    _ufunc = _NUMPY_UFUNC.get(_name, _name)
    _add(_name, _floats, _f64, _fn + "({0})", None if _d is None else (_d,),
         array_fmt=None if _ufunc is None else "np.%s({0})" % _ufunc)
# Python's math.floor returns an int
_add("floor", _floats, _i64, "math.floor({0})", array_fmt="np.floor({0}).astype(np.int64)")
_add("ceil", _floats, _i64, "math.ceil({0})", array_fmt="np.ceil({0}).astype(np.int64)")
for _name in ("isnan", "isinf", "isfinite"):
    _add(_name, _floats, _bool, "math.%s({0})" % _name, array_fmt="np.%s({0})" % _name)

_add("atan2", _floats, _f64, "math.atan2({0}, {1})",
     (lambda y, x, o: x / (x * x + y * y), lambda y, x, o: -y / (x * x + y * y)), array_fmt="np.arctan2({0}, {1})")
_add("hypot", _floats, _f64, "math.hypot({0}, {1})",
     (lambda x, y, o: F.select(F.gt(o, 0.0), x / o, 0.0),
      lambda x, y, o: F.select(F.gt(o, 0.0), y / o, 0.0)), array_fmt="np.hypot({0}, {1})")
_add("copysign", _floats, _f64, "math.copysign({0}, {1})",
     (lambda x, y, o: F.sign(x) * F.copysign(1.0, y), None), array_fmt="np.copysign({0}, {1})")
# NumPy-only elementwise functions (issue 14); np.* of a number compiles in Numba too
_LN2 = math.log(2.0)
_add("exp2", _floats, _f64, "np.exp2({0})", (lambda x, o: o * _LN2,), array_fmt="np.exp2({0})")
# log(e^x + e^y), computed stably by NumPy; the partials e^(x-o), e^(y-o) never overflow
_add("logaddexp", _floats, _f64, "np.logaddexp({0}, {1})",
     (lambda x, y, o: F.exp(x - o), lambda x, y, o: F.exp(y - o)), array_fmt="np.logaddexp({0}, {1})")
_add("logaddexp2", _floats, _f64, "np.logaddexp2({0}, {1})",
     (lambda x, y, o: F.exp2(x - o), lambda x, y, o: F.exp2(y - o)), array_fmt="np.logaddexp2({0}, {1})")
# fmax/fmin ignore a NaN operand (NumPy): the gradient goes to the selected operand, ties to the first
_add("fmax", _floats, _f64, "np.fmax({0}, {1})",
     (lambda x, y, o: F.f64(F.or_(F.ge(x, y), F.isnan(y))),
      lambda x, y, o: F.f64(F.not_(F.or_(F.ge(x, y), F.isnan(y))))), array_fmt="np.fmax({0}, {1})")
_add("fmin", _floats, _f64, "np.fmin({0}, {1})",
     (lambda x, y, o: F.f64(F.or_(F.le(x, y), F.isnan(y))),
      lambda x, y, o: F.f64(F.not_(F.or_(F.le(x, y), F.isnan(y))))), array_fmt="np.fmin({0}, {1})")
# sinc(x) = sin(pi x) / (pi x); sinc'(x) = (cos(pi x) - sinc(x)) / x, and sinc'(0) = 0
_add("sinc", _floats, _f64, "np.sinc({0})",
     (lambda x, o: F.select(F.eq(x, 0.0), 0.0, (F.cos(math.pi * x) - o) / F.select(F.eq(x, 0.0), 1.0, x)),),
     array_fmt="np.sinc({0})")


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
     lambda args, a: f"np.full({_shape_tuple(args[:-1])}, {args[-1]}, dtype={_dtype_of(a)})", effect="alloc",
     # np.full(n, v) with a varied v: every element is v (without these rules, a zero derivative)
     vjp=lambda g, args, o, attrs: [None] * (len(args) - 1) + [F.sum(g, axis=None)],
     jvp=lambda ts, args, o, attrs: None if ts[-1] is None else F.full(*args[:-1], ts[-1], dtype=F64))
for _name in ("zeros_like", "ones_like", "empty_like"):
    _add(_name, _as_is, lambda ts, a: Array(a["dtype"], ts[0].ndim),
         lambda args, a, _n=_name: f"np.{_n}({args[0]}, dtype={_dtype_of(a)})", effect="alloc")
_add("copy", _as_is, _first, "{0}.copy()", effect="alloc")

# A run-time check: `assert` and Python's own refusals (range() of a float).  Its exception
# class is a builtin one, named in the generated source, so Numba can raise it as Python does.
_add("check", lambda ts, a: [BOOL], lambda ts, a: None,
     lambda args, a: f"if not {args[0]}: raise {a['exception']}({'' if a['message'] is None else repr(a['message'])})",
     effect="check")

# ---- loop bookkeeping used by reverse mode ------------------------------------------------------
_add("range_len", lambda ts, a: [I64] * 3, _i64, "_rt.range_len({0}, {1}, {2})")
_add("tape_grow", _as_is, _first, "_rt.tape_grow({0})", effect="alloc")
_add("tape_reserve", lambda ts, a: [ts[0], I64], _first, "_rt.tape_reserve({0}, {1})", effect="alloc")


# Transcendental primitives: inside loops, reverse mode saves their results on a tape
# rather than computing them again in the reverse sweep (a tape load costs less).
EXPENSIVE = frozenset(_UNARY) - {"square", "sign", "fabs", "degrees", "radians", "ffloor", "fceil"} \
    | {"pow", "pow_dbase", "atan2", "hypot", "exp2", "logaddexp", "logaddexp2", "sinc"}


def reads_memory(prim):
    """Does the op read array memory that a store may change (a load, a view)?"""
    return prim in PRIMITIVES and PRIMITIVES[prim].effect == "read"


def writes_memory(prim):
    """Does the op write into its first operand (an array)?"""
    return prim in PRIMITIVES and PRIMITIVES[prim].effect == "write"


def makes_view(prim):
    """Does the op's result share memory with its first operand?"""
    return prim in PRIMITIVES and PRIMITIVES[prim].aliases


def is_differentiable(prim):
    return PRIMITIVES[prim].rules is not None


from . import array_primitives  # noqa: E402,F401  (adds the whole-array entries to the table)
from . import creation_primitives  # noqa: E402,F401  (arange, eye, frozen module-level arrays)
from . import custom_primitives  # noqa: E402,F401  (user-defined derivative rules)
from . import numpy_primitives  # noqa: E402,F401  (gathers, scans, sorting, permutations, linalg: issue 14)
