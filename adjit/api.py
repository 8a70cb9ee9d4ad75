"""The public API: jit, grad, value_and_grad, show, show_ir, check_grad.

Each decorated function keeps one compiled specialisation per argument-type signature,
in memory; the generated modules are cached on disk by Numba (see codegen/compile.py).
"""
import functools
import threading
import types

import numpy as np

from .ad import reverse
from . import compile_feedback
from .codegen import function_source, llvm_opt_level, load_module, module_text
from .errors import AdjitError, AdjitTypeError, GradientError, SourceUnavailableError, describe_type, user_facing
from .frontend import translate
from .ir import format_function, verify
from .ir.alias import MemoryModel
from .ir.types import F64, is_array
from .passes import dce, simplify
from .signature import Sequence, bind, flatten, leaf_names, leaves, type_of, unflatten


class _Specialisation:
    """One compiled function for one signature: its IR, its source and the callable.

    `written` holds the positions of the array parameters whose memory the function writes
    (through any alias, by `adjit.ir.alias.MemoryModel` of the translated IR, before reverse
    mode); the generated gradient assumes those do not share memory with another argument.
    `overlap_pairs` are the (written, other array) parameter pairs `Grad.__call__` checks at
    each call; when it is empty (nothing written) the call checks nothing.
    """

    def __init__(self, ir, source, compiled, written=(), overlap_pairs=(), write_locs=None):
        self.ir, self.source, self.compiled = ir, source, compiled
        self.written, self.overlap_pairs = written, overlap_pairs
        self.write_locs = write_locs or {}  # written position -> (file, line, text) of its first write
        self.sequences = False  # a tuple or list argument: the call passes its leaves (_Compiled._flat)
        self.compile_job = None  # its compile's stopwatch (adjit.compile_feedback), finished by the first call


class _Compiled:
    """Shared machinery of jit and grad: signature dispatch, compile, cache.

    A tuple or list argument has a `Sequence` type; the compiled code takes its leaves (the
    numbers and arrays in it) as parameters of their own, in order: `_flat` gives them."""
    _lock = threading.RLock()
    _takes_sequences = False  # jit and grad take tuple and list arguments; the others refuse them

    def __init__(self, func, what="adjit.jit"):
        _refuse_nested(func, what)
        if isinstance(func, _Compiled):
            # Only a Jit gets here (_refuse_nested refused a Grad).  jit is the identity
            # transformation, so jit(jit(f)) and grad(jit(f)) are exactly jit(f) and grad(f):
            # unwrapping to the Python function is exact, not a guess.
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
        if any(t is F64 and isinstance(v, np.ndarray) for t, v in zip(types, values)):  # (type_of gives F64 itself)
            values = [float(v) if t is F64 else v for t, v in zip(types, values)]  # a 0-d float array
        if not self._takes_sequences:
            for n, t in zip(names, types):
                if isinstance(t, Sequence):
                    raise AdjitTypeError(
                        f"argument {n!r} of {self.py_func.__name__}() is a {t.kind}: adjit's forward-mode and "
                        "Jacobian transformations (jvp, vjp, jacfwd, jacrev, hessian, hvp, grad of a gradient) do "
                        "not take tuple or list arguments yet; adjit.jit, adjit.grad and adjit.value_and_grad do",
                        hint=f"pass the arrays in {n!r} as separate arguments")
        return names, values, types

    @staticmethod
    def _flat(spec, values, types):
        """The compiled code's arguments: the leaves of tuple and list arguments in order."""
        if not spec.sequences:
            return values
        out = []
        for v, t in zip(values, types):
            flatten(v, t, out)
        return out

    def _specialise(self, types):
        spec = self.specialisations.get(types)
        if spec is None:
            with self._lock:
                spec = self.specialisations.get(types)
                if spec is None:
                    job = compile_feedback.start(self, types)  # timed: adjit's part here, Numba's in _run
                    with job.phase("adjit"):
                        ir, written, write_locs = self._build_ir(types)
                        source = function_source(ir, self._generated_name())
                        module = load_module(module_text([source], f"{self.py_func.__module__}.{self.py_func.__qualname__}"))
                        flat = [leaf for t in types for leaf in leaves(t)]  # (the wrt entry of a Grad key is no type)
                        arrays = [m for m, t in enumerate(flat) if is_array(t)]
                        pairs = tuple(dict.fromkeys(tuple(sorted((k, m))) for k in written for m in arrays if m != k))
                        spec = _Specialisation(ir, source, getattr(module, self._generated_name()), written, pairs,
                                               write_locs)
                    spec.compile_job = job
                    spec.sequences = any(isinstance(t, Sequence) for t in types)
                    if not hasattr(spec.compiled, "signatures"):  # NUMBA_DISABLE_JIT: nothing more compiles
                        job.finish()
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
                job = spec.compile_job
                if job is None or job.finished:
                    return spec.compiled(*values)
                with job.phase("numba"), compile_feedback.warnings_at_user_code(self.py_func, job.label):
                    out = spec.compiled(*values)
                job.finish()  # logs the compile (and the stderr notice of a slow one)
                return out
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
    _takes_sequences = True

    def _build_ir(self, types):
        """(IR, written parameters, where they are written).  jit runs on the caller's memory
        as Python does, so arguments that share memory need no check: nothing is recorded."""
        ir = dce(translate(self.py_func, list(types)))
        verify(ir)
        return ir, (), {}

    @user_facing
    def __call__(self, *args, **kwargs):
        _, values, types = self._types(args, kwargs)
        spec = self._specialise(types)
        return self._run(spec, self._flat(spec, values, types))


def _placeholder(block):
    """A float constant (nan) defined at the top of `block`: a yield nobody reads."""
    from .ir.core import Op, Value
    v = Value(F64, "unused_value")
    v.const = (float("nan"),)
    block.ops.insert(0, Op("const", [], [v], {"value": float("nan"), "type": F64}))
    return v


class Grad(_Compiled):
    """``adjit.grad(f)`` / ``adjit.value_and_grad(f)``.

    The gradient with respect to a tuple or list argument is a tuple or list of the same
    structure: one gradient per leaf (all must be floats or float64 arrays)."""
    _takes_sequences = True

    def __init__(self, func, argnums=0, with_value=False):
        super().__init__(func, "adjit.value_and_grad" if with_value else "adjit.grad")
        self.argnums = argnums
        self.with_value = with_value
        self._wrt_of = {}  # argument types -> the checked positions to differentiate (see _wrt)

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
            for j, t in enumerate(leaves(types[k]) if isinstance(types[k], Sequence) else (types[k],)):
                if not (t == F64 or (is_array(t) and t.dtype == F64)):
                    name = leaf_names(types[k], names[k])[j]  # params[2] for an item of a tuple
                    inside = f" (in {names[k]!r}, whose gradient has one entry per item)" if name != names[k] else ""
                    raise GradientError(
                        f"cannot differentiate with respect to {'argument ' if not inside else ''}{name!r} of "
                        f"{self.py_func.__name__}(): it is {_describe(t)}{inside}, and only floats and float64 arrays "
                        "have derivatives",
                        hint=(f"pass it as a float64 array, e.g. {name}.astype(np.float64), or choose another argnums"
                              if is_array(t) else "pass it as a float (e.g. 3.0 rather than 3)" + (
                                  ", or pass it as an argument of its own" if inside else " or choose another argnums")))
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
                "a tuple" if fn.returns_tuple else describe_type(fn.body.yields[0].type))
            line = fn.return_lines[0] if fn.return_lines else None
            import linecache
            raise GradientError(f"{self.py_func.__name__}() must return a float to be differentiated; it returns {got}",
                                filename=fn.filename, lineno=line,
                                source_line=linecache.getline(fn.filename, line) if line else None,
                                hint="return a scalar loss, e.g. np.sum(...) of an array")
        written, write_locs = _written_params(fn)  # of the primal, before reverse mode
        starts = np.cumsum([0] + [len(leaves(t)) for t in types])  # argument k's leaves are params starts[k]...
        g = reverse(fn, tuple(j for k in wrt for j in range(starts[k], starts[k + 1])))
        if not self.with_value:
            # grad alone: nobody reads the value, so its yield becomes a placeholder (nan) and
            # DCE removes what only fed it.  The layout (value, grads...) stays, for base_ir.
            g.body.yields[0] = _placeholder(g.body)
        g = dce(simplify(g))
        verify(g)
        return g, written, write_locs

    @user_facing
    def __call__(self, *args, **kwargs):
        names, values, types = self._types(args, kwargs)
        wrt = self._wrt_of.get(types)
        if wrt is None:  # argnums checked once per signature
            wrt = self._wrt_of[types] = self._wrt(names, types)
        spec = self._specialise(types + (wrt,))
        flat = self._flat(spec, values, types)
        if spec.overlap_pairs:  # the fast path (nothing written) costs this one test
            for k, m in spec.overlap_pairs:
                if _may_share_memory(flat[k], flat[m]):
                    flat_names = names if flat is values else [n for t, name in zip(types, names)
                                                               for n in leaf_names(t, name)]
                    self._shared_memory_error(spec, k, m, flat_names, flat is not values)
        out = self._run(spec, flat)
        value, grads = float(out[0]), [float(g) if np.ndim(g) == 0 else g for g in out[1:]]
        if flat is not values:  # tuple or list arguments: their gradients in their structure
            it = iter(grads)
            grads = [unflatten(types[k], it) for k in wrt]
        grad = tuple(grads) if isinstance(self.argnums, tuple) else grads[0]
        return (value, grad) if self.with_value else grad

    def _shared_memory_error(self, spec, k, m, names, in_sequences=False):
        """Refuse a call where an array parameter the function writes may share memory with
        another array argument (the same array twice, overlapping views): the gradient's
        forward sweep copies and snapshots parameters one by one, so it cannot give Python's
        result there.  The test is `np.may_share_memory` (bounds only: cheap, conservative)."""
        if k not in spec.written:
            k, m = m, k  # name the written one first
        filename, lineno, text = spec.write_locs.get(k) or (None, None, None)
        fname = self.py_func.__name__
        call = ", ".join(f"{n}.copy()" if j == m else n for j, n in enumerate(names))
        if in_sequences:  # names[m] may be an item of a tuple: params[1]
            call = f"..., {names[m]}.copy(), ..."
        raise GradientError(
            f"arguments {names[k]!r} and {names[m]!r} of {fname}() share memory (the same array, or overlapping "
            f"views of one), and {fname}() writes into {names[k]!r}: "
            f"{'adjit.value_and_grad' if self.with_value else 'adjit.grad'} cannot differentiate through writes "
            "to memory that another argument also names" + (" (it is written here)" if lineno else ""),
            filename=filename, lineno=lineno, source_line=text, hint=f"pass a copy, e.g. {fname}({call})")


def _written_params(fn):
    """The positions of `fn`'s array parameters written through any alias, and for each the
    place of the first op that writes it (for the refusal's file:line)."""
    memory = MemoryModel(fn)
    written = tuple(memory.written_params())
    locs = {}
    for k in written:
        p = fn.params[k]
        op = next((w for w in memory.writes if p in memory.roots(w.args[0]) and w.loc), None)
        if op is not None and op.loc[1] is not None:
            locs[k] = tuple(op.loc)
    return written, locs


_may_share_memory = np.may_share_memory


def _refuse_nested(func, what):
    """Refuse an adjit gradient (or an adjit.tape one) given to `what` (adjit.jit, adjit.grad...).

    Nested transformations are not supported yet, and unwrapping would silently compute
    something else: grad(grad(f)) would be the first derivative, jit(grad(f)) f itself."""
    if isinstance(func, Grad):
        inner = "adjit.value_and_grad" if func.with_value else "adjit.grad"
        name = func.py_func.__name__
        raise GradientError(
            f"{what}() was given {inner}({name}), a gradient made by adjit: nested transformations "
            f"({what}({inner}(f)), higher derivatives) are not supported yet",
            hint=f"call {inner}({name}) directly (it is compiled already); for a second derivative, write the first "
                 f"derivative as its own Python function and pass that to {what} (adjit.tape does not support "
                 "nested differentiation either)")
    if isinstance(func, types.FunctionType) and getattr(func, "__wrapped__", None) is not None:
        if func.__globals__.get("__name__") == "adjit.tape.api":
            raise GradientError(
                f"{what}() was given a gradient made by adjit.tape ({func.__name__}): nested transformations "
                "are not supported yet",
                hint="call the adjit.tape gradient directly, or write the derivative as its own Python function")
        # functools.wraps: inspect.getsource would read the source of the wrapped function,
        # and adjit would silently compile it without the decorator
        raise SourceUnavailableError(
            f"{func.__qualname__} is a decorated function (it has __wrapped__, e.g. from functools.wraps): its "
            f"source is that of the function it wraps, so {what} would silently leave the decorator out",
            hint=f"pass the undecorated function to {what}, and apply what the decorator does in the function itself")


_describe = describe_type


@user_facing
def jit(func=None):
    """Compile `func` with adjit (decorator or call). The result returns what `func` returns.

    Arguments that share memory behave as in Python (the compiled code works on the caller's
    arrays).  A `func` made by another adjit transformation (``adjit.grad(f)``...) is compiled
    already: ``jit`` of it is itself, as in JAX; ``jit(jit(f))`` is ``jit(f)``.
    """
    if func is None:
        return jit
    if _is_transformation(func):
        return func
    return Jit(func)


def _is_transformation(func):
    return isinstance(func, _Compiled) and not isinstance(func, Jit)


def _grad_decorator(func, argnums, with_value):
    if func is None:
        return user_facing(lambda f: _grad_decorator(f, argnums, with_value))
    if isinstance(func, int) or isinstance(func, tuple):
        raise GradientError("pass argnums by keyword: adjit.grad(f, argnums=...) or @adjit.grad(argnums=...)")
    if _is_transformation(func):  # grad(grad(f)): forward mode over the inner transformation
        from .transforms import GradOfGradient, JacFwd
        if isinstance(func, (Grad, JacFwd)):
            return GradOfGradient(func, argnums, with_value)
        raise GradientError(f"adjit.grad cannot differentiate a {type(func).__name__} object yet")
    return Grad(func, argnums, with_value)


@user_facing
def grad(func=None, argnums=0):
    """The gradient of scalar function `func` with respect to argument(s) `argnums`.

    ``adjit.grad(f)(x, ...)`` returns df/dx with the shape of x (a float for a float,
    an array for an array); with a tuple `argnums`, a tuple of gradients.
    Usable as ``@adjit.grad`` and ``@adjit.grad(argnums=(0, 2))``.

    ``adjit.grad(adjit.grad(f))`` is the second derivative (the inner gradient must be one
    float); an ``adjit.jit`` function is fine, jit being the identity.  Refused with a
    `GradientError`: a call where an array argument that `func` writes into shares memory
    with another array argument (pass a copy).
    """
    return _grad_decorator(func, argnums, False)


@user_facing
def value_and_grad(func=None, argnums=0):
    """Like `grad`, but returns ``(f(*args), gradient)``."""
    return _grad_decorator(func, argnums, True)


@user_facing
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
    if hasattr(f, "key_for"):  # a Jacobian, a Hessian...
        return f.key_for(args)
    names, _, types = f._types(args, {})
    return types + (f._wrt(names, types),) if isinstance(f, Grad) else types


@user_facing
def show_ir(f, *args, file=None):
    """Print the IR of `f` (a plain function or an adjit one) for the types of `args`."""
    if isinstance(f, _Compiled):
        text = format_function(f._specialise(_key(f, args)).ir)
    else:
        j = Jit(f)
        text = format_function(j._build_ir(j._types(args, {})[2])[0])
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


@user_facing
def check_grad(f, *args, argnums=0, eps=1e-6, tolerance=1e-5):
    """Compare adjit's gradient of `f` with central finite differences (the gradient check).

    Returns a `GradCheck` whose ``errors`` are the largest relative error
    ``|g - g_fd| / max(1, |g| + |g_fd|)`` per differentiated argument.

    `f` is the function to differentiate: a plain function or an ``adjit.jit`` one (jit is
    the identity transformation, so its Python function is used).  A gradient made by
    ``adjit.grad``/``adjit.value_and_grad`` is refused with a `GradientError`: checking it
    would mean differentiating the gradient (a second derivative, not supported yet), and
    quietly checking the function it differentiates instead would be a guess.  To check
    ``adjit.grad(f)``, pass ``f`` (with the same `argnums`).
    """
    if isinstance(f, Grad):
        inner = "adjit.value_and_grad" if f.with_value else "adjit.grad"
        name = f.py_func.__name__
        raise GradientError(
            f"check_grad() was given {inner}({name}), a gradient: check_grad differentiates the function it is "
            "given, and differentiating a gradient (a second derivative) is not supported yet",
            hint=f"to check the gradient of {name}, pass {name} itself: "
                 f"adjit.check_grad({name}, *args, argnums={f.argnums!r})")
    _refuse_nested(f, "adjit.check_grad")
    func = f.py_func if isinstance(f, _Compiled) else f  # a Jit: exact (see _Compiled.__init__)
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    g = Grad(func, tuple(nums))(*args)
    names, _ = bind(func, args, {})
    errors = []
    for k, gk in zip(nums, g):
        err = 0.0
        for j, (leaf, gj) in enumerate(zip(_leaves(args[k]), _leaves(gk))):  # a tuple argument: each item
            if isinstance(leaf, np.ndarray):
                fd = np.zeros(leaf.shape)
                for idx in np.ndindex(leaf.shape):
                    plus, minus = leaf.copy(), leaf.copy()  # noqa: the others are copied in _call
                    plus[idx] += eps
                    minus[idx] -= eps
                    fd[idx] = (_call(func, args, k, j, plus) - _call(func, args, k, j, minus)) / (2 * eps)
                e = np.max(np.abs(gj - fd) / np.maximum(1.0, np.abs(gj) + np.abs(fd))) if fd.size else 0.0
            else:
                fd = (_call(func, args, k, j, leaf + eps) - _call(func, args, k, j, leaf - eps)) / (2 * eps)
                e = abs(gj - fd) / max(1.0, abs(gj) + abs(fd))
            err = max(err, float(e))
        errors.append(err)
    return GradCheck([names[k] for k in nums], errors, tolerance)


def _leaves(v):
    """The numbers and arrays in argument `v`, in order (a tuple or list argument's items)."""
    return [leaf for item in v for leaf in _leaves(item)] if type(v) in (tuple, list) else [v]


def _rebuild(v, it):
    """`v` with its leaves taken from iterator `it`, in its structure."""
    return type(v)(_rebuild(item, it) for item in v) if type(v) in (tuple, list) else next(it)


def _call(func, args, k, j, value):
    # fresh copies of every array (inside tuples too): the function may write into its arguments
    a = [_rebuild(x, (y.copy() if isinstance(y, np.ndarray) else y for y in _leaves(x))) for x in args]
    leaves = _leaves(a[k])
    leaves[j] = value
    a[k] = _rebuild(a[k], iter(leaves))
    return func(*a)

