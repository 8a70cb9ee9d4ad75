"""Transformations beyond the gradient: jvp, Jacobians, Hessians, and their composition.

An adjit object stands for a Python function plus the transformations applied to it, and
each transformation is IR -> IR, so they compose by construction:

* ``adjit.jvp(f, primals, tangents)``: forward mode (`adjit.ad.forward`) of f's IR;
* ``adjit.jvp(adjit.grad(f), ...)``: forward mode of the *gradient's* IR, which is a
  Hessian-vector product, with no new machinery;
* ``adjit.jacfwd(f)``: one forward sweep of f's IR carrying every basis direction at once
  (`adjit.ad.batched`); with respect to numbers only, or for an op with no batched form, a
  loop over the directions whose body is a copy of f's jvp IR (`adjit.ir.inline`), compiled
  as one function; ``adjit.hessian(f)`` is ``jacfwd(grad(f))``;
  ``adjit.grad(adjit.grad(f))`` is the Jacobian of the scalar inner gradient;
* ``adjit.jacrev(f)``: a loop over the output's elements around a copy of f's vjp IR.

Every copy makes fresh values for its tangents, so nested derivatives cannot confuse their
perturbations: d/dx [x * d/dy (x + y)] is 1.
"""
import inspect
import weakref

import numpy as np

from .ad.batched import BatchedForward, Unbatchable, dims, size
from .ad.forward import forward
from .ad.reverse import vjp as reverse_vjp
from .api import Grad, Jit, _Compiled
from .compile_feedback import logger
from .errors import AdjitError, GradientError, user_facing
from .frontend import translate
from .ir import verify
from .ir.builder import Builder
from .ir.core import Function, Value
from .ir.inline import inline
from .ir.sym import building
from .ir.types import F64, Array, is_array, is_float
from .passes import dce, simplify

_FULL = ("s", False, False, False)  # the spec entry of ':'


def _python_function(func):
    return func.py_func if isinstance(func, _Compiled) else func


def _names(func):
    return list(inspect.signature(_python_function(func)).parameters)


def base_ir(func, types):
    """The IR that a transformation of `func` starts from, for argument `types`, and how its
    yields become the Python result: the function itself, or (for a gradient object) its
    reverse-mode IR, whose yields are (value, gradient, ...)."""
    if isinstance(func, Grad):
        wrt = func._wrt(_names(func), types)
        ir = func._build_ir(tuple(types) + (wrt,))[0]
        return ir, ("grad", isinstance(func.argnums, tuple), func.with_value)
    if isinstance(func, JacFwd):  # a Jacobian (or a second derivative): its IR yields (outs..., J...)
        key = tuple(types) + (func._wrt(_names(func), types),)
        ir = func._build_ir(key)[0]
        if key in func.tuple_outputs:
            raise GradientError(f"a transformation of the Jacobians of {func.py_func.__name__}(), which returns a "
                                "tuple, is not supported yet", hint="take the Jacobian of each output in a function "
                                "of its own")
        value_index = 1 if isinstance(func, GradOfGradient) else None
        return ir, ("jac", func.shapes[key], isinstance(func.argnums, tuple),
                    getattr(func, "with_value", False), value_index)
    if isinstance(func, _Compiled) and not isinstance(func, Jit):
        raise AdjitError(f"adjit cannot transform a {type(func).__name__} object yet")
    fn = dce(translate(_python_function(func), list(types)))
    verify(fn)
    return fn, ("tuple" if fn.returns_tuple else "single",)


def pack(values, shape, convert=None):
    """The Python result of a function whose IR yields `values`, given how it is shaped
    (`convert` makes each value a Python one; by default 0-d arrays become floats)."""
    values = [(convert or _number)(v) for v in values]
    if shape[0] == "single":
        return values[0]
    if shape[0] == "tuple":
        return tuple(values)
    if shape[0] == "jac":
        _, n, many, with_value, value_index = shape
        jacs = tuple(values[n:]) if many else values[n]
        return (values[value_index], jacs) if with_value else jacs
    _, many, with_value = shape
    grads = tuple(values[1:]) if many else values[1]
    return (values[0], grads) if with_value else grads


def the_output(shape, ir):
    """The index of the one output a further derivative is taken of, or None when the
    function has several (a tuple, value_and_grad's pair, a tuple of gradients)."""
    if shape[0] == "single":
        return 0
    if shape[0] == "grad" and not shape[1] and not shape[2]:
        return 1
    if shape[0] == "jac" and not shape[2] and not shape[3]:
        return shape[1]
    return None


def _number(v):
    return float(v) if np.ndim(v) == 0 and not isinstance(v, (bool, np.bool_, int, np.integer)) else v


class _Transformation(_Compiled):
    """A compiled transformation of `inner` (a function or another adjit object), built
    from `inner`'s IR by `base_ir`; `shapes` records, per key, how its yields are read."""
    suffix = ""

    def __init__(self, func):
        super().__init__(_python_function(func))
        self.inner = func
        self.shapes = {}

    def _generated_name(self):
        return self.py_func.__name__ + self.suffix


# ---- jvp ---------------------------------------------------------------------------------
class Jvp(_Transformation):
    """The compiled ``f_jvp(*primals, *tangents) -> (*outs, *tangent_outs)`` of a function."""
    suffix = "_jvp"

    def _build_ir(self, key):
        types, wrt = key[:-1], key[-1]
        ir, shape = base_ir(self.inner, types)
        self.shapes[key] = shape
        out = dce(simplify(forward(ir, wrt)))
        verify(out)
        return out, (), {}

    @user_facing
    def __call__(self, primals, tangents):
        primals, tangents = tuple(primals), tuple(tangents)
        if len(primals) != len(tangents):
            raise AdjitError(f"jvp: {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal")
        names, values, types = self._types(primals, {})
        wrt = tuple(k for k, t in enumerate(types) if is_float(t))
        tans = [_tangent_value(tangents[k], values[k], names[k]) for k in wrt]
        for k, t in enumerate(tangents):
            if k not in wrt and not (t is None or (np.ndim(t) == 0 and t == 0)):
                raise AdjitError(f"jvp: argument {names[k]!r} is not a float or a float64 array, so its tangent "
                                 "must be None (it has no derivative)")
        key = types + (wrt,)
        spec = self._specialise(key)
        out = self._run(spec, list(values) + tans)
        n = len(out) // 2
        shape = self.shapes[key]
        return pack(out[:n], shape), pack(out[n:], shape)


def _tangent_value(t, primal, name):
    if isinstance(primal, np.ndarray):
        t = np.asarray(t, dtype=np.float64)
        if t.shape != primal.shape:
            raise AdjitError(f"jvp: the tangent of {name!r} has shape {t.shape}, its primal {primal.shape}")
        return t
    if isinstance(t, np.ndarray) and t.ndim > 0:
        raise AdjitError(f"jvp: the tangent of the number {name!r} must be a number")
    return float(t)


_JVPS = weakref.WeakKeyDictionary()


def _cached(table, func, make):
    try:
        obj = table.get(func)
    except TypeError:  # not weak-referenceable
        return make()
    if obj is None:
        obj = table[func] = make()
    return obj


@user_facing
def jvp(f, primals, tangents):
    """Forward mode: ``(f(*primals), the derivative of f at primals in the direction tangents)``.

    As in JAX: `primals` and `tangents` are tuples, one tangent per primal (None, or 0, for
    an int or bool argument); the result has f's structure.  `f` may be a plain function,
    an ``adjit.jit`` one, or a gradient made by ``adjit.grad`` / ``value_and_grad`` (then the
    tangent of the gradient is a Hessian-vector product).
    """
    return _cached(_JVPS, f, lambda: Jvp(f))(primals, tangents)


# ---- vjp ---------------------------------------------------------------------------------
class Vjp(_Transformation):
    """The compiled ``f_vjp(*primals, *cotangents) -> (*outs, *grads)`` of a function."""
    suffix = "_vjp"

    def _build_ir(self, key):
        types, wrt = key[:-1], key[-1]
        ir, shape = base_ir(self.inner, types)
        seen = _seen_outputs(shape, len(ir.body.yields))  # the outputs the Python result shows
        floats = [k for k in seen if is_float(ir.body.yields[k].type)]
        self.shapes[key] = (shape, seen, floats, len(ir.body.yields))
        try:
            out = reverse_vjp(ir, wrt, seeds=floats)
        except GradientError as e:
            if not isinstance(self.inner, (Grad, JacFwd)):
                raise
            raise GradientError(
                f"adjit.vjp of a derivative of {self.py_func.__name__}(): reverse mode over this reverse sweep is not "
                f"supported (it keeps tapes: values saved in a loop; {e.message})",
                hint="take forward mode over it instead: adjit.jvp(adjit.grad(f), primals, tangents) (or adjit.hvp) "
                     "gives the same product for a gradient, whose Jacobian (the Hessian) is symmetric; "
                     "adjit.jacfwd gives the whole Jacobian",
                filename=e.filename, lineno=e.lineno, source_line=e.source_line) from None
        out = dce(simplify(out))
        verify(out)
        return out, (), {}

    def bind(self, primals):
        names, values, types = self._types(tuple(primals), {})
        wrt = tuple(k for k, t in enumerate(types) if is_float(t))
        key = types + (wrt,)
        return key, self._specialise(key), values, wrt, names


@user_facing
def vjp(f, *primals):
    """Reverse mode for any outputs: ``(f(*primals), vjp_fn)``, where ``vjp_fn(cotangent)``
    returns one entry per primal, the cotangent pulled back through f (None for an int or
    bool primal).  `cotangent` has the structure of f's output (a tuple for a tuple).

    Each call of ``vjp_fn`` runs f's forward sweep again (compiled, in the same call as the
    reverse sweep): nothing is kept between calls, so ``vjp_fn`` is safe to call often."""
    obj = _cached(_VJPS, f, lambda: Vjp(f))
    key, spec, values, wrt, names = obj.bind(primals)
    shape, seen, floats, n_out = obj.shapes[key]

    def vjp_fn(cotangent):
        cts = dict(zip(seen, _flatten(cotangent, shape, len(seen))))
        for k in seen:
            if k not in floats and cts[k] is not None and not (np.ndim(cts[k]) == 0 and cts[k] == 0):
                raise AdjitError(f"vjp: output {k} of {obj.py_func.__name__}() is not a float, so its cotangent "
                                 "must be None")
        for k in floats:
            if np.shape(cts[k]) != shapes[k]:
                raise AdjitError(f"vjp: a cotangent of {obj.py_func.__name__}()'s output has shape "
                                 f"{np.shape(cts[k])}, the output {shapes[k]}")
        seeds = [np.asarray(cts[k], dtype=np.float64) if np.ndim(cts[k]) > 0 else float(cts[k]) for k in floats]
        out = obj._run(spec, list(values) + seeds)
        result = [None] * len(primals)
        for k, g in zip(wrt, out[n_out:]):
            result[k] = _number(g)
        return tuple(result)

    # f's value, by f compiled (on copies: vjp, like grad, never changes the caller's arrays)
    run = f if isinstance(f, _Compiled) and not isinstance(f, Jit) else \
        _cached(_JITS, f, lambda: Jit(_python_function(f)))
    value = run(*[v.copy() if isinstance(v, np.ndarray) else v for v in values])
    shapes = dict(zip(seen, [np.shape(v) for v in _flatten(value, shape, len(seen))]))
    return value, vjp_fn


def _seen_outputs(shape, n_yields):
    """The yields of a base IR that its Python result is made of, in the result's order."""
    if shape[0] in ("single", "tuple"):
        return list(range(n_yields))
    if shape[0] == "jac":
        _, n, many, with_value, value_index = shape
        return ([value_index] if with_value else []) + list(range(n, n_yields))
    _, many, with_value = shape
    return ([0] if with_value else []) + list(range(1, n_yields))


def _flatten(result, shape, n):
    """A value with the structure of the Python result, as the list of its `n` parts."""
    if shape[0] == "single":
        return [result]
    if shape[0] == "tuple":
        parts = list(result)
    else:
        with_value = shape[3] if shape[0] == "jac" else shape[2]
        many = shape[2] if shape[0] == "jac" else shape[1]
        rest = result[1] if with_value else result
        parts = ([result[0]] if with_value else []) + (list(rest) if many else [rest])
    if len(parts) != n:
        raise AdjitError(f"vjp: the function returns {n} values, the cotangent has {len(parts)}")
    return parts


_VJPS = weakref.WeakKeyDictionary()
_JITS = weakref.WeakKeyDictionary()


# ---- Jacobians by forward mode -------------------------------------------------------------
_size, _dims = size, dims

# Jacobians carry every direction through one sweep (adjit.ad.batched); False makes them one
# sweep per direction, as for an op the batched sweep does not handle (the tests compare both).
BATCHED = True


def batched_jacobian_ir(ir, out_index, wrt):
    """An IR function ``(params) -> (outs..., J_1, ..., J_k)`` like `jacobian_ir`, from ONE
    forward sweep of `ir` carrying all the directions (k = the number of elements of the
    params in `wrt`): the tangents of output `out_index` are its Jacobians side by side."""
    params = [Value(p.type, p.hint) for p in ir.params]
    b = Builder()
    b.loop_carries_new = lambda name: False
    with building(b):
        b.block.params = params
        sizes = [size(b, params[k]) if is_array(params[k].type) else b.const(1) for k in wrt]
        offsets, n = [], b.const(0)
        for s in sizes:
            offsets.append(n)
            n = b.emit("add", [n, s])
        n.hint = "k"
        fwd = BatchedForward(ir, wrt, b, n)
        b.missing = fwd._missing
        seeds = []
        for k, offset, s in zip(wrt, offsets, sizes):  # the basis directions: an identity block
            x = params[k]
            seed = b.emit("zeros", dims(b, x) + [n], {"dtype": F64})
            flat = b.emit("reshape", [seed, s, n]) if is_array(x.type) else None
            if flat is None:
                b.emit("store", [seed, offset, b.const(1.0)])
            else:
                b.for_(b.const(0), s, b.const(1), lambda i, flat=flat, offset=offset: b.emit(
                    "store", [flat, i, b.emit("add", [i, offset]), b.const(1.0)]))
            seed.hint = "t_" + (x.hint or "x")
            seeds.append(seed)
        outs, tangents = fwd.run(params, seeds)
        out, T = outs[out_index], tangents[out_index]
        if not is_float(out.type):
            raise GradientError("the Jacobian needs a float or float64-array output")
        lead = (_FULL,) * out.type.ndim if is_array(out.type) else ()
        jacobians = []
        for k, offset, s in zip(wrt, offsets, sizes):
            x = params[k]
            if not is_array(x.type):
                J = b.emit("copy", [b.emit("view", [T, offset], {"spec": lead + (("i",),)})]) if lead \
                    else b.emit("load", [T, offset])
            else:
                part = T if len(wrt) == 1 else b.emit("view", [T, offset, b.emit("add", [offset, s])],
                                                      {"spec": lead + (("s", True, True, False),)})
                J = b.emit("reshape", [part] + dims(b, out) + dims(b, x))
            jacobians.append(J)
        b.block.yields = outs + jacobians
    return Function(ir.name + "_jac", params, b.block, ir.filename, returns_tuple=True)


def jacobian_ir(jvp_fn, n_params, out_index, wrt):
    """An IR function ``(params) -> (outs..., J_1, ..., J_k)``: the primal outputs, then for
    each param in `wrt` the Jacobian of output `out_index` with respect to it (shape
    ``out.shape + in.shape``), one jvp per basis direction in a compiled loop."""
    params = [Value(p.type, p.hint) for p in jvp_fn.params[:n_params]]
    b = Builder()
    b.loop_carries_new = lambda name: False
    with building(b):
        b.block.params = params
        zeros = [b.emit("zeros_like", [params[k]], {"dtype": F64}) if is_array(params[k].type) else b.const(0.0)
                 for k in wrt]
        outs = inline(b, jvp_fn, params + zeros)  # the primal outputs (tangents zero)
        n_out = len(outs) // 2
        out = outs[out_index]
        if not is_float(out.type):
            raise GradientError("the Jacobian needs a float or float64-array output")
        jacobians = []
        for j, k in enumerate(wrt):
            x = params[k]
            in_dims = _dims(b, x)
            J = b.emit("zeros", _dims(b, out) + in_dims, {"dtype": F64}) if (is_array(out.type) or in_dims) \
                else None
            if not is_array(x.type):  # a number: one direction
                t = inline(b, jvp_fn, params + [b.const(1.0) if i == j else zeros[i] for i in range(len(wrt))])
                jacobians.append(t[n_out + out_index])
                continue
            n = _size(b, x)
            flat = b.emit("reshape", [J] + ([_size(b, out)] if is_array(out.type) else []) + [n])

            def body(i, j=j, x=x, n=n, flat=flat, in_dims=in_dims):
                e = b.emit("zeros", [n], {"dtype": F64})
                b.emit("store", [e, i, b.const(1.0)])
                direction = b.emit("reshape", [e] + in_dims)
                t = inline(b, jvp_fn, params + [direction if m == j else zeros[m] for m in range(len(wrt))])
                tangent = t[n_out + out_index]
                if is_array(out.type):
                    b.emit("view_store", [flat, i, b.emit("ravel", [tangent])], {"spec": (_FULL, ("i",))})
                else:
                    b.emit("store", [flat, i, tangent])
            b.for_(b.const(0), n, b.const(1), body)
            jacobians.append(J)
        b.block.yields = outs[:n_out] + jacobians
    return Function(jvp_fn.name.replace("_jvp", "") + "_jac", params, b.block, jvp_fn.filename, returns_tuple=True)


class JacFwd(_Transformation):
    """``adjit.jacfwd(f, argnums)``: the Jacobian by forward mode, in one compiled function."""
    suffix = "_jacfwd"

    def __init__(self, func, argnums=0, out_index=None):
        super().__init__(func)
        self.argnums, self.out_index = argnums, out_index
        self.tuple_outputs = set()  # the keys whose function returns a tuple (a tuple of Jacobians)
        self._keys = {}

    def _build_ir(self, key):
        types, wrt = key[:-1], key[-1]
        ir, shape = base_ir(self.inner, types)
        # With respect to numbers only, the few directions are one jvp each, whose tangents are
        # numbers: no k-buffers to allocate per call (what counts for small functions called in
        # loops: grad(grad(f)) of a float, a force's Jacobian in a simulation step).
        batched = BATCHED and any(is_array(types[k]) for k in wrt)
        fns = []
        for out_index in self._outputs(key, shape, ir):
            try:
                if not batched:
                    raise Unbatchable()
                fns.append(batched_jacobian_ir(ir, out_index, list(wrt)))
            except Unbatchable as e:  # (or an op with no batched form): one sweep per direction
                if e.args:
                    logger.debug("%s: `%s` has no batched forward rule; one sweep per direction",
                                 self._generated_name(), e.args[0])
                fns.append(jacobian_ir(forward(ir, wrt), len(types), out_index, list(wrt)))
        out = dce(simplify(_joined(fns, len(ir.body.yields))))
        verify(out)
        self.shapes[key] = len(ir.body.yields)
        return out, (), {}

    def _outputs(self, key, shape, ir):
        """The outputs whose Jacobians are taken: the one output, or each of a tuple (JAX's
        jacfwd of a tuple-returning function is the tuple of their Jacobians)."""
        if self.out_index is not None:
            return [self.out_index]
        k = the_output(shape, ir)
        if k is not None:
            return [k]
        if shape[0] != "tuple":
            raise GradientError(f"jacfwd/jacrev/hessian of {self.py_func.__name__}(): the function must return a "
                                "float, an array or a tuple of them")
        self.tuple_outputs.add(key)
        return list(range(len(ir.body.yields)))

    def _wrt(self, names, types):
        return Grad._wrt(self, names, types)

    def key_for(self, args):
        """The specialisation key of a call with `args` (for adjit.show)."""
        names, _, types = self._types(args, {})
        return types + (self._wrt(names, types),)

    def _bound(self, names, types):
        """(specialisation, number of differentiated arguments, number of outputs, whether
        the function returns a tuple) for argument `types`: looked up once per types, since
        checking argnums and hashing the key again cost as much as a small Hessian's call."""
        call = self._keys.get(types)
        if call is None:
            key = types + (self._wrt(names, types),)
            spec = self._specialise(key)
            call = self._keys[types] = (spec, len(key[-1]), self.shapes[key], key in self.tuple_outputs)
        self.last = call[0]
        return call

    @user_facing
    def __call__(self, *args):
        names, values, types = self._types(args, {})
        spec, n_wrt, n_out, returns_tuple = self._bound(names, types)
        out = self._run(spec, values)
        jacs = [_number(j) for j in out[n_out:]]
        per_output = [jacs[i:i + n_wrt] for i in range(0, len(jacs), n_wrt)]
        per_output = [tuple(js) if isinstance(self.argnums, tuple) else js[0] for js in per_output]
        return tuple(per_output) if returns_tuple else per_output[0]


def _joined(fns, n_out):
    """One IR function running the Jacobian functions `fns` (each ``(params) -> (outs...,
    J...)``, one per output of a tuple) in turn: the outputs once, then every J in order."""
    if len(fns) == 1:
        return fns[0]
    params = [Value(p.type, p.hint) for p in fns[0].params]
    b = Builder()
    with building(b):
        b.block.params = params
        ys = [inline(b, fn, params) for fn in fns]
        b.block.yields = ys[0][:n_out] + [j for y in ys for j in y[n_out:]]
    return Function(fns[0].name, params, b.block, fns[0].filename, returns_tuple=True)


def jacobian_rev_ir(primal, vjp_fn, out_index, wrt):
    """An IR function ``(params) -> (outs..., J_1, ..., J_k)`` like `jacobian_ir`, by reverse
    mode: one vjp per output component, in a compiled loop, filling every J_k at once."""
    from .ir.alias import MemoryModel
    n_params, n_out = len(primal.params), len(primal.body.yields)
    floats = [k for k, y in enumerate(primal.body.yields) if is_float(y.type)]
    params = [Value(p.type, p.hint) for p in primal.params]
    b = Builder()
    b.loop_carries_new = lambda name: False
    with building(b):
        b.block.params = params
        written = set(MemoryModel(primal).written_params())
        safe = [b.emit("copy", [p]) if k in written else p for k, p in enumerate(params)]
        outs = inline(b, primal, safe)  # the outputs (their shapes), on copies of written arguments
        out = outs[out_index]
        if not is_float(out.type):
            raise GradientError("the Jacobian needs a float or float64-array output")

        def cotangents(seed):
            return [seed if k == out_index else (b.emit("zeros_like", [outs[k]], {"dtype": F64})
                                                 if is_array(outs[k].type) else b.const(0.0)) for k in floats]
        if not is_array(out.type):  # one output number: one vjp, the gradients are the rows
            grads = inline(b, vjp_fn, params + cotangents(b.const(1.0)))[n_out:]
            b.block.yields = outs + grads
            return Function(primal.name + "_jacrev", params, b.block, primal.filename, returns_tuple=True)
        m, out_dims = _size(b, out), _dims(b, out)
        jacobians, flats = [], []
        for k in wrt:
            x = params[k]
            J = b.emit("zeros", out_dims + _dims(b, x), {"dtype": F64})
            jacobians.append(J)
            flats.append(b.emit("reshape", [J, m] + ([_size(b, x)] if is_array(x.type) else [])))

        def body(j):
            e = b.emit("zeros", [m], {"dtype": F64})
            b.emit("store", [e, j, b.const(1.0)])
            grads = inline(b, vjp_fn, params + cotangents(b.emit("reshape", [e] + out_dims)))[n_out:]
            for flat, g in zip(flats, grads):
                if is_array(g.type):
                    b.emit("view_store", [flat, j, b.emit("ravel", [g])], {"spec": (("i",), _FULL)})
                else:
                    b.emit("store", [flat, j, g])
        b.for_(b.const(0), m, b.const(1), body)
        b.block.yields = outs + jacobians
    return Function(primal.name + "_jacrev", params, b.block, primal.filename, returns_tuple=True)


class JacRev(JacFwd):
    """``adjit.jacrev(f, argnums)``: the Jacobian by reverse mode, in one compiled function."""
    suffix = "_jacrev"

    def _build_ir(self, key):
        types, wrt = key[:-1], key[-1]
        primal, shape = base_ir(self.inner, types)
        outputs = self._outputs(key, shape, primal)
        try:
            v = reverse_vjp(base_ir(self.inner, types)[0], wrt)
        except GradientError:
            if not isinstance(self.inner, (Grad, JacFwd)):
                raise
            # reverse mode over a reverse sweep that keeps tapes is not supported: the same
            # Jacobian by forward mode over it (what adjit.hessian does)
            return JacFwd._build_ir(self, key)
        fns = [jacobian_rev_ir(primal, v, k, list(wrt)) for k in outputs]
        out = dce(simplify(_joined(fns, len(primal.body.yields))))
        verify(out)
        self.shapes[key] = len(primal.body.yields)
        return out, (), {}


@user_facing
def jacrev(f, argnums=0):
    """The Jacobian of `f` by reverse mode: the same result as `jacfwd`, one reverse sweep
    per output element (better when f has fewer outputs than inputs)."""
    return JacRev(f, argnums)


@user_facing
def jacfwd(f, argnums=0):
    """The Jacobian of `f` by forward mode, as a function: ``jacfwd(f)(x)`` has shape
    ``f(x).shape + x.shape`` (JAX's convention); a tuple `argnums` gives a tuple."""
    return JacFwd(f, argnums)


class Hessian(JacFwd):
    """``adjit.hessian(f, argnums)`` of one argument: ``jacfwd(grad(f))`` when f returns a
    float; when it returns an array, ``jacfwd(jacrev(f))``, shape ``out.shape + x.shape +
    x.shape`` (JAX's hessian)."""

    def __init__(self, func, argnums=0):
        super().__init__(Grad(func, argnums), argnums)
        self.func, self.of_float = func, self.inner

    def _build_ir(self, key):
        ir, shape = base_ir(self.func, key[:-1])
        of_array = shape[0] == "single" and is_array(ir.body.yields[0].type)
        self.inner = JacRev(self.func, self.argnums) if of_array else self.of_float
        return super()._build_ir(key)


@user_facing
def hessian(f, argnums=0):
    """The Hessian of `f`: forward mode over reverse mode, ``jacfwd(grad(f))`` (of an array
    output, ``jacfwd(jacrev(f))``).  With a tuple `argnums` (a float output), JAX's nested
    tuple of blocks: ``hessian(f, (0, 1))(x, y)[i][j]`` is the block of second derivatives
    in argument i and argument j."""
    if not isinstance(argnums, tuple):
        return Hessian(f, argnums)
    g = Grad(f, argnums)
    blocks = [JacFwd(g, argnums, out_index=1 + i) for i in range(len(argnums))]
    return lambda *args: tuple(b(*args) for b in blocks)


@user_facing
def hvp(f, primals, tangents):
    """A Hessian-vector product of scalar `f`: the jvp of its gradient with respect to every
    float argument, ``(grad, H @ v)``."""
    names = _names(f)
    floats = tuple(k for k, p in enumerate(primals) if isinstance(p, float) or (
        isinstance(p, np.ndarray) and p.dtype == np.float64))
    if not floats:
        raise AdjitError(f"hvp: {_python_function(f).__name__}() has no float argument ({', '.join(names)})")
    g = Grad(f, floats if len(floats) > 1 else floats[0])
    return jvp(g, primals, tangents)


class GradOfGradient(JacFwd):
    """``adjit.grad(g)`` / ``value_and_grad(g)`` of a gradient `g` whose output is a float
    (``g = adjit.grad(f)`` of a float argument): forward mode over g's reverse mode, which
    computes exactly the gradient of g (JAX's grad(grad(f)))."""
    suffix = "_grad_grad"

    def __init__(self, inner, argnums=0, with_value=False):
        super().__init__(inner, argnums)
        self.with_value = with_value

    def _build_ir(self, key):
        types = key[:-1]
        ir, shape = base_ir(self.inner, types)
        k = the_output(shape, ir)
        if shape[0] == "single" or k is None or ir.body.yields[k].type != F64:
            raise GradientError(
                f"adjit.grad of a gradient of {self.py_func.__name__}() needs that gradient to be one float "
                "(the derivative with respect to one float argument)",
                hint="for the second derivatives with respect to an array, use adjit.hessian(f)")
        return super()._build_ir(key)

    @user_facing
    def __call__(self, *args):
        names, values, types = self._types(args, {})
        spec, _, n, _ = self._bound(names, types)
        out = self._run(spec, values)
        value, grads = _number(out[1]), [_number(j) for j in out[n:]]
        grad = tuple(grads) if isinstance(self.argnums, tuple) else grads[0]
        return (value, grad) if self.with_value else grad


# ---- calling a transformed function from compiled code ------------------------------------
def inline_call(builder, obj, args):
    """Inline, at a call in compiled code, the *transformed* IR of adjit object `obj`
    (never its Python source): returns the call's result as a Value or a tuple of them."""
    types = tuple(a.type for a in args)
    if isinstance(obj, Grad):
        ir, shape = base_ir(obj, types)
        outs = inline(builder, ir, list(args))
        grads = tuple(outs[1:]) if shape[1] else outs[1]
        return (outs[0], grads) if shape[2] else grads
    if isinstance(obj, JacFwd):
        key = types + (obj._wrt(_names(obj), types),)
        ir = base_ir(obj, types)[0]  # (refuses the Jacobians of a tuple, like any transformation of them)
        outs = inline(builder, ir, list(args))
        n = obj.shapes[key]
        if isinstance(obj, GradOfGradient):
            grads = tuple(outs[n:]) if isinstance(obj.argnums, tuple) else outs[n]
            return (outs[1], grads) if obj.with_value else grads
        return tuple(outs[n:]) if isinstance(obj.argnums, tuple) else outs[n]
    raise AdjitError(f"adjit cannot call {type(obj).__name__} objects from compiled code")


def _jvp_in_compiled_code(tr, path, node):
    """``adjit.jvp(f, (x, ...), (t, ...))`` inside compiled code: f's jvp IR, inlined with
    fresh values, so a gradient or vjp of the calling function is reverse mode over forward
    mode (JAX's vjp of a jvp), with no perturbation confusion."""
    from .errors import UnsupportedSyntaxError
    from .frontend.translate import Ref, Tup
    b = tr.b
    if node.keywords or len(node.args) != 3:
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() in compiled code takes (f, primals, tangents), "
                       "by position")
    f, primals, tangents = (tr.expr(a) for a in node.args)
    if not isinstance(f, Ref) or not callable(f.obj):
        raise tr.error(UnsupportedSyntaxError, node, f"the first argument of {path}() must name a module-level "
                       "function (or an adjit object)")
    if not (isinstance(primals, Tup) and isinstance(tangents, Tup) and len(primals.items) == len(tangents.items)):
        raise tr.error(UnsupportedSyntaxError, node, f"{path}() in compiled code needs its primals and tangents as "
                       "tuples written in the call, one tangent per primal: jvp(f, (x, y), (tx, ty))")
    args, tans = primals.items, []
    for a, t in zip(args, tangents.items):
        if not (isinstance(a, Value) and isinstance(t, Value) and is_float(a.type)
                and is_array(a.type) == is_array(t.type) and (not is_array(a.type) or a.type.ndim == t.type.ndim)):
            raise tr.error(UnsupportedSyntaxError, node, f"{path}() in compiled code takes floats and float64 arrays "
                           "as primals, each with a tangent of its kind (a float, or an array of its shape)")
        for d in range(a.type.ndim if is_array(a.type) else 0):  # a wrong shape would broadcast silently
            same = b.emit("eq", [b.emit("shape", [t], {"dim": d}), b.emit("shape", [a], {"dim": d})])
            b.emit("check", [same], {"exception": "ValueError", "message": "adjit.jvp: a tangent's shape differs "
                                     "from its primal's"})
        tans.append(t if is_array(t.type) else b.cast(t, F64))
    ir, shape = base_ir(f.obj, [a.type for a in args])
    outs = inline(b, forward(ir, list(range(len(args)))), list(args) + tans)
    n = len(outs) // 2

    def wrap(v):
        return Tup([wrap(x) for x in v]) if isinstance(v, tuple) else v
    return wrap((pack(outs[:n], shape, convert=lambda v: v), pack(outs[n:], shape, convert=lambda v: v)))


jvp._adjit_in_compiled_code = _jvp_in_compiled_code
