"""Re-create the user's function so that its ``math`` and ``numpy`` are the tape-aware ones.

The function object is rebuilt from its own code object with
``types.FunctionType(code, new_globals, name, defaults, closure)``.  ``new_globals`` is a
copy of the function's module globals in which the names the code refers to (found in
``co_names`` of the code and its nested code objects) are replaced when they are bound to
the ``math`` or ``numpy`` module (under any name), to a math/NumPy function adjit.tape
overrides (``from math import sin``), or to another plain Python function of user code
(re-created the same way, recursively, across modules).  Its ``__builtins__`` swaps
``float`` (which returns tape scalars unchanged instead of dropping their derivative), ``sum``
(vectorised on tape arrays) and ``__import__`` (an ``import numpy`` inside the function gets
the stand-in).  Everything is rebuilt on every call, so later changes to module globals are
seen; the cost is one dict copy per module involved.
"""

import builtins
import functools
import math
import os
import sys
import sysconfig
import types

import numpy

from .arrays import TapeArray, sum_
from .core import Var
from .numpy_api import LINALG, MATH, MATH_IMPL, NP, NP_IMPL, _norm

# -- what gets replaced --------------------------------------------------------------------

_REPL = {}             # id(real object) -> (real object, stand-in)


def _add(real, standin):
    if real is not standin:
        _REPL[id(real)] = (real, standin)


_add(math, MATH)
_add(numpy, NP)
_add(numpy.linalg, LINALG)
_add(numpy.linalg.norm, _norm)
for _name, _fn in MATH_IMPL.items():
    _real = getattr(math, _name, None)
    if _real is not None:
        _add(_real, _fn)
for _name, _fn in NP_IMPL.items():
    _real = getattr(numpy, _name, None)
    if _real is not None and callable(_real) and not isinstance(_real, type):
        _add(_real, _fn)


def replacement(obj):
    r = _REPL.get(id(obj))
    if r is not None and r[0] is obj:
        return r[1]
    return None


# -- builtins ------------------------------------------------------------------------------

class _FloatMeta(type):
    def __call__(cls, x=0.0):
        t = type(x)
        if t is Var:
            return x                                # keeps the derivative
        if t is TapeArray:
            if x.size != 1:
                raise TypeError('only length-1 arrays can be converted to Python scalars')
            return x.item()
        return builtins.float(x)

    def __instancecheck__(cls, obj):
        return isinstance(obj, (builtins.float, Var))

    def __subclasscheck__(cls, sub):
        return isinstance(sub, type) and issubclass(sub, (builtins.float, Var))


class float(builtins.float, metaclass=_FloatMeta):   # noqa: A001 - deliberately shadows
    """``float`` inside differentiated code: ``float(tape_scalar)`` is the tape scalar."""

    dtype = numpy.dtype(numpy.float64)              # so np.zeros(n, dtype=float) still works


def _sum(iterable, /, start=0):
    if type(iterable) is TapeArray:
        return start + sum_(iterable, axis=0)
    return builtins.sum(iterable, start)


_real_import = builtins.__import__


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    m = _real_import(name, globals, locals, fromlist, level)
    if level == 0:
        r = replacement(m)
        if r is not None:
            return r
    return m


TAPE_BUILTINS = dict(builtins.__dict__)
TAPE_BUILTINS.update(float=float, sum=_sum, __import__=_import)


# -- which functions are user code ---------------------------------------------------------

def _library_dirs():
    dirs = set()
    for key in ('stdlib', 'platstdlib', 'purelib', 'platlib'):
        p = sysconfig.get_paths().get(key)
        if p:
            dirs.add(os.path.realpath(p))
    return tuple(d + os.sep for d in sorted(dirs))


_LIB_DIRS = _library_dirs()
_ALWAYS_LIBRARY = {'numpy', 'scipy', 'numba', 'autograd', 'jax', 'torch', 'pytest', '_pytest',
                   'hypothesis', 'pluggy'}
_lib_cache = {}


def is_library(g):
    """Whether globals ``g`` belong to library code (left alone) rather than user code."""
    key = id(g)
    hit = _lib_cache.get(key)
    if hit is not None and hit[0] is g:
        return hit[1]
    name = g.get('__name__') or ''
    top = name.partition('.')[0]
    if top in _ALWAYS_LIBRARY or name == 'adjit.tape' or name.startswith('adjit.tape.'):
        lib = True
    elif top == 'adjit':
        lib = False                                 # adjit's own examples and benchmarks
    elif name in sys.builtin_module_names:
        lib = True
    else:
        f = g.get('__file__')
        lib = bool(f) and os.path.realpath(f).startswith(_LIB_DIRS)
    _lib_cache[key] = (g, lib)
    return lib


_names_cache = {}


def global_names(code):
    """Names the code (and nested code objects) may look up as globals or attributes."""
    r = _names_cache.get(code)
    if r is None:
        names = set(code.co_names)
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                names |= global_names(c)
        r = frozenset(names)
        if len(_names_cache) > 20000:
            _names_cache.clear()
        _names_cache[code] = r
    return r


# -- re-creation ---------------------------------------------------------------------------

def _is_user_function(v):
    return type(v) is types.FunctionType and not is_library(v.__globals__)


class Swapper:
    """One re-creation: a memo of new globals dicts and new functions (handles recursion)."""

    def __init__(self):
        self.globals = {}
        self.functions = {}

    def value(self, v):
        r = replacement(v)
        if r is not None:
            return r
        if _is_user_function(v):
            return self.function(v)
        return v

    def function(self, f):
        new = self.functions.get(id(f))
        if new is not None:
            return new
        g = f.__globals__
        ng = self.globals.get(id(g))
        if ng is None:
            ng = dict(g)
            ng['__builtins__'] = TAPE_BUILTINS
            self.globals[id(g)] = ng
        closure = f.__closure__
        later = []
        if closure:
            cells = []
            for c in closure:
                try:
                    content = c.cell_contents
                except ValueError:                  # an empty cell
                    cells.append(c)
                    continue
                r = replacement(content)
                if r is not None:
                    cells.append(types.CellType(r))
                elif _is_user_function(content):
                    nc = types.CellType()
                    cells.append(nc)
                    later.append((nc, content))
                else:
                    cells.append(c)
            closure = tuple(cells)
        defaults = f.__defaults__
        if defaults:
            defaults = tuple(replacement(d) or d for d in defaults)
        new = types.FunctionType(f.__code__, ng, f.__name__, defaults, closure)
        new.__kwdefaults__ = f.__kwdefaults__
        new.__qualname__ = f.__qualname__
        new.__module__ = f.__module__
        self.functions[id(f)] = new
        for nc, content in later:
            nc.cell_contents = self.function(content)
        for name in global_names(f.__code__):
            if name in g:
                v = g[name]
                nv = self.value(v)
                if nv is not v:
                    ng[name] = nv
        return new


def swap_callable(f):
    """The tape-aware version of the callable ``f`` (re-created if it is Python code)."""
    r = replacement(f)
    if r is not None:
        return r
    s = Swapper()
    if type(f) is types.FunctionType:
        return s.function(f)
    if type(f) is types.MethodType and type(f.__func__) is types.FunctionType:
        return types.MethodType(s.function(f.__func__), f.__self__)
    if isinstance(f, functools.partial):
        return functools.partial(swap_callable(f.func), *f.args, **f.keywords)
    return f
