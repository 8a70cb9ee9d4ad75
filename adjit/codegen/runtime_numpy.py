"""Runtime helpers of issue 14's items 6-10 (gathers, scans, sorting, linear algebra).

Imported into `adjit.codegen.runtime` (generated code calls them as ``_rt.name``).  Helpers
whose result rank depends on their operands' ranks are generated per rank with
`adjit.codegen.runtime._specialised`; an axis is a run-time int and the work is done on a
(before, along, after) 3-D view, as in the reductions there.
"""
import numba
import numpy as np

from .runtime import _SPLIT, _compile, _jit, _reduced_shape, _specialised


# ---- integer-array indexing ---------------------------------------------------------------------
@_jit
def index_norm(i, n):
    """An index array with negative entries counted from the end; IndexError when out of range."""
    flat = np.ascontiguousarray(i).reshape(-1)
    out = np.empty(flat.shape[0], dtype=np.int64)
    for k in range(flat.shape[0]):
        j = flat[k]
        if j < -n or j >= n:
            raise IndexError("index out of bounds")
        out[k] = j + n if j < 0 else j
    return out.reshape(i.shape)


@_jit
def index_norm1(j, n):
    if j < -n or j >= n:
        raise IndexError("index out of bounds")
    return j + n if j < 0 else j


@_jit
def mask_index(mask, x):
    """The flat positions of the True entries of `mask`, which must have the shape of x's
    leading dimensions (NumPy's boolean-mask indexing)."""
    for d in range(mask.ndim):
        if mask.shape[d] != x.shape[d]:
            raise IndexError("boolean index did not match the indexed array")
    flat = np.ascontiguousarray(mask).reshape(-1)
    count = 0
    for k in range(flat.shape[0]):
        if flat[k]:
            count += 1
    out = np.empty(count, dtype=np.int64)
    count = 0
    for k in range(flat.shape[0]):
        if flat[k]:
            out[count] = k
            count += 1
    return out


@_jit
def repeat_index(n, r):
    if r < 0:
        raise ValueError("negative dimensions are not allowed")
    out = np.empty(n * r, dtype=np.int64)
    for k in range(n * r):
        out[k] = k // r
    return out


@_jit
def tile_index(n, r):
    if r < 0:
        raise ValueError("negative dimensions are not allowed")
    out = np.empty(n * r, dtype=np.int64)
    for k in range(n * r):
        out[k] = k % n
    return out


@_jit
def roll_index(n, shift):
    out = np.empty(n, dtype=np.int64)
    for k in range(n):
        out[k] = (k - shift) % n if n > 0 else 0
    return out


@_jit
def diag_index(rows, cols, k):
    """Flat positions of the k-th diagonal of a (rows, cols) matrix."""
    if k >= 0:
        m = max(0, min(rows, cols - k))
    else:
        m = max(0, min(rows + k, cols))
    out = np.empty(m, dtype=np.int64)
    for t in range(m):
        i = t if k >= 0 else t - k
        j = t + k if k >= 0 else t
        out[t] = i * cols + j
    return out


@_jit
def squeeze_index(n):
    """0, the index that squeezes a dimension out, after checking it has length 1 (NumPy)."""
    if n != 1:
        raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return 0


@_jit
def cross_index(n):
    """[0, 1, 2], after checking the vectors have 3 components."""
    if n != 3:
        raise ValueError("np.cross: only vectors of 3 components are supported")
    return np.arange(3)


def _result_shape(x_ndim, lin_ndim):
    """An if-chain setting `shape` = x.shape[:axis] + lin.shape + x.shape[axis+1:]."""
    lines = []
    for axis in range(x_ndim):
        dims = "".join(f"x.shape[{d}], " for d in range(axis)) + "".join(f"lin.shape[{d}], " for d in range(lin_ndim)) \
            + "".join(f"x.shape[{d}], " for d in range(axis + 1, x_ndim))
        lines.append(f"    {'if' if axis == 0 else 'elif'} axis == {axis}:\n        shape = ({dims})")
    lines.append("    else:\n        raise ValueError('axis out of range')")
    return "\n".join(lines)


def _take(x_ndim, lin_ndim, axis_ndim):
    src = f"""def impl(x, lin, axis):
{_SPLIT}
    x3 = np.ascontiguousarray(x).reshape((before, along, after))
    flat = np.ascontiguousarray(lin).reshape(-1)
    m = flat.shape[0]
    out = np.empty((before, m, after), dtype=x.dtype)
    for i in range(before):
        for k in range(m):
            for j in range(after):
                out[i, k, j] = x3[i, flat[k], j]
{_result_shape(x_ndim, lin_ndim)}
    return out.reshape(shape)
"""
    return _compile(src, "take")


def _take_adjoint(g_ndim, x_ndim, lin_ndim, axis_ndim):
    # np.add.at semantics: repeated indices accumulate
    src = f"""def impl(g, x, lin, axis):
{_SPLIT}
    flat = np.ascontiguousarray(lin).reshape(-1)
    m = flat.shape[0]
    g3 = np.ascontiguousarray(g).reshape((before, m, after))
    out = np.zeros((before, along, after))
    for i in range(before):
        for k in range(m):
            for j in range(after):
                out[i, flat[k], j] += g3[i, k, j]
    return out.reshape(x.shape)
"""
    return _compile(src, "take_adjoint")


take = _specialised("take", _take, "x, lin, axis")
take_adjoint = _specialised("take_adjoint", _take_adjoint, "g, x, lin, axis")


# ---- along one axis: scans, sorting, arg-reductions ------------------------------------------------
def _along(name, args, body, result="out.reshape(x.shape)", out="np.empty((before, along, after))"):
    def make(*ranks):
        src = f"""def impl({args}):
{_SPLIT}
    x3 = np.ascontiguousarray(x).reshape((before, along, after))
    out = {out}
{body}
    return {result}
"""
        return _compile(src, name)
    return make


_CUMSUM = """
    for i in range(before):
        for j in range(after):
            acc = x3[i, 0, j] * 0
            for k in range(along):
                acc += x3[i, k, j]
                out[i, k, j] = acc"""
_RCUMSUM = """
    for i in range(before):
        for j in range(after):
            acc = 0.0
            for k in range(along - 1, -1, -1):
                acc += x3[i, k, j]
                out[i, k, j] = acc"""
_CUMPROD = """
    for i in range(before):
        for j in range(after):
            acc = x3[i, 0, j] * 0 + 1
            for k in range(along):
                acc *= x3[i, k, j]
                out[i, k, j] = acc"""
# d cumprod: out[k] = sum_{j >= k} g[j] prod_{i <= j, i != k} x[i] (exact at zeros, O(n^2))
_CUMPROD_ADJ = """
    g3 = np.ascontiguousarray(g).reshape((before, along, after))
    for i in range(before):
        for j in range(after):
            for k in range(along):
                left = 1.0
                for t in range(k):
                    left *= x3[i, t, j]
                acc = 0.0
                run = left
                for t in range(k, along):
                    if t > k:
                        run *= x3[i, t, j]
                    acc += g3[i, t, j] * run
                out[i, k, j] = acc"""
# tangent of cumprod: out[j] = sum_{k <= j} t[k] prod_{i <= j, i != k} x[i]
_CUMPROD_JVP = """
    t3 = np.ascontiguousarray(t).reshape((before, along, after))
    for i in range(before):
        for j in range(after):
            for m in range(along):
                acc = 0.0
                for k in range(m + 1):
                    p = t3[i, k, j]
                    for s in range(m + 1):
                        if s != k:
                            p *= x3[i, s, j]
                    acc += p
                out[i, m, j] = acc"""
_ARGSORT = """
    for i in range(before):
        for j in range(after):
            order = np.argsort(np.ascontiguousarray(x3[i, :, j]), kind='mergesort')
            for k in range(along):
                out[i, k, j] = order[k]"""


def _arg_extreme(better):
    # the first maximal (minimal) element; a NaN wins, the first NaN (NumPy)
    return f"""
    if along == 0:
        raise ValueError('attempt to get argmax of an empty sequence')
    for i in range(before):
        for j in range(after):
            best = x3[i, 0, j]
            at = 0
            if best == best:
                for k in range(1, along):
                    v = x3[i, k, j]
                    if v != v:
                        at = k
                        break
                    if v {better} best:
                        best = v
                        at = k
            out[i, j] = at"""


def _running_arg(better):
    # where the running max (min) of np.maximum.accumulate comes from: the first maximal element
    # so far; a NaN stays, as np.maximum propagates it
    return f"""
    for i in range(before):
        for j in range(after):
            at = 0
            for k in range(along):
                v = x3[i, k, j]
                best = x3[i, at, j]
                if best == best and (v != v or v {better} best):
                    at = k
                out[i, k, j] = at"""


running_argmax = _specialised("running_argmax", _along(
    "running_argmax", "x, axis", _running_arg(">"), out="np.empty((before, along, after), dtype=np.int64)"),
    "x, axis")
running_argmin = _specialised("running_argmin", _along(
    "running_argmin", "x, axis", _running_arg("<"), out="np.empty((before, along, after), dtype=np.int64)"),
    "x, axis")
cumsum_axis = _specialised("cumsum_axis", _along("cumsum_axis", "x, axis", _CUMSUM,
                                                 out="np.empty((before, along, after), dtype=x.dtype)"), "x, axis")
rcumsum_axis = _specialised("rcumsum_axis", _along("rcumsum_axis", "x, axis", _RCUMSUM), "x, axis")
cumprod_axis = _specialised("cumprod_axis", _along("cumprod_axis", "x, axis", _CUMPROD,
                                                   out="np.empty((before, along, after), dtype=x.dtype)"), "x, axis")
cumprod_adjoint = _specialised("cumprod_adjoint", _along("cumprod_adjoint", "g, x, axis", _CUMPROD_ADJ),
                               "g, x, axis")
cumprod_jvp = _specialised("cumprod_jvp", _along("cumprod_jvp", "t, x, axis", _CUMPROD_JVP), "t, x, axis")
argsort_axis = _specialised("argsort_axis", _along(
    "argsort_axis", "x, axis", _ARGSORT, out="np.empty((before, along, after), dtype=np.int64)"), "x, axis")


def _arg_reduction(name, better):
    def make(x_ndim, axis_ndim):
        src = f"""def impl(x, axis):
{_SPLIT}
    x3 = np.ascontiguousarray(x).reshape((before, along, after))
    out = np.empty((before, after), dtype=np.int64)
{_arg_extreme(better)}
{_reduced_shape(x_ndim)}
    return out.reshape(shape)
"""
        return _compile(src, name)
    return _specialised(name, make, "x, axis")


argmax_axis = _arg_reduction("argmax_axis", ">")
argmin_axis = _arg_reduction("argmin_axis", "<")


@_jit
def argmax_all(x):
    return argmax_axis(np.ascontiguousarray(x).reshape(-1), 0)


@_jit
def argmin_all(x):
    return argmin_axis(np.ascontiguousarray(x).reshape(-1), 0)


def _take_along(x_ndim, idx_ndim, axis_ndim):
    src = f"""def impl(x, idx, axis):
{_SPLIT}
    x3 = np.ascontiguousarray(x).reshape((before, along, after))
    m = idx.shape[axis]
    i3 = np.ascontiguousarray(idx).reshape((before, m, after))
    out = np.empty((before, m, after), dtype=x.dtype)
    for i in range(before):
        for k in range(m):
            for j in range(after):
                out[i, k, j] = x3[i, i3[i, k, j], j]
    return out.reshape(idx.shape)
"""
    return _compile(src, "take_along")


def _take_along_adjoint(g_ndim, x_ndim, idx_ndim, axis_ndim):
    src = f"""def impl(g, x, idx, axis):
{_SPLIT}
    m = idx.shape[axis]
    i3 = np.ascontiguousarray(idx).reshape((before, m, after))
    g3 = np.ascontiguousarray(g).reshape((before, m, after))
    out = np.zeros((before, along, after))
    for i in range(before):
        for k in range(m):
            for j in range(after):
                out[i, i3[i, k, j], j] += g3[i, k, j]
    return out.reshape(x.shape)
"""
    return _compile(src, "take_along_adjoint")


take_along = _specialised("take_along", _take_along, "x, idx, axis")
take_along_adjoint = _specialised("take_along_adjoint", _take_along_adjoint, "g, x, idx, axis")


# ---- linear algebra (LAPACK through Numba, which wants contiguous operands) -------------------------
@_jit
def solve(a, b):
    return np.linalg.solve(np.ascontiguousarray(a), np.ascontiguousarray(b))


@_jit
def inv(a):
    return np.linalg.inv(np.ascontiguousarray(a))


@_jit
def det(a):
    return np.linalg.det(np.ascontiguousarray(a))


@_jit
def slogdet_sign(a):
    return np.linalg.slogdet(np.ascontiguousarray(a))[0]


@_jit
def slogdet_log(a):
    return np.linalg.slogdet(np.ascontiguousarray(a))[1]


@_jit
def cholesky(a):
    return np.linalg.cholesky(np.ascontiguousarray(a))


@_jit
def _phi(x):
    """The lower triangle of x with its diagonal halved."""
    out = np.tril(x)
    for i in range(x.shape[0]):
        out[i, i] *= 0.5
    return out


@_jit
def _lower_of_symmetric(h):
    """The adjoint of a matrix read through its lower triangle as S = L + L^T - diag(L)
    (NumPy's cholesky and eigh): <H, dS> = <tril(H + H^T) with diagonal H_ii, dL>."""
    out = np.tril(h + h.T)
    for i in range(out.shape[0]):
        out[i, i] = h[i, i]
    return out


@_jit
def _symmetric_of_lower(t):
    low = np.tril(np.ascontiguousarray(t))
    return low + np.tril(low, -1).T


@_jit
def cholesky_adjoint(g, lo):
    """The adjoint of L = cholesky(A) for NumPy's cholesky, which reads A's lower triangle
    only: S = L^-T phi(L^T G) L^-1; dA = tril(S + S^T) with the diagonal S_ii (upper: 0)."""
    lo = np.ascontiguousarray(lo)
    linv = np.linalg.inv(lo)
    return _lower_of_symmetric(linv.T @ _phi(lo.T @ np.ascontiguousarray(g)) @ linv)


@_jit
def cholesky_jvp(t, lo):
    """dL = L phi(L^-1 dA_s L^-T), dA_s the symmetric matrix of dA's lower triangle."""
    lo = np.ascontiguousarray(lo)
    linv = np.linalg.inv(lo)
    return lo @ _phi(linv @ _symmetric_of_lower(t) @ linv.T)


@_jit
def eigh_w(a):
    return np.linalg.eigh(np.ascontiguousarray(a))[0]


@_jit
def eigh_v(a):
    return np.linalg.eigh(np.ascontiguousarray(a))[1]


@_jit
def _gap_inverse(w):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it (inf for repeated eigenvalues,
    where the eigenvectors have no derivative)."""
    n = w.shape[0]
    f = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                f[i, j] = 1.0 / (w[j] - w[i])
    return f


@_jit
def eigh_w_adjoint(g, v):
    """w = eigh(A)[0]: dw_k = v_k^T dS v_k, so the adjoint is V diag(g) V^T (through the lower triangle)."""
    v = np.ascontiguousarray(v)
    return _lower_of_symmetric((v * g) @ v.T)


@_jit
def eigh_v_adjoint(g, w, v):
    """V = eigh(A)[1]: dV = V (F o (V^T dS V)), so the adjoint is V (F o (V^T G)) V^T."""
    v = np.ascontiguousarray(v)
    return _lower_of_symmetric(v @ (_gap_inverse(w) * (v.T @ np.ascontiguousarray(g))) @ v.T)


@_jit
def eigh_w_jvp(t, v):
    v = np.ascontiguousarray(v)
    return np.sum(v * (_symmetric_of_lower(t) @ v), axis=0)


@_jit
def eigh_v_jvp(t, w, v):
    v = np.ascontiguousarray(v)
    return v @ (_gap_inverse(w) * (v.T @ _symmetric_of_lower(t) @ v))


__all__ = [n for n in dir() if not n.startswith("_") and n not in ("numba", "np")]
