"""The tape-aware stand-ins for the ``numpy`` and ``math`` modules.

``NP`` is a module object: every function adjit.tape knows is overridden (scalar fast path
for tape scalars, vectorised rule for tape arrays, real NumPy for plain inputs); every other
attribute is the real NumPy one, guarded so that a tape value reaching it raises AdjitError
instead of losing its derivative.  ``MATH`` is the same for :mod:`math`.
"""

import builtins
import math
import operator
import types

import numpy as np

from ..errors import AdjitError, AdjitTypeError
from . import arrays, core, rules
from .arrays import TapeArray, has_tape, values
from .core import Var

_NUM = (np.floating, np.integer, np.bool_)


def _unsupported(module, name):
    return AdjitError(f'{module}.{name} is not supported on tape values by adjit.tape',
                      hint='adjit.tape differentiates the functions listed in '
                           'adjit/tape/numpy_api.py; rewrite this step with those')


class _Guarded:
    """A real NumPy/math callable that refuses tape values (their derivative would be lost)."""

    __slots__ = ('_f', '_module', '_name')

    def __init__(self, f, module, name):
        self._f = f
        self._module = module
        self._name = name

    def __call__(self, *args, **kwargs):
        if has_tape(args) or has_tape(tuple(kwargs.values())):
            if not (arrays.derivative_free(args) and
                    arrays.derivative_free(tuple(kwargs.values()))):
                raise _unsupported(self._module, self._name)
            return arrays.call_on_values(self._f, args, kwargs)     # constant tape arrays
        return self._f(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __repr__(self):
        return f'<adjit.tape guard of {self._f!r}>'


def _guard(obj, module, name):
    if callable(obj) and not isinstance(obj, (type, types.ModuleType)):
        return _Guarded(obj, module, name)
    return obj


# -- NumPy ---------------------------------------------------------------------------------

NP_IMPL = {}           # NumPy name -> stand-in function


def _register(name, fn):
    NP_IMPL[name] = fn


def _py_pow(a, b):
    y = a ** b
    if type(y) is complex:
        raise ValueError('complex result')
    return y


def _py_logaddexp(a, b):
    return float(np.logaddexp(a, b))


_PY_BINARY = {
    'add': operator.add, 'subtract': operator.sub, 'multiply': operator.mul,
    'divide': operator.truediv, 'power': _py_pow, 'mod': operator.mod,
    'logaddexp': _py_logaddexp, 'logaddexp2': lambda a, b: float(np.logaddexp2(a, b)),
}
_PY_UNARY = {
    'square': lambda v: v * v, 'reciprocal': lambda v: 1.0 / v, 'negative': operator.neg,
    'fabs': math.fabs, 'sinc': lambda v: float(np.sinc(v)),
}


def _np_unary(name, mname, expr):
    real = getattr(np, name)
    vec = arrays.vec_unary(real, expr)

    def other(x):
        if type(x) is TapeArray or has_tape(x):
            return vec(x)
        return real(x)
    f = getattr(math, mname) if mname else _PY_UNARY[name]
    return core.make_unary(name, expr, f, other, fnp=real)


def _np_binary(name, mname, e1, e2):
    real = getattr(np, name)
    vec = arrays.vec_binary(real, e1, e2)
    if name in ('add', 'subtract'):
        vec = arrays.shifted(real, vec, commutative=name == 'add')
    fast = None

    def other(a, b):
        ta, tb = type(a) is Var, type(b) is Var
        if (ta or tb) and (ta or isinstance(a, (int, float, *_NUM))) and \
                (tb or isinstance(b, (int, float, *_NUM))):
            return fast(a if ta else float(a), b if tb else float(b))
        if ta or tb or has_tape(a) or has_tape(b):
            return vec(a, b)
        return real(a, b)
    f = getattr(math, mname) if mname else _PY_BINARY[name]
    fast = core.make_binary(name, e1, e2, f, other, fnp=real)
    return fast


for _name, (_m, _e) in rules.UNARY.items():
    if _name not in rules.MATH_ONLY:
        _register(_name, _np_unary(_name, _m, _e))
for _name, (_m, _e1, _e2) in rules.BINARY.items():
    if _name not in rules.MATH_ONLY:
        _register(_name, _np_binary(_name, _m, _e1, _e2))


def _with_out(name, fast, real):
    """The module-level stand-in of a ufunc: ``out=`` writes the result in place (into a tape
    array: views and other names see it, as in NumPy); the plain call stays ``fast``."""
    def fn(*args, out=None, **kw):
        if out is None and not kw:
            return fast(*args)
        if not (has_tape(args) or has_tape(out)):
            return real(*args, out=out, **kw)
        if kw:
            raise _unsupported('numpy', f'{name} with {", ".join(sorted(kw))}=')
        if type(out) is tuple:
            if len(out) != 1:
                raise _unsupported('numpy', f'{name} with several out= arrays')
            out = out[0]
        r = fast(*args)
        if type(out) is TapeArray:
            return arrays._inplace(out, r)
        if isinstance(out, np.ndarray):
            if not arrays.derivative_free(r):
                raise AdjitError(
                    f'numpy.{name} would write tape values (which carry derivatives) into a '
                    'plain NumPy array in place, dropping their derivatives',
                    hint='create the array inside the differentiated function (np.zeros, '
                         'np.array, ...)')
            out[...] = values(r)
            return out
        raise AdjitError(f'numpy.{name}: out={type(out).__name__} is not supported by '
                         'adjit.tape')
    return _named(fn, name)


def _named(fn, name):
    fn.__name__ = fn.__qualname__ = name
    return fn


_OUT = {name: _with_out(name, fn, getattr(np, name)) for name, fn in NP_IMPL.items()
        if isinstance(getattr(np, name, None), np.ufunc)}


def _np_select(name, vec, pick_first):
    real = getattr(np, name)

    def fn(a, b, out=None, **kw):
        ta, tb = type(a) is Var, type(b) is Var
        if out is None and not kw:
            if (ta or type(a) is float or type(a) is int) and \
                    (tb or type(b) is float or type(b) is int) and (ta or tb):
                x1 = a.v if ta else a
                x2 = b.v if tb else b
                if pick_first(x1, x2):
                    return a if ta else float(a)
                return b if tb else float(b)
            if ta or tb or has_tape(a) or has_tape(b):
                return vec(a, b)
        elif ta or tb or has_tape(a) or has_tape(b):
            raise _unsupported('numpy', name + ' with out= or extra arguments')
        return real(a, b, out=out, **kw)
    return fn


_register('maximum', _np_select('maximum', arrays.maximum, lambda a, b: a >= b or a != a))
_register('minimum', _np_select('minimum', arrays.minimum, lambda a, b: a <= b or a != a))
_register('fmax', _np_select('fmax', arrays.fmax, lambda a, b: a >= b or b != b))
_register('fmin', _np_select('fmin', arrays.fmin, lambda a, b: a <= b or b != b))


def _zero_derivative(name):
    real = getattr(np, name)

    def fn(*args, **kw):
        if any(has_tape(a) for a in args):
            r = real(*[values(a) for a in args], **kw)
            return float(r) if np.ndim(r) == 0 else arrays.const(r)
        return real(*args, **kw)
    return fn


for _name in rules.ZERO_DERIVATIVE + ('round', 'around'):
    _register(_name, _zero_derivative(_name))


def _values_only(name):
    real = getattr(np, name)

    def fn(*args, **kw):
        return real(*[values(a) for a in args], **{k: values(v) for k, v in kw.items()})
    return fn


_VALUE_ONLY = (
    'isnan', 'isfinite', 'isinf', 'signbit', 'isclose', 'allclose', 'array_equal',
    'array_equiv', 'argmax', 'argmin', 'argsort', 'nonzero', 'flatnonzero', 'argwhere',
    'count_nonzero', 'any', 'all', 'searchsorted', 'greater', 'less', 'equal', 'not_equal',
    'greater_equal', 'less_equal', 'logical_and', 'logical_or', 'logical_not', 'logical_xor',
    'shape', 'ndim', 'size', 'isscalar', 'digitize',
)
for _name in _VALUE_ONLY:
    _register(_name, _values_only(_name))

_STRUCTURAL = {
    'reshape': (0,), 'ravel': (0,), 'transpose': (0,), 'swapaxes': (0,), 'moveaxis': (0,), 'rollaxis': (0,),
    'expand_dims': (0,), 'squeeze': (0,), 'flip': (0,), 'fliplr': (0,), 'flipud': (0,),
    'rot90': (0,), 'roll': (0,), 'repeat': (0,), 'tile': (0,), 'broadcast_to': (0,),
    'diag': (0,), 'diagonal': (0,), 'triu': (0,), 'tril': (0,), 'take': (0,),
    'take_along_axis': (0,), 'delete': (0,), 'split': (0,), 'array_split': (0,),
    'hsplit': (0,), 'vsplit': (0,), 'append': (0, 1),
    'atleast_1d': tuple(range(32)), 'atleast_2d': tuple(range(32)),
    'atleast_3d': tuple(range(32)),
}
for _name, _data in _STRUCTURAL.items():
    _register(_name, arrays.structural(getattr(np, _name), _data))
for _name in ('concatenate', 'stack', 'hstack', 'vstack', 'column_stack', 'dstack'):
    _register(_name, arrays.structural(getattr(np, _name), (0,), seq=True))


def _reduction(name, impl):
    real = getattr(np, name)

    def fn(a, *args, **kw):
        if type(a) is TapeArray or has_tape(a):
            return impl(a, *args, **kw)
        return real(a, *args, **kw)
    return fn


for _name, _impl in [('sum', arrays.sum_), ('mean', arrays.mean), ('prod', arrays.prod),
                     ('max', arrays.amax), ('min', arrays.amin), ('amax', arrays.amax),
                     ('amin', arrays.amin), ('cumsum', arrays.cumsum), ('var', arrays.var),
                     ('std', arrays.std), ('average', arrays.average), ('trace', arrays.trace),
                     ('sort', arrays.sort), ('clip', arrays.clip)]:
    _register(_name, _reduction(_name, _impl))


def _two_arg(name, impl):
    real = getattr(np, name)

    def fn(a, b, *args, **kw):
        if has_tape(a) or has_tape(b):
            return impl(a, b, *args, **kw)
        return real(a, b, *args, **kw)
    return fn


for _name, _impl in [('dot', arrays.dot), ('matmul', arrays.matmul), ('vdot', arrays.vdot),
                     ('inner', arrays.inner), ('outer', arrays.outer)]:
    _register(_name, _two_arg(_name, _impl))


def _where(cond, *xy):
    if not xy:
        return np.where(values(cond))
    if has_tape(xy[0]) or has_tape(xy[1]):
        return arrays.where(cond, *xy)
    return np.where(values(cond), *xy)


def _copy(a, order='K', subok=False):
    if has_tape(a):
        return arrays.copy(a)
    return arrays.wrap_float(np.copy(a, order=order))


def _eye(N, M=None, k=0, dtype=float, order='C', **kw):
    return arrays.wrap_float(np.eye(N, M, k, dtype=dtype, order=order, **kw))


def _identity(n, dtype=None, **kw):
    return arrays.wrap_float(np.identity(n, dtype=dtype, **kw))


def _arange(*args, **kw):
    if any(has_tape(a) for a in args) or any(has_tape(a) for a in kw.values()):
        raise _unsupported('numpy', 'arange')
    return arrays.wrap_float(np.arange(*args, **kw))


for _name, _fn in [('where', _where), ('copy', _copy), ('eye', _eye), ('identity', _identity),
                   ('arange', _arange), ('array', arrays.array), ('asarray', arrays.asarray),
                   ('asanyarray', arrays.asarray), ('ascontiguousarray', arrays.asarray),
                   ('zeros', arrays.zeros), ('ones', arrays.ones), ('empty', arrays.empty),
                   ('full', arrays.full), ('zeros_like', arrays.zeros_like),
                   ('ones_like', arrays.ones_like), ('empty_like', arrays.empty_like),
                   ('full_like', arrays.full_like), ('linspace', arrays.linspace)]:
    _register(_name, _fn)

for _alias, _target in rules.ALIASES.items():
    if hasattr(np, _alias):
        NP_IMPL[_alias] = NP_IMPL[_target]


def _norm(x, ord=None, axis=None, keepdims=False):
    if has_tape(x):
        return arrays.norm(x, ord, axis, keepdims)
    return np.linalg.norm(x, ord, axis, keepdims)


def _module_getattr(real, modname, cache):
    def __getattr__(name):
        try:
            obj = getattr(real, name)
        except AttributeError:
            raise AttributeError(f"module '{modname}' has no attribute '{name}'") from None
        obj = _guard(obj, modname, name)
        cache[name] = obj
        return obj
    return __getattr__


LINALG = types.ModuleType('adjit.tape.numpy.linalg')
LINALG.__dict__['norm'] = _norm
LINALG.__dict__['__getattr__'] = _module_getattr(np.linalg, 'numpy.linalg', LINALG.__dict__)

NP = types.ModuleType('adjit.tape.numpy', 'NumPy with adjit.tape rules (attributes fall back '
                      'to real NumPy).')
NP.__dict__.update(NP_IMPL)
NP.__dict__.update(_OUT)
NP.__dict__['linalg'] = LINALG
NP.__dict__['ndarray'] = None                       # set below
NP.__dict__['__getattr__'] = _module_getattr(np, 'numpy', NP.__dict__)


class _NdarrayMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, (np.ndarray, TapeArray))

    def __subclasscheck__(cls, sub):
        return issubclass(sub, (np.ndarray, TapeArray))

    def __call__(cls, *args, **kwargs):
        return np.ndarray(*args, **kwargs)

    def __getattr__(cls, name):
        return getattr(np.ndarray, name)


class ndarray(metaclass=_NdarrayMeta):
    """Stand-in for np.ndarray: isinstance(x, np.ndarray) is true for tape arrays too."""


NP.__dict__['ndarray'] = ndarray

# Real NumPy functions and ufuncs applied to tape arrays are routed here by the protocols.
for _name, _fn in NP_IMPL.items():
    _real = getattr(np, _name, None)
    if isinstance(_real, np.ufunc):
        arrays.UFUNC_IMPL[_real.__name__] = _fn
    elif _real is not None:
        arrays.FUNC_IMPL[_real] = _fn
    arrays.FUNC_BY_NAME[_name] = _fn
arrays.FUNC_IMPL[np.linalg.norm] = _norm
# What the array operators use (same functions; the vector rules handle every operand mix).
for _name in ('add', 'subtract', 'multiply', 'divide', 'power', 'mod', 'floor_divide',
              'negative', 'absolute', 'sqrt'):
    arrays.UFUNC_IMPL[_name] = NP_IMPL[_name]
core._array_binary = lambda name, a, b: NP_IMPL[name](a, b)


# -- math ----------------------------------------------------------------------------------

def _math_other(mname):
    real = getattr(math, mname)

    def other(*args):
        for a in args:
            if type(a) is TapeArray or has_tape(a):
                raise AdjitTypeError(f'math.{mname} takes scalars, not arrays',
                                     hint='use the NumPy function on arrays')
        return real(*args)
    return other


MATH_IMPL = {}

for _name, (_m, _e) in rules.UNARY.items():
    if _m and _m not in MATH_IMPL:
        MATH_IMPL[_m] = core.make_unary(_m, _e, getattr(math, _m), _math_other(_m))
def _math_binary(mname, e1, e2):
    real = getattr(math, mname)
    fast = None

    def other(a, b):
        ta, tb = type(a) is Var, type(b) is Var
        if not (ta or isinstance(a, (int, float, *_NUM))) or \
                not (tb or isinstance(b, (int, float, *_NUM))):
            if has_tape(a) or has_tape(b):
                raise AdjitTypeError(f'math.{mname} takes scalars, not arrays',
                                     hint='use the NumPy function on arrays')
            return real(a, b)
        if ta or tb:
            return fast(a if ta else float(a), b if tb else float(b))
        return real(a, b)
    fast = core.make_binary(mname, e1, e2, real, other)
    return fast


for _name, (_m, _e1, _e2) in rules.BINARY.items():
    if _m:
        MATH_IMPL[_m] = _math_binary(_m, _e1, _e2)

_fast_hypot2 = MATH_IMPL['hypot']
_math_log1 = MATH_IMPL['log']


def _m_log(x, base=None):
    if base is None:
        return _math_log1(x)
    if type(x) is Var or type(base) is Var:
        return _math_log1(x) / _math_log1(base)
    return math.log(x, values(base))


def _m_hypot(*coords):
    if len(coords) == 2:
        return _fast_hypot2(*coords)
    if not any(type(c) is Var for c in coords):
        return math.hypot(*coords)
    s = builtins.sum(c * c for c in coords)
    return s ** 0.5 if s else 0.0


def _m_values(name):
    real = getattr(math, name)

    def fn(*args, **kw):
        return real(*[values(a) for a in args], **{k: values(v) for k, v in kw.items()})
    return fn


def _m_fsum(it):
    it = list(it)
    if any(type(v) is Var for v in it):
        return builtins.sum(it, 0.0)
    return math.fsum(it)


def _m_dist(p, q):
    return _m_hypot(*[a - b for a, b in zip(p, q)])


def _m_ldexp(x, i):
    return x * 2.0 ** i if type(x) is Var else math.ldexp(x, i)


def _m_modf(x):
    if type(x) is Var:
        t = float(math.trunc(x.v))
        return x - t, t
    return math.modf(x)


MATH_IMPL.update(log=_m_log, hypot=_m_hypot, fsum=_m_fsum, dist=_m_dist, ldexp=_m_ldexp,
                 modf=_m_modf)
for _name in ('isfinite', 'isnan', 'isinf', 'isclose'):
    MATH_IMPL[_name] = _m_values(_name)
for _name in ('floor', 'ceil', 'trunc', 'prod'):     # work on tape scalars via __floor__ & co
    MATH_IMPL[_name] = getattr(math, _name)

MATH = types.ModuleType('adjit.tape.math', 'math with adjit.tape rules.')
for _name in dir(math):
    if not _name.startswith('_'):
        MATH.__dict__[_name] = MATH_IMPL.get(_name) or _guard(getattr(math, _name), 'math', _name)


# -- issue 14, items 7-10: rules that are not structural (adjit/tape/numpy_more.py) ----------
from . import numpy_more as _more  # noqa: E402

for _name, _fn in _more.FUNCTIONS.items():
    NP.__dict__[_name] = _fn
    arrays.FUNC_IMPL[getattr(np, _name)] = _fn
    arrays.FUNC_BY_NAME[_name] = _fn
for _name, _fn in _more.LINALG.items():
    LINALG.__dict__[_name] = _fn
    arrays.FUNC_IMPL[getattr(np.linalg, _name)] = _fn
# ufunc methods the stand-ins carry: np.maximum.accumulate (a running max) and its kin
NP.__dict__['maximum'].accumulate = _more.running('maximum')
NP.__dict__['minimum'].accumulate = _more.running('minimum')
NP.__dict__['add'].accumulate = lambda a, axis=0, dtype=None, out=None: NP.__dict__['cumsum'](a, axis=axis)
NP.__dict__['multiply'].accumulate = lambda a, axis=0, dtype=None, out=None: NP.__dict__['cumprod'](a, axis=axis)
