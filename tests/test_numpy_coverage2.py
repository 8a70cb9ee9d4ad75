"""Issue 14, items 6-10: integer-array and mask indexing, scans and order, shapes, matrix
structure and linear algebra, contractions.  Each function's gradient is checked against
central differences and adjit.tape at two points, its forward-mode derivative against a
central difference, and adjit.jit against NumPy itself.
"""
import numpy as np
import pytest

import adjit
import adjit.tape
from test_numpy_coverage import _as_tuple, _directional_fd, _fd

RNG = np.random.default_rng(1406)
IDX = np.array([0, 2, 2, -1])
LABELS = np.array([1, 0, 2, 1])


def fancy_reads(x):
    n = x.shape[0]
    return np.sum(x[IDX] ** 2) + np.sum(x[np.arange(n), LABELS[:n] % 3]) + np.sum(x[:, IDX] * 2.0) \
        + np.sum(x[x > 0] ** 2) + x[1, IDX].sum() + np.sum(x[1:, np.array([0, 0])] ** 3)


def fancy_writes(x):
    a = np.zeros((5, 3))
    a[IDX] = x[0]
    a[IDX, 1] += 2.0 * x[1, 1]
    b = x.copy()
    b[b > 0.3] = 0.0
    c = x.copy()
    c[np.array([1, 0]), 2] = x[0, :2]
    return np.sum(a * a) + np.sum(b * x) + np.sum(c ** 2)


def scans(x, y):
    return np.sum(np.cumsum(x, axis=1) ** 2) + np.sum(np.cumprod(x)) + np.sum(np.diff(x, axis=0) ** 2) \
        + np.sum(np.sort(x, axis=1) * y) + np.sum(np.sort(x, axis=None) * np.ravel(y)) \
        + x[np.argmax(y) // 3, np.argmin(x[0])] + np.sum(x.cumsum(axis=0) * y) + np.sum(np.diff(y, n=2))


def shapes(x, y):
    return np.sum(np.transpose(x) * np.swapaxes(y, 0, 1)) + np.sum(np.flip(x) * y) + np.sum(np.fliplr(x) * y) \
        + np.sum(np.flipud(x) * y) + np.sum(np.repeat(x, 2, axis=0) ** 2) + np.sum(np.tile(x, (2, 1)) ** 3) \
        + np.sum(np.roll(x, 1, axis=1) * y) + np.sum(np.roll(x, -2) * y) + np.sum(np.pad(x, 1) ** 2) \
        + np.sum(np.pad(x, ((0, 1), (2, 0)), constant_values=1.5) ** 2) + np.sum(np.vstack((x, y)) ** 2) \
        + np.sum(np.hstack((x, y)) ** 3) + np.sum(np.column_stack((x[0], y[1])) ** 2) \
        + np.sum(np.concatenate((x, y), 1) ** 2) + np.sum(np.stack((x, y), -1) ** 3) \
        + np.sum(np.expand_dims(x, 0) ** 2) + np.sum(np.squeeze(x[None], axis=0) * y) \
        + np.sum(np.moveaxis(x, 0, 1) * y.T) + np.sum(np.atleast_2d(x[0]) ** 2) + np.sum(np.atleast_1d(x) * y) \
        + np.sum(np.repeat(x[0], 3) ** 2) + np.sum(np.tile(x[1], 2) ** 2)


def shapes_3d(t):
    return np.sum(np.transpose(t, (2, 0, 1)) ** 2 * np.arange(2.0)[:, None, None]) \
        + np.sum(np.moveaxis(t, 0, -1)[0] ** 3) + np.sum(t.transpose(1, 0, 2)[0] * 2.0) \
        + np.sum(np.flip(t, axis=(0, 2))[0] ** 2)


def views_write(x):
    y = x.copy()
    v = np.swapaxes(y, 0, 1)
    v[0] = 1.0
    f = np.flip(y, axis=1)
    f[0, 0] = 2.0 * x[1, 1]
    return np.sum(y * x)


def linalg(a, b):
    m = a @ a.T + 3.0 * np.eye(3)
    s, ld = np.linalg.slogdet(m)
    return np.sum(np.linalg.solve(m, b) ** 2) + np.sum(np.linalg.solve(a + 4.0 * np.eye(3), np.outer(b, b)) ** 2) \
        + np.sum(np.linalg.inv(m) ** 2) + np.linalg.det(a) + s * ld + np.sum(np.linalg.cholesky(m) ** 3) \
        + np.sum(np.tril(a) ** 2) + np.sum(np.triu(a, 1) * a) + np.sum(np.diag(a) ** 2) \
        + np.sum(np.diag(b, 1) * np.arange(16.0).reshape(4, 4)) + np.sum(np.diagonal(a, 1) ** 3) \
        + np.trace(a, offset=-1) + np.trace(a, 1) + np.sum(np.diagonal(a) ** 2)


def contractions(a, t):
    return np.sum(np.einsum("ij,jk->ik", a, a) ** 2) + np.einsum("ij->", a) + np.sum(np.einsum("ij->j", a) ** 2) \
        + np.sum(np.einsum("bij,jk->bik", t, a) ** 2) + np.sum(np.tensordot(t, a, axes=([1, 2], [0, 1])) ** 2) \
        + np.sum(np.tensordot(a, a) * 1.0) + np.sum((t @ a) ** 2) + np.sum(np.matmul(t, t.transpose(0, 2, 1)) ** 2) \
        + np.sum(np.dot(t, a[0]) ** 2) + np.sum(np.kron(a, a[:2, :2]) ** 2) + np.sum(np.kron(a[0], a[1]) ** 2) \
        + np.sum(np.cross(a, a[::-1]) ** 2) + np.sum(np.cross(a[0], a[1]) ** 2) + np.sum(np.inner(a, a) ** 2)


CASES = {
    "fancy_reads": (fancy_reads, [((3, 3),), ((4, 3),)], 0),
    "fancy_writes": (fancy_writes, [((2, 3),)], 0),
    "scans": (scans, [((2, 3), (2, 3))], (0, 1)),
    "shapes": (shapes, [((2, 3), (2, 3))], (0, 1)),
    "shapes_3d": (shapes_3d, [((2, 3, 2),)], 0),
    "views_write": (views_write, [((3, 3),)], 0),
    "linalg": (linalg, [((3, 3), (3,))], (0, 1)),
    "contractions": (contractions, [((3, 3), (2, 3, 3))], (0, 1)),
}


def _point(shapes):
    return [RNG.uniform(-1.0, 1.0, size=s) for s in shapes]


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_and_jvp(name):
    check_case(name, *CASES[name])


def check_case(name, f, shape_sets, argnums, point=None):
    """f's gradient (adjit.value_and_grad) against central differences and adjit.tape at two
    points per shape set, its forward-mode derivative against a directional difference and the
    gradient, and adjit.jit against NumPy; the arguments are left alone."""
    point = point or _point
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    grad = adjit.value_and_grad(f, argnums=argnums)
    tape = adjit.tape.value_and_grad(f, argnums=argnums)
    for shapes in shape_sets:
        for _ in range(2):
            args = point(shapes)
            before = [a.copy() for a in args]
            value, g = grad(*args)
            for a, b in zip(args, before):
                np.testing.assert_array_equal(a, b)
            assert value == pytest.approx(f(*args), rel=1e-10, abs=1e-10)
            assert adjit.jit(f)(*args) == pytest.approx(f(*args), rel=1e-10, abs=1e-10)
            _, tg = tape(*args)
            for k, gk, tk in zip(nums, _as_tuple(g), _as_tuple(tg)):
                assert np.shape(gk) == np.shape(args[k])
                np.testing.assert_allclose(gk, tk, rtol=1e-8, atol=1e-10, err_msg=f"{name}: tape, arg {k}")
                np.testing.assert_allclose(gk, _fd(f, args, k), rtol=1e-5, atol=1e-5,
                                           err_msg=f"{name}: finite differences, arg {k}")
            tangents = [RNG.normal(size=np.shape(a)) for a in args]
            jvalue, jt = adjit.jvp(f, tuple(args), tuple(tangents))
            assert jvalue == pytest.approx(value, rel=1e-12, abs=1e-12)
            assert jt == pytest.approx(_directional_fd(f, args, tangents), rel=1e-5, abs=1e-5), name
            want = sum(np.sum(gk * tangents[k]) for k, gk in zip(nums, _as_tuple(g)))
            assert jt == pytest.approx(want, rel=1e-9, abs=1e-9), name


def duplicates(x):
    a = np.zeros(3)
    a[np.array([0, 0, 1])] = np.array([1.0, 2.0, 3.0]) * x[0]
    return np.sum(x[np.array([1, 1, 1])]) + a[0] * 10.0 + a[1]


def test_duplicate_indices_accumulate_in_the_adjoint_and_last_write_wins():
    x = np.array([1.0, 2.0, 3.0])
    assert adjit.jit(duplicates)(x) == duplicates(x)
    np.testing.assert_array_equal(adjit.grad(duplicates)(x), [23.0, 3.0, 0.0])


def values(x, v, m):
    return (x[np.array([1, -1])], x[:, np.array([0, 0])], v[v > 0], np.cumsum(LABELS), np.cumsum(v > 0),
            np.cumprod(v), np.diff(v), np.diff(x, axis=0), np.sort(v), np.argsort(v), np.argmax(x, axis=1),
            np.argmin(x), np.argmax(v), np.repeat(v, 2), np.tile(x, 2), np.roll(v, 2), np.pad(v, (1, 2)),
            np.vstack((v, v)), np.hstack((x, x)), np.column_stack((v, v)), np.atleast_2d(v), np.flip(x, 0),
            np.squeeze(x[None], axis=0), np.swapaxes(x, 0, 1), np.moveaxis(x, 0, -1), np.tril(m, -1), np.triu(m),
            np.diag(v), np.diag(m, 1), np.diagonal(m), np.trace(m, offset=1), np.linalg.inv(m + 3 * np.eye(3)),
            np.linalg.det(m), np.linalg.slogdet(m)[0], np.einsum("ij,kj->ik", m, m), np.kron(v[:2], v[:3]),
            np.cross(m[0], m[1]), np.pad(LABELS, 1, constant_values=7), np.diag(LABELS), np.repeat(LABELS, 2),
            np.concatenate((x, x), 1), np.argsort(LABELS))


def test_jit_matches_numpy():
    x = RNG.uniform(-1, 1, size=(3, 4))
    v = np.array([0.5, -1.5, 2.0, 0.25, -0.3])
    m = RNG.uniform(-1, 1, size=(3, 3))
    got, want = adjit.jit(values)(x, v, m), values(x, v, m)
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want)):
        assert np.shape(a) == np.shape(b), k
        assert np.asarray(a).dtype == np.asarray(b).dtype, (k, np.asarray(a).dtype, np.asarray(b).dtype)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"result {k}")


def out_of_range(x):
    return np.sum(x[np.array([0, 3])])


def squeeze_bad(x):
    return np.sum(np.squeeze(x, axis=0))


def test_errors_at_run_time():
    with pytest.raises(IndexError):
        adjit.jit(out_of_range)(np.ones(3))
    with pytest.raises(ValueError):
        adjit.jit(squeeze_bad)(np.ones((2, 2)))
