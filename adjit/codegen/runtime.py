"""Small Numba functions the generated code calls (``_rt.name``).

They live in a real module with ``cache=True`` so generated code that calls them can
itself be cached on disk.
"""

import functools
import hashlib

import numba
import numpy as np

_jit = numba.njit(cache=True, error_model="numpy")


@_jit
def range_len(start, stop, step):
    """The number of iterations of ``range(start, stop, step)``."""
    if step > 0:
        return max(0, (stop - start + step - 1) // step)
    return max(0, (start - stop - step - 1) // (-step))


@_jit
def tape_grow(tape):
    """A tape with twice the capacity holding the same first entries (amortised O(1) push)."""
    out = np.empty(max(16, 2 * tape.shape[0]), dtype=tape.dtype)
    out[:tape.shape[0]] = tape
    return out


@_jit
def tape_reserve(tape, needed):
    """`tape` itself if it holds `needed` entries, else a copy with room for them (doubling)."""
    if needed <= tape.shape[0]:
        return tape
    out = np.empty(max(needed, 2 * tape.shape[0]), dtype=tape.dtype)
    out[:tape.shape[0]] = tape
    return out


@_jit
def pow_dbase(x, y):
    """d(x**y)/dx = y x**(y-1), and 0 for y == 0 (so that x**0 has derivative 0 at x = 0)."""
    if y == 0:
        return 0.0
    return y * x ** (y - 1)


@_jit
def sign(x):
    """sign(x) with sign(0) = 0, the convention that makes abs'(0) = 0."""
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return 0.0 * x  # 0.0, or nan for nan


@_jit
def square(x):
    return x * x





@_jit
def pow_dbase_array(x, y):
    """pow_dbase on arrays (either operand may be a scalar): y x**(y-1), 0 where y == 0."""
    return np.where(y == 0, 0.0, y * x ** (y - 1))


@_jit
def norm2(x):
    """The 2-norm of a vector (the Frobenius norm of a matrix)."""
    return np.sqrt(np.sum(x * x))


# ---- helpers specialised per array rank ---------------------------------------------------
# Each is a Python stub whose Numba implementation is generated, for the rank(s) of its
# arguments, by `numba.extending.overload`: one definition here serves every rank.  An
# axis is a run-time int; the work is done on a (before, along, after) 3-D view.
from numba.extending import overload  # noqa: E402

_KERNELS = {
    # reduction kind: (initial value, update of `acc` by `v`, final step)
    "sum": ("0", "acc += v", ""),
    "prod": ("1", "acc *= v", ""),
    "mean": ("0.0", "acc += v", "acc = acc / along"),
    # NaN propagates as in NumPy: once acc is NaN it stays; a NaN v replaces acc
    "max": ("x3[i, 0, j]", "if acc == acc and not v <= acc:\n                    acc = v", ""),
    "min": ("x3[i, 0, j]", "if acc == acc and not v >= acc:\n                    acc = v", ""),
}

_SPLIT = """
    before = 1
    after = 1
    for d in range(axis):
        before *= x.shape[d]
    for d in range(axis + 1, x.ndim):
        after *= x.shape[d]
    along = x.shape[axis]
"""


def _reduced_shape(ndim, src="x"):
    """An if-chain setting `shape`, the shape of `src` without dimension `axis`."""
    lines = []
    for axis in range(ndim):
        dims = "".join(f"{src}.shape[{d}], " for d in range(ndim) if d != axis)
        lines.append(f"    {'if' if axis == 0 else 'elif'} axis == {axis}:\n        shape = ({dims})")
    lines.append("    else:\n        raise ValueError('axis out of range')")
    return "\n".join(lines)


def _compile(src, name):
    """The function ``impl`` that `src` defines, named after `name` and its own source.

    Numba names machine code by module, qualified name, argument types and a per-process
    counter, and a generated function loaded from the disk cache carries its helpers'
    code under those names.  Every helper here used to be ``impl`` of no module: a cached
    function could then be linked against another helper that happened to get the same
    counter in this process (``sum_axis`` answered by ``running_argmax``: wrong values).
    A name that includes a hash of the source makes equal names mean equal code."""
    ns = {"np": np, "__name__": __name__}
    exec(compile(src, f"<adjit runtime: {name}>", "exec"), ns)
    impl = ns["impl"]
    digest = hashlib.sha256(src.encode()).hexdigest()[:16]
    impl.__name__ = impl.__qualname__ = f"{name}_{digest}"
    return impl


def _reduction_impl(kind, ndim):
    init, update, final = _KERNELS[kind]
    empty_check = "    if along == 0:\n        raise ValueError('zero-size array to reduction operation')\n" \
        if kind in ("max", "min") else ""
    src = f"""def impl(x, axis):
{_SPLIT}
{empty_check}    x3 = np.ascontiguousarray(x).reshape((before, along, after))
    out = np.empty((before, after), dtype={'np.float64' if kind == 'mean' else 'x.dtype'})
    for i in range(before):
        for j in range(after):
            acc = {init}
            for k in range({'1' if kind in ('max', 'min') else '0'}, along):
                v = x3[i, k, j]
                {update}
            {final}
            out[i, j] = acc
{_reduced_shape(ndim)}
    return out.reshape(shape)
"""
    return _compile(src, kind + "_axis")


def _specialised(name, make, params):
    """A helper whose implementation `make(*ranks)` is generated for the ranks of its
    arguments (0 for a number): in compiled code by Numba's overload mechanism, and in
    plain Python (NUMBA_DISABLE_JIT=1) by running the same generated source."""
    make = functools.lru_cache(maxsize=None)(make)

    def helper(*args):
        return make(*(np.ndim(a) for a in args))(*args)
    helper.__name__ = helper.__qualname__ = name

    def typing(*args):
        return make(*(getattr(a, "ndim", 0) for a in args))
    # overload wants the typing function's parameter names to be the implementation's
    ns = {"typing": typing}
    exec(f"def specialise({params}):\n    return typing({params})", ns)
    overload(helper)(ns["specialise"])
    return helper


def _reduction(kind):
    return _specialised(kind + "_axis", lambda ndim, axis_ndim: _reduction_impl(kind, ndim), "x, axis")


sum_axis = _reduction("sum")
mean_axis = _reduction("mean")
max_axis = _reduction("max")
min_axis = _reduction("min")
prod_axis = _reduction("prod")


def _adjoint_impl(name, args, body):
    """An adjoint helper over (before, along, after): g and o are reshaped to (before, after)."""
    src = f"""def impl({args}):
{_SPLIT}
    x3 = np.ascontiguousarray(x).reshape((before, along, after))
    g2 = np.ascontiguousarray(g).reshape((before, after))
    out = np.zeros((before, along, after))
{body}
    return out.reshape(x.shape)
"""
    return _compile(src, name)


def _unreduce(g_ndim, x_ndim, axis_ndim):
    return _adjoint_impl("unreduce", "g, x, axis", """
    for i in range(before):
        for k in range(along):
            for j in range(after):
                out[i, k, j] = g2[i, j]""")


def _route(g_ndim, x_ndim, o_ndim, axis_ndim):
    return _adjoint_impl("route", "g, x, o, axis", """
    o2 = np.ascontiguousarray(o).reshape((before, after))
    for i in range(before):
        for j in range(after):
            for k in range(along):
                if x3[i, k, j] == o2[i, j] or (x3[i, k, j] != x3[i, k, j] and o2[i, j] != o2[i, j]):
                    out[i, k, j] = g2[i, j]
                    break""")


def _prod_adjoint(g_ndim, x_ndim, axis_ndim):
    # the product of the other elements, by prefix and suffix products (exact at zeros)
    return _adjoint_impl("prod_adjoint", "g, x, axis", """
    for i in range(before):
        for j in range(after):
            left = 1.0
            for k in range(along):
                out[i, k, j] = left
                left *= x3[i, k, j]
            right = 1.0
            for k in range(along - 1, -1, -1):
                out[i, k, j] *= right * g2[i, j]
                right *= x3[i, k, j]""")


unreduce = _specialised("unreduce", _unreduce, "g, x, axis")              # g broadcast back along `axis` to x's shape
route = _specialised("route", _route, "g, x, o, axis")                       # g to the first element equal to o along `axis`
prod_adjoint = _specialised("prod_adjoint", _prod_adjoint, "g, x, axis")  # d prod(x, axis) / dx times g


@_jit
def route_all(g, x, o):
    """The adjoint of max(x) / min(x) = o over all of x: g at the first element equal to o."""
    out = np.zeros(x.shape)
    flat = out.reshape(-1)
    xs = np.ascontiguousarray(x).reshape(-1)
    for k in range(xs.shape[0]):
        if xs[k] == o or (xs[k] != xs[k] and o != o):
            flat[k] = g
            break
    return out


@_jit
def prod_adjoint_all(g, x):
    """The adjoint of prod(x) over all of x: g times the product of the other elements."""
    out = np.empty(x.shape)
    flat = out.reshape(-1)
    xs = np.ascontiguousarray(x).reshape(-1)
    left = 1.0
    for k in range(xs.shape[0]):
        flat[k] = left
        left *= xs[k]
    right = 1.0
    for k in range(xs.shape[0] - 1, -1, -1):
        flat[k] *= right * g
        right *= xs[k]
    return out


def _unbroadcast(nc, nl):
    """c summed over the dimensions NumPy broadcast `like` along, so it has like's shape."""
    loops, indent = [], "    "
    for d in range(nc):
        loops.append(f"{indent}for i{d} in range(c.shape[{d}]):")
        indent += "    "
    target = "".join(f"i{d + nc - nl} if like.shape[{d}] != 1 else 0, " for d in range(nl))
    same = "    if c.shape == like.shape:\n        return np.ascontiguousarray(c)\n" if nc == nl else ""
    src = f"""def impl(c, like):
{same}    out = np.zeros(like.shape)
{chr(10).join(loops)}
{indent}out[({target})] += c[({''.join(f'i{d}, ' for d in range(nc))})]
    return out
"""
    return _compile(src, "unbroadcast")


unbroadcast = _specialised("unbroadcast", _unbroadcast, "c, like")


from .runtime_numpy import *  # noqa: E402,F401,F403  (gathers, scans, sorting, linear algebra: issue 14)
