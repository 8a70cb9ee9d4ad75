"""The public API: jit, grad, value_and_grad, show, show_ir, check_grad.

Each decorated function keeps one compiled specialisation per argument-type signature,
in memory; the generated modules are cached on disk by Numba (see codegen/compile.py).
"""
import functools
import threading

import numpy as np

from .ad import reverse
from .codegen import function_source, llvm_opt_level, load_module, module_text
from .errors import AdjitError, GradientError
from .frontend import translate
from .ir import format_function, verify
from .ir.types import F64, is_array
from .passes import dce, simplify
from .signature import bind, type_of


class _Specialisation:
    """One compiled function for one signature: its IR, its source and the callable."""

    def __init__(self, ir, source, compiled):
        self.ir, self.source, self.compiled = ir, source, compiled


class _Compiled:
    """Shared machinery of jit and grad: signature dispatch, compile, cache."""
    _lock = threading.RLock()

    def __init__(self, func):
        if isinstance(func, _Compiled):
            func = func.py_func
        if not callable(func):
            raise AdjitError(f"adjit needs a Python function, got {type(func).__name__}")
        self.py_func = func
        self.specialisations = {}
        self.last = None
        self._param_names = None  # known after the first call that passes every argument by position
        functools.update_wrapper(self, func)

    def _types(self, args, kwargs):
        if not kwargs and self._param_names is not None and len(args) == len(self._param_names):
            names, values = self._param_names, list(args)  # the fast path: no re-binding per call
        else:
            names, values = bind(self.py_func, args, kwargs)
            if not kwargs and len(args) == len(names):
                self._param_names = names
        types = tuple(type_of(v, n, self.py_func.__name__) for n, v in zip(names, values))
        return names, values, types

    def _specialise(self, types):
        spec = self.specialisations.get(types)
        if spec is None:
            with self._lock:
                spec = self.specialisations.get(types)
                if spec is None:
                    ir = self._build_ir(types)
                    source = function_source(ir, self._generated_name())
                    module = load_module(module_text([source], f"{self.py_func.__module__}.{self.py_func.__qualname__}"))
                    spec = _Specialisation(ir, source, getattr(module, self._generated_name()))
                    self.specialisations[types] = spec
        self.last = spec
        return spec

    def _generated_name(self):
        return self.py_func.__name__

    def _run(self, spec, values):
        try:
            if getattr(spec.compiled, "signatures", True):  # compiled already (or NUMBA_DISABLE_JIT)
                return spec.compiled(*values)
            with self._lock, llvm_opt_level():  # the first call compiles
                return spec.compiled(*values)
        except AdjitError:
            raise
        except Exception as e:  # numba typing errors would be adjit bugs: say so clearly
            import numba
            if isinstance(e, numba.core.errors.NumbaError):
                raise AdjitError(f"adjit generated code that Numba could not compile for {self.py_func.__name__}() "
                                 f"(this is a bug in adjit; please report it with the function):\n{e}") from None
            raise

    @property
    def source(self):
        """The generated Python source of the most recently used specialisation."""
        if self.last is None:
            raise AdjitError(f"{self.py_func.__name__} has not been called yet, so nothing has been generated; "
                             "call it once (or use adjit.show(f, *args))")
        return self.last.source


class Jit(_Compiled):
    """``adjit.jit(f)``: f compiled through adjit's pipeline; returns what f returns."""

    def _build_ir(self, types):
        ir = dce(translate(self.py_func, list(types)))
        verify(ir)
        return ir

    def __call__(self, *args, **kwargs):
        _, values, types = self._types(args, kwargs)
        spec = self._specialise(types)
        return self._run(spec, values)


class Grad(_Compiled):
    """``adjit.grad(f)`` / ``adjit.value_and_grad(f)``."""

    def __init__(self, func, argnums=0, with_value=False):
        super().__init__(func)
        self.argnums = argnums
        self.with_value = with_value

    def _generated_name(self):
        return self.py_func.__name__ + "_grad"

    def _wrt(self, names, types):
        nums = self.argnums if isinstance(self.argnums, tuple) else (self.argnums,)
        out = []
        for k in nums:
            if not isinstance(k, int) or isinstance(k, bool):
                raise GradientError(f"argnums must be an int or a tuple of ints, got {k!r}")
            if not -len(types) <= k < len(types):
                raise GradientError(f"argnums={k} is out of range: {self.py_func.__name__}() has {len(types)} argument(s)")
            k %= len(types)
            t = types[k]
            if not (t == F64 or (is_array(t) and t.dtype == F64)):
                raise GradientError(
                    f"cannot differentiate with respect to argument {names[k]!r} of {self.py_func.__name__}(): "
                    f"it is {_describe(t)}, and only floats and float64 arrays have derivatives",
                    hint="pass it as a float (e.g. 3.0 rather than 3) or choose another argnums")
            out.append(k)
        if len(set(out)) != len(out):
            raise GradientError(f"argnums {self.argnums} names an argument twice")
        return tuple(out)

    def _build_ir(self, key):
        types, wrt = key[:-1], key[-1]
        fn = dce(translate(self.py_func, list(types)))
        verify(fn)
        if fn.returns_tuple or len(fn.body.yields) != 1 or fn.body.yields[0].type != F64:
            got = "nothing" if not fn.body.yields else (
                "a tuple" if fn.returns_tuple else f"a {fn.body.yields[0].type}")
            line = fn.return_lines[0] if fn.return_lines else None
            import linecache
            raise GradientError(f"{self.py_func.__name__}() must return a float to be differentiated; it returns {got}",
                                filename=fn.filename, lineno=line,
                                source_line=linecache.getline(fn.filename, line) if line else None,
                                hint="return a scalar loss, e.g. np.sum(...) of an array")
        g = reverse(fn, wrt)
        g = dce(simplify(g))
        verify(g)
        return g

    def __call__(self, *args, **kwargs):
        names, values, types = self._types(args, kwargs)
        wrt = self._wrt(names, types)
        spec = self._specialise(types + (wrt,))
        out = self._run(spec, values)
        value, grads = float(out[0]), [float(g) if np.ndim(g) == 0 else g for g in out[1:]]
        grad = tuple(grads) if isinstance(self.argnums, tuple) else grads[0]
        return (value, grad) if self.with_value else grad


def _describe(t):
    if is_array(t):
        return f"a {t.ndim}-D {t.dtype} array"
    return {"i64": "an int", "bool": "a bool", "f64": "a float"}[t.name]


def jit(func=None):
    """Compile `func` with adjit (decorator or call). The result returns what `func` returns."""
    if func is None:
        return jit
    return Jit(func)


def _grad_decorator(func, argnums, with_value):
    if func is None:
        return lambda f: Grad(f, argnums, with_value)
    if isinstance(func, int) or isinstance(func, tuple):
        raise GradientError("pass argnums by keyword: adjit.grad(f, argnums=...) or @adjit.grad(argnums=...)")
    return Grad(func, argnums, with_value)


def grad(func=None, argnums=0):
    """The gradient of scalar function `func` with respect to argument(s) `argnums`.

    ``adjit.grad(f)(x, ...)`` returns df/dx with the shape of x (a float for a float,
    an array for an array); with a tuple `argnums`, a tuple of gradients.
    Usable as ``@adjit.grad`` and ``@adjit.grad(argnums=(0, 2))``.
    """
    return _grad_decorator(func, argnums, False)


def value_and_grad(func=None, argnums=0):
    """Like `grad`, but returns ``(f(*args), gradient)``."""
    return _grad_decorator(func, argnums, True)


def show(f, *args, file=None):
    """Print the generated code of an adjit function (compiling it for `args` if given)."""
    if not isinstance(f, _Compiled):
        raise AdjitError("adjit.show needs a function made by adjit.jit, adjit.grad or adjit.value_and_grad")
    if args:
        f._specialise(_key(f, args))
    text = f.source
    print(text, file=file)
    return text


def _key(f, args):
    names, _, types = f._types(args, {})
    return types + (f._wrt(names, types),) if isinstance(f, Grad) else types


def show_ir(f, *args, file=None):
    """Print the IR of `f` (a plain function or an adjit one) for the types of `args`."""
    if isinstance(f, _Compiled):
        text = format_function(f._specialise(_key(f, args)).ir)
    else:
        j = Jit(f)
        text = format_function(j._build_ir(j._types(args, {})[2]))
    print(text, file=file)
    return text


class GradCheck:
    """The result of `check_grad`: the largest relative error per differentiated argument."""

    def __init__(self, names, errors, tolerance):
        self.names, self.errors, self.tolerance = names, errors, tolerance

    @property
    def ok(self):
        return all(e <= self.tolerance for e in self.errors)

    @property
    def max_error(self):
        return max(self.errors) if self.errors else 0.0

    def __repr__(self):
        rows = ", ".join(f"{n}: {e:.2e}" for n, e in zip(self.names, self.errors))
        return f"GradCheck({'ok' if self.ok else 'FAILED'}; max relative error {rows}; tolerance {self.tolerance:g})"


def check_grad(f, *args, argnums=0, eps=1e-6, tolerance=1e-5):
    """Compare adjit's gradient of `f` with central finite differences (the gradient check).

    Returns a `GradCheck` whose ``errors`` are the largest relative error
    ``|g - g_fd| / max(1, |g| + |g_fd|)`` per differentiated argument.
    """
    func = f.py_func if isinstance(f, _Compiled) else f
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    g = Grad(func, tuple(nums))(*args)
    names, _ = bind(func, args, {})
    errors = []
    for k, gk in zip(nums, g):
        base = args[k]
        if isinstance(base, np.ndarray):
            fd = np.zeros(base.shape)
            for idx in np.ndindex(base.shape):
                plus, minus = base.copy(), base.copy()  # noqa: the others are copied in _call
                plus[idx] += eps
                minus[idx] -= eps
                fd[idx] = (_call(func, args, k, plus) - _call(func, args, k, minus)) / (2 * eps)
            err = np.max(np.abs(gk - fd) / np.maximum(1.0, np.abs(gk) + np.abs(fd))) if fd.size else 0.0
        else:
            fd = (_call(func, args, k, base + eps) - _call(func, args, k, base - eps)) / (2 * eps)
            err = abs(gk - fd) / max(1.0, abs(gk) + abs(fd))
        errors.append(float(err))
    return GradCheck([names[k] for k in nums], errors, tolerance)


def _call(func, args, k, value):
    # fresh copies of every array: the function may write into its arguments
    a = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
    a[k] = value
    return func(*a)

