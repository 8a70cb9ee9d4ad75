"""adjit.tape rules for issue 14's items 7-10 that are not structural: cumprod, diff, pad,
einsum/tensordot/kron/cross, and np.linalg's solve, inv, det, slogdet and cholesky.

Each records one array operation with `arrays.emit` and a NumPy adjoint per operand; the
structural ones (take, flip, repeat...) need no rule (see `numpy_api`).
"""
import numpy as np

from . import arrays
from .arrays import emit, operand


def _v(x):
    v, i = operand(x)
    return np.asarray(v, dtype=np.float64), i


def cumprod(a, axis=None, dtype=None, out=None):
    av, ai = _v(a)
    shape = av.shape
    flat = axis is None
    x = av.ravel() if flat else av
    ax = 0 if flat else axis % x.ndim
    y = np.cumprod(x, axis=ax)

    def vjp(G):
        G = np.asarray(G).reshape(y.shape)
        xm = np.moveaxis(x, ax, -1)
        gm = np.moveaxis(G, ax, -1)
        n = xm.shape[-1]
        res = np.zeros(xm.shape)
        for k in range(n):
            for j in range(k, n):
                others = np.prod(np.delete(xm[..., :j + 1], k, axis=-1), axis=-1)
                res[..., k] += gm[..., j] * others
        res = np.moveaxis(res, -1, ax)
        return res.reshape(shape)
    return emit(y, [(ai, vjp)])


def diff(a, n=1, axis=-1):
    for _ in range(n):
        s = [slice(None)] * np.ndim(arrays.values(a))
        hi, lo = list(s), list(s)
        hi[axis] = slice(1, None)
        lo[axis] = slice(None, -1)
        a = a[tuple(hi)] - a[tuple(lo)]
    return a


def pad(array, pad_width, mode='constant', constant_values=0):
    av, ai = _v(array)
    y = np.pad(av, pad_width, mode='constant', constant_values=constant_values)
    width = np.broadcast_to(np.asarray(pad_width), (av.ndim, 2))
    region = tuple(slice(int(lo), int(lo) + n) for (lo, _), n in zip(width, av.shape))
    return emit(y, [(ai, lambda G: np.asarray(G)[region])])


def einsum(subscripts, *ops):
    parts = [_v(o) for o in ops]
    vals = [p[0] for p in parts]
    lhs, out = _explicit(subscripts, vals)   # '...' and an implicit output spelled out, by NumPy itself
    ins = lhs.split(',')
    spec = lhs + '->' + out
    y = np.einsum(spec, *vals)

    def rule(k):
        def vjp(G):
            others = [ins[j] for j in range(len(ins)) if j != k]
            have = set(out).union(*others) if others else set(out)
            want = ''.join(c for c in ins[k] if c in have)
            r = np.einsum(','.join([out] + others) + '->' + want, np.asarray(G),
                          *[vals[j] for j in range(len(ins)) if j != k])
            for pos, c in enumerate(ins[k]):
                if c not in have:
                    r = np.expand_dims(r, pos)
            return np.broadcast_to(r, vals[k].shape).copy()
        return vjp
    return emit(y, [(parts[k][1], rule(k)) for k in range(len(ops))])


_L = 'abcdefghijklmnopqrstuvwxyz'


def _explicit(subscripts, vals):
    try:
        from numpy._core.einsumfunc import _parse_einsum_input
    except ImportError:  # NumPy 1.x
        from numpy.core.einsumfunc import _parse_einsum_input
    lhs, out, _ = _parse_einsum_input([subscripts.replace(' ', '')] + list(vals))
    return lhs, out


def tensordot(a, b, axes=2):
    na, nb = np.ndim(arrays.values(a)), np.ndim(arrays.values(b))
    if isinstance(axes, int):
        ax, bx = list(range(na - axes, na)), list(range(axes))
    else:
        ax, bx = [int(k) % na for k in np.atleast_1d(axes[0])], [int(k) % nb for k in np.atleast_1d(axes[1])]
    sa, sb = list(_L[:na]), list(_L[na:na + nb])
    for i, j in zip(ax, bx):
        sb[j] = sa[i]
    o = [c for k, c in enumerate(sa) if k not in ax] + [c for k, c in enumerate(sb) if k not in bx]
    return einsum(''.join(sa) + ',' + ''.join(sb) + '->' + ''.join(o), a, b)


def kron(a, b):
    va, vb = arrays.values(a), arrays.values(b)
    if np.ndim(va) == 0 or np.ndim(vb) == 0:
        return arrays.UFUNC_IMPL['multiply'](a, b)
    n = max(np.ndim(va), np.ndim(vb))
    sa, sb = (1,) * (n - np.ndim(va)) + np.shape(va), (1,) * (n - np.ndim(vb)) + np.shape(vb)
    a, b = arrays.FUNC_BY_NAME['reshape'](a, sa), arrays.FUNC_BY_NAME['reshape'](b, sb)
    la, lb = _L[:n], _L[n:2 * n]
    r = einsum(la + ',' + lb + '->' + ''.join(p + q for p, q in zip(la, lb)), a, b)
    return r.reshape(tuple(p * q for p, q in zip(sa, sb)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None:
        axisa = axisb = axisc = axis
    av, ai = _v(a)
    bv, bi = _v(b)
    am, bm = np.moveaxis(av, axisa, -1), np.moveaxis(bv, axisb, -1)
    y = np.cross(am, bm)
    back = (lambda G: np.moveaxis(np.asarray(G), axisc, -1)) if np.ndim(y) > 1 else np.asarray
    return emit(np.moveaxis(y, -1, axisc) if np.ndim(y) > 1 else y,
                [(ai, lambda G: np.moveaxis(arrays.unbroadcast(np.cross(bm, back(G)), am.shape), -1, axisa)),
                 (bi, lambda G: np.moveaxis(arrays.unbroadcast(np.cross(back(G), am), bm.shape), -1, axisb))])


def solve(a, b):
    av, ai = _v(a)
    bv, bi = _v(b)
    x = np.linalg.solve(av, bv)

    def gb(G):
        return np.linalg.solve(av.T, np.asarray(G))
    return emit(x, [(ai, lambda G: -np.outer(gb(G), x) if x.ndim == 1 else -gb(G) @ x.T), (bi, gb)])


def inv(a):
    av, ai = _v(a)
    y = np.linalg.inv(av)
    return emit(y, [(ai, lambda G: -y.T @ np.asarray(G) @ y.T)])


def det(a):
    av, ai = _v(a)
    d = np.linalg.det(av)
    return emit(d, [(ai, lambda G: float(G) * d * np.linalg.inv(av).T)])


def slogdet(a):
    av, ai = _v(a)
    s, ld = np.linalg.slogdet(av)
    return float(s), emit(ld, [(ai, lambda G: float(G) * np.linalg.inv(av).T)])


def _through_lower(h):
    # eigh reads A's lower triangle: A_ij (i > j) enters S at ij and ji, A_ii once, A_ij (i < j) not at all
    out = np.tril(h + h.T)
    out[np.diag_indices_from(out)] = np.diag(h)
    return out


def cholesky(a):
    av, ai = _v(a)
    lo = np.linalg.cholesky(av)

    def vjp(G):
        phi = np.tril(lo.T @ np.asarray(G))
        phi[np.diag_indices_from(phi)] *= 0.5
        li = np.linalg.inv(lo)
        return _through_lower(li.T @ phi @ li)
    return emit(lo, [(ai, vjp)])


def eigh(a, UPLO='L'):
    av, ai = _v(a)
    m = av if UPLO == 'L' else av.T
    w, v = np.linalg.eigh(m)
    back = (lambda h: _through_lower(h)) if UPLO == 'L' else (lambda h: _through_lower(h).T)

    def vjp_w(G):
        return back(v @ np.diag(np.asarray(G)) @ v.T)

    def vjp_v(G):
        gap = w[None, :] - w[:, None]
        np.fill_diagonal(gap, np.inf)
        return back(v @ ((v.T @ np.asarray(G)) / gap) @ v.T)
    return emit(w, [(ai, vjp_w)]), emit(v, [(ai, vjp_v)])


def eigvalsh(a, UPLO='L'):
    return eigh(a, UPLO)[0]


def running(name):
    """np.maximum.accumulate / np.minimum.accumulate: each result is one element of the input
    (the first one that attains it), so its adjoint lands there."""
    real = getattr(np, name)

    def accumulate(array, axis=0, dtype=None, out=None):
        av, ai = _v(array)
        y = real.accumulate(av, axis=axis)
        xm, ym = np.moveaxis(av, axis, -1), np.moveaxis(y, axis, -1)
        n = xm.shape[-1]
        earlier = np.arange(n)[None, :] <= np.arange(n)[:, None]
        same = (xm[..., None, :] == ym[..., :, None]) | (np.isnan(xm[..., None, :]) & np.isnan(ym[..., :, None]))
        src = np.argmax(same & earlier, axis=-1)

        def vjp(G):
            gm = np.moveaxis(np.asarray(G, dtype=np.float64), axis, -1)
            res = np.zeros(xm.shape)
            for idx in np.ndindex(xm.shape[:-1]):
                np.add.at(res[idx], src[idx], gm[idx])
            return np.moveaxis(res, -1, axis)
        return emit(y, [(ai, vjp)])
    return accumulate


def gradient(f, *varargs, axis=None, edge_order=1):
    if varargs or edge_order != 1:
        raise arrays.AdjitError('adjit.tape: np.gradient with spacing or edge_order=2 is not supported')
    n = np.ndim(arrays.values(f))
    axes = range(n) if axis is None else [a % n for a in np.atleast_1d(axis)]
    sub, mul = arrays.UFUNC_IMPL['subtract'], arrays.UFUNC_IMPL['multiply']
    cat = arrays.FUNC_BY_NAME['concatenate']

    def along(a):
        def s(lo, hi):
            return f[tuple(slice(lo, hi) if d == a else slice(None) for d in range(n))]
        return cat([sub(s(1, 2), s(0, 1)), mul(sub(s(2, None), s(None, -2)), 0.5), sub(s(-1, None), s(-2, -1))],
                   axis=a)
    out = [along(a) for a in axes]
    return out[0] if len(out) == 1 else tuple(out)


# the complex-number functions on real values: identities and constants
def real(val):
    return val


def conjugate(x, out=None):
    return arrays.UFUNC_IMPL['multiply'](x, 1.0)


def imag(val):
    return np.zeros_like(np.asarray(arrays.values(val), dtype=np.float64)) if np.ndim(arrays.values(val)) else 0.0


def angle(z, deg=False):
    out = np.where(np.asarray(arrays.values(z)) < 0, 180.0 if deg else np.pi, 0.0)
    return out if np.ndim(out) else float(out)


def real_if_close(a, tol=100):
    return a


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    av, ai = _v(x)
    y = np.nan_to_num(av, nan=nan, posinf=posinf, neginf=neginf)
    return emit(y, [(ai, lambda G: np.asarray(G) * np.isfinite(av))])


FUNCTIONS = {'cumprod': cumprod, 'real': real, 'conjugate': conjugate, 'conj': conjugate, 'imag': imag,
             'angle': angle, 'real_if_close': real_if_close, 'nan_to_num': nan_to_num, 'gradient': gradient, 'diff': diff, 'pad': pad, 'einsum': einsum, 'tensordot': tensordot,
             'kron': kron, 'cross': cross}
LINALG = {'solve': solve, 'inv': inv, 'det': det, 'slogdet': slogdet, 'cholesky': cholesky, 'eigh': eigh,
          'eigvalsh': eigvalsh}


def dot(a, b, out=None):
    """np.dot: N-d by 1-d (and N-d by M-d) through einsum; 1-d and 2-d as before."""
    na, nb = np.ndim(arrays.values(a)), np.ndim(arrays.values(b))
    if na <= 2 and nb <= 2 or na == 0 or nb == 0:
        return arrays.dot(a, b, out)
    sa = _L[:na]
    if nb == 1:
        return einsum(sa + ',' + sa[-1] + '->' + sa[:-1], a, b)
    sb = _L[na:na + nb - 2] + sa[-1] + _L[na + nb]
    return einsum(sa + ',' + sb + '->' + sa[:-1] + sb[:-2] + sb[-1], a, b)


FUNCTIONS['dot'] = dot


def inner(a, b):
    """np.inner: 2-d operands through einsum (sums over the last axes)."""
    na, nb = np.ndim(arrays.values(a)), np.ndim(arrays.values(b))
    if na == 0 or nb == 0:
        return arrays.UFUNC_IMPL['multiply'](a, b)
    if na <= 1 and nb <= 1:
        return arrays.inner(a, b)
    sa = _L[:na]
    sb = _L[na:na + nb - 1] + sa[-1]
    return einsum(sa + ',' + sb + '->' + sa[:-1] + sb[:-1], a, b)


FUNCTIONS['inner'] = inner
