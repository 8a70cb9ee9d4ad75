"""Issue 14, the rest: rot90, split/array_split, append, atleast_1d/2d/3d of numbers and
arrays, concatenate(axis=None), einsum with '...' and implicit output, np.linalg.eigh,
np.maximum.accumulate; and the refusals of what adjit does not compile.  Each function's
gradient is checked against central differences and adjit.tape at two points (the harness of
test_numpy_coverage2), its forward-mode derivative, and adjit.jit against NumPy.
"""
import numpy as np
import pytest

import adjit
from test_numpy_coverage2 import check_case

RNG = np.random.default_rng(1407)
W = np.arange(6.0).reshape(2, 3) - 2.5


def shapes(x, y):
    u, v, w = np.split(x, 3, axis=1)
    p, q = np.array_split(y, 2, axis=1)
    r, s, t = np.split(y, [1, 2], axis=1)
    return np.sum(np.rot90(x) * W.T) + np.sum(np.rot90(x, 2) * W) + np.sum(np.rot90(y, k=3, axes=(1, 0)) ** 3) \
        + np.sum(np.rot90(x, -1) ** 2 * W.T) + np.sum(u * v * w) + np.sum(p ** 2) + np.sum(q ** 3) \
        + np.sum(r * s) + np.sum(t ** 3) + np.sum(np.append(x, y) ** 3) + np.sum(np.append(x, y, axis=0) * 2.0) \
        + np.sum(np.append(x[0], x[1, 1]) ** 3) + np.sum(np.concatenate((x, y[0]), axis=None) ** 3) \
        + np.sum(np.atleast_1d(x[0, 0]) * 3.0) + np.sum(np.atleast_2d(x[1, 2]) ** 2) \
        + np.sum(np.atleast_3d(x[0]) * W[0][None, :, None]) + np.sum(np.atleast_3d(y) ** 3) \
        + np.sum(np.atleast_3d(x[1, 0]) * 2.0) + np.sum(np.atleast_2d(x) * y) + np.sum(np.split(x[0], 3)[1] ** 2) \
        + np.sum(np.append((x[0, 0], x[0, 1], y[1, 1]), x[1, 2]) ** 2) + np.sum(np.append([x[0], y[0]], [x[1]], axis=0) ** 3)


def contractions(a, b):
    return np.sum(np.einsum("...j,...j->...", a, b) ** 2) + np.sum(np.einsum("ij,kj", a, b) ** 2) \
        + np.sum(np.einsum("...ij,j->...i", a[None], b[0]) ** 3) + np.einsum("ij,ij", a, b) \
        + np.sum(np.einsum("i...,i...->...", a, b) ** 2) + np.sum(np.einsum("j,...j", b[1], a) ** 2)


def statistics(a, b):
    # std of one element per column is constant (0): its derivative is 0, adjit's convention
    return np.sum(np.std(a[:1], axis=0) * b[0]) + np.std(a) + np.sum(np.std(a, axis=1, keepdims=True) * b) \
        + np.var(a[0, 0]) + np.std(b[1, 1])


def eigh(a, b):
    m = a + a.T + np.diag(np.arange(3.0)) * 3.0   # symmetric, eigenvalues apart
    w, v = np.linalg.eigh(m)
    wu, vu = np.linalg.eigh(a + np.diag(np.arange(3.0)) * 3.0, UPLO="U")   # reads one triangle of a
    vs = v * np.sign(v[0])                             # eigenvectors' signs fixed: a smooth function
    return np.sum(w * b[0]) + np.sum(vs * b) + np.sum(np.linalg.eigvalsh(a) ** 2) + np.sum(wu ** 3) \
        + np.sum((vu * np.sign(vu[0])) ** 3 * b)


def scans(a, b):
    return np.sum(np.maximum.accumulate(a, axis=1) * b) + np.sum(np.minimum.accumulate(a) ** 2 * b) \
        + np.sum(np.add.accumulate(a[0]) ** 2) + np.sum(np.multiply.accumulate(a, axis=1) * b) \
        + np.sum(np.maximum.accumulate(b[1]) ** 3)


def norms(a, b):
    return np.linalg.norm(a) + np.sum(np.linalg.norm(a, axis=1) * b[0, :2]) + np.linalg.norm(a[0], ord=1) \
        + np.linalg.norm(a[1], np.inf) + np.linalg.norm(a[0], 3) + np.linalg.norm(a, 1) \
        + np.linalg.norm(a, -np.inf) + np.sum(np.linalg.norm(a, axis=0, keepdims=True) * b) \
        + np.sum(np.linalg.norm(a, ord=1, axis=1) * b[1, :2]) + np.linalg.norm(a, "fro") \
        + np.linalg.norm(a[None] * 2.0) + np.sum(np.linalg.norm(a[:, :, None] * b[:, None, :], ord=np.inf, axis=(0, 2)))


def real_arrays(a, b):
    # the complex-number functions on real arrays, np.array of a number, a list as an index
    return np.sum(np.real(a) * b) + np.sum(np.imag(a) + np.conj(a) ** 2) + np.sum(np.angle(a) * a) \
        + np.sum(np.real_if_close(b) ** 2) + np.real(a[0, 0]) * 2.0 + np.sum(np.nan_to_num(a) * b) \
        + np.sum(np.array(a[0, 0]) * b) + np.sum(a[[0, 1]] * b) + np.sum(a[:, [0, 2, 2]] ** 2) \
        + np.sum(a[[1, 0], [2, 0]] ** 3) + np.sum(np.kron(a[0], b) ** 2) + np.sum(np.kron(2.0, b) * a) \
        + np.sum(np.inner(a, 3.0) * b) + np.sum(np.kron(a[None], b) ** 2) + np.sum(np.transpose(a, axes=None) * b.T)


def differences(a, b):
    g0, g1 = np.gradient(a)
    p, q = np.hsplit(a, [1])
    return np.sum(np.gradient(a[0]) ** 2 * b[0]) + np.sum(g0 * b) + np.sum(g1 ** 3) \
        + np.sum(np.gradient(a, axis=1) * b) + np.sum(np.cross(a.T, b, axisb=0) ** 3) \
        + np.sum(np.cross(a, b, axis=0) * a) + np.sum(p ** 2) + np.sum(q ** 3) + np.sum(np.vsplit(a, 3)[1] * b[0]) \
        + np.sum(np.concatenate(np.split(a, 3, axis=1), axis=0) ** 2 * b[0, 0]) \
        + np.sum(np.vstack(np.hsplit(b, 3)) * 2.0 * a[0, 0]) + np.sum(np.tensordot(a[0], 2.0, axes=0) * b[0]) \
        + np.sum(np.rollaxis(a[None] * b, 2, 1)[0] ** 2)


def diagonals(a, b):
    t = a[:, :, None] * b[None, :, :]
    return np.sum(np.trace(t) ** 2) + np.sum(np.trace(t, 1, axis1=1, axis2=2) * 3.0) \
        + np.sum(np.diagonal(t, -1, 2, 0) ** 3) + np.trace(a) + np.trace(a, axis1=1, axis2=0, offset=1) \
        + np.sum(t.diagonal(0, 0, 2) ** 2) + np.sum(np.tril(t, -1) ** 2) + np.sum(np.triu(t) * t)


CASES = {
    "diagonals": (diagonals, [((3, 3), (3, 3))], (0, 1)),
    "differences": (differences, [((3, 3), (3, 3))], (0, 1)),
    "norms": (norms, [((2, 3), (2, 3))], (0, 1)),
    "real_arrays": (real_arrays, [((2, 3), (2, 3))], (0, 1)),
    "scans": (scans, [((2, 3), (2, 3)), ((3, 4), (3, 4))], (0, 1)),
    "shapes": (shapes, [((2, 3), (2, 3))], (0, 1)),
    "contractions": (contractions, [((2, 3), (2, 3))], (0, 1)),
    "statistics": (statistics, [((2, 3), (2, 3))], (0, 1)),
    "eigh": (eigh, [((3, 3), (3, 3))], (0, 1)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_and_jvp(name):
    check_case(name, *CASES[name])


def values(x, v):
    a, b = np.array_split(v, 2)
    return (np.rot90(x), np.rot90(x, 3, axes=(0, 1)), np.append(v, 2.0), np.append(x, x, axis=1), a, b,
            np.split(x, 2, axis=1)[1], np.atleast_3d(v), np.atleast_3d(x), np.atleast_1d(2.5), np.atleast_2d(v[0]),
            np.concatenate((x, v), axis=None), np.maximum.accumulate(x, axis=1), np.minimum.accumulate(v),
            np.maximum.accumulate(np.array([1.0, np.nan, 3.0])), np.add.accumulate(x), np.linalg.norm(x, axis=0),
            np.linalg.norm(x, 1), np.linalg.norm(v, 0), np.linalg.norm(x, np.inf, axis=1, keepdims=True),
            np.nan_to_num(np.array([np.nan, np.inf, -np.inf, 1.0])), np.angle(v), np.imag(x), x[[0, 2]],
            np.kron(v[:2], x), np.inner(x, 2.0), np.trace(x[:, :, None] * x[:, None, :3]), np.diagonal(x[None], 1, 1, 2),
            np.gradient(x, axis=1), np.gradient(x)[0], np.gradient(v), np.rollaxis(x[None], 2), np.cross(x[:, :3], x[::-1, 1:], axisc=0))


def test_jit_matches_numpy():
    x = RNG.uniform(-1, 1, size=(3, 4))
    v = np.array([0.5, -1.5, 2.0, 0.25, -0.3])
    got, want = adjit.jit(values)(x, v), values(x, v)
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want)):
        assert np.shape(a) == np.shape(b), k
        assert np.asarray(a).dtype == np.asarray(b).dtype, k
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"result {k}")


def uneven(x):
    return np.sum(np.split(x, 2)[0])


def test_split_into_unequal_parts_raises_as_numpy():
    with pytest.raises(ValueError):
        adjit.jit(uneven)(np.ones(3))


def uses_row_stack(x):
    return np.sum(np.row_stack((x, x)))


def uses_tri(x):
    return np.sum(np.tri(2, 3) * x)


def uses_nanmean(x):
    return np.nanmean(x)


def uses_r_(x):
    return np.sum(np.r_[x, x])


def uses_svd(x):
    return np.sum(np.linalg.svd(x)[1])


def uses_random(x):
    return np.sum(np.random.randn(2, 3) * x)


def mean_of_tuple(x):
    return np.mean((x, 2))


@pytest.mark.parametrize("f, message, hint", [
    (uses_row_stack, "np.row_stack is not supported", "np.vstack"),   # NumPy's own Python: never inlined
    (uses_tri, "np.tri is not supported", "np.tril(np.ones"),
    (uses_nanmean, "np.nanmean is not supported", "mask the NaNs"),
    (uses_r_, "np.r_ is not supported", "np.concatenate"),           # not "a RClass"
    (uses_svd, "np.linalg.svd is not supported", "eigh"),
    (uses_random, "np.random.randn is not supported", "outside"),
])
def test_refusals_name_the_numpy_function_and_suggest_a_spelling(f, message, hint):
    with pytest.raises(adjit.AdjitError) as info:
        adjit.grad(f)(np.ones((2, 3)))
    text = str(info.value)
    assert message in text and hint in info.value.hint
    assert "test_numpy_coverage3.py:" in text                   # the user's line
    assert "_impl" not in text and "site-packages" not in text  # nothing from inside NumPy


def test_no_internal_type_names():
    with pytest.raises(adjit.AdjitError) as info:
        adjit.grad(mean_of_tuple)(np.ones(3))
    assert "Tup" not in str(info.value) and "tuple" in str(info.value)


# ---- docs/supported-python.md's NumPy tables against the frontend's ---------------------------------
def _frontend_numpy_names():
    from adjit.frontend import arrays, calls, numpy_build, numpy_shapes, numpy_stats, numpy_ufuncs
    from adjit.frontend.numpy_unsupported import numpy_name
    tables = [calls.SCALAR_FUNCTIONS, calls._ALLOC, calls._ALLOC_LIKE, arrays.ARRAY_FUNCTIONS, arrays.JOINS,
              arrays._REDUCTIONS, numpy_build.FUNCTIONS, numpy_shapes.FUNCTIONS, numpy_stats.FUNCTIONS,
              numpy_ufuncs._OPERATORS, numpy_ufuncs._ELEMENTWISE, numpy_ufuncs._UNARY,
              [np.power, np.copy, np.float64, np.int64]]   # the ones calls.py tests one by one
    names = {numpy_name(obj, "") for table in tables for obj in table} - {None}
    return names | {numpy_name(u, "") + ".accumulate" for u in numpy_ufuncs._ACCUMULATE}


def _documented_numpy_names():
    """The NumPy callables named in the supported rows of the Calls table and in the NumPy
    subset table: `np.x`, `np.linalg.x`, `np.maximum.accumulate`, and lists `np.exp log ...`."""
    import pathlib
    import re
    text = (pathlib.Path(__file__).parent.parent / "docs" / "supported-python.md").read_text()
    calls = text[text.index("## Calls"):text.index("## Extra rules")]
    subset = text[text.index("## The NumPy array subset"):]
    rows = [r for r in calls.splitlines() if r.startswith("|") and "✓" in r] + \
        [r for r in subset.splitlines() if r.startswith("| ") and not r.startswith("| operation")]
    names = set()
    for row in rows:
        for span in re.findall(r"`([^`]*)`", row.split(" | ")[0] + " | " + row.split(" | ")[1]):
            if re.fullmatch(r"np\.\w+( \w+)+", span):   # a list: `np.exp log log1p`
                names |= {"np." + w for w in span[3:].split()}
                continue
            names |= set(re.findall(r"np\.\w+(?:\.\w+)*", span))
    out = set()
    for name in names:
        obj = np
        for part in name.split(".")[1:]:
            obj = getattr(obj, part, None)
        if callable(obj):   # np.inf, np.newaxis are constants
            out.add(name)
    return out


def test_the_docs_numpy_tables_match_the_frontend():
    from adjit.frontend.numpy_unsupported import numpy_name
    documented = {numpy_name(eval(n, {"np": np}), n) if not n.endswith(".accumulate") else n
                  for n in _documented_numpy_names()}
    compiled = _frontend_numpy_names()
    assert sorted(compiled - documented) == [], "compiled by adjit but not in docs/supported-python.md"
    assert sorted(documented - compiled) == [], "in docs/supported-python.md but not compiled"


def test_no_suggestion_names_a_supported_function():
    from adjit.frontend.numpy_unsupported import SUGGESTIONS
    compiled = _frontend_numpy_names()
    assert sorted(n for n in SUGGESTIONS if "np." + n in compiled) == []
