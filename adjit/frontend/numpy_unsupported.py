"""What adjit says about NumPy it does not compile (issue 14, errors): "np.X is not supported"
with a suggestion that fits X, and the rule that a library's own Python source is never
inlined (np.row_stack, np.tri... are Python functions inside NumPy: reading their source
would refuse NumPy's internals, or compile them with the wrong meaning).
"""
import os
import sys
import sysconfig

import numpy as np

_ELSEWHERE = "compute it outside the function and pass the result in as an argument"

# a NumPy name -> what to write instead (adjit's subset, or the way around it)
SUGGESTIONS = {
    "row_stack": "np.vstack((a, b)) is the same", "tri": "np.tril(np.ones((n, m)))",
    "r_": "np.concatenate((a, b)) (np.arange(i, j) for a range)", "c_": "np.column_stack((a, b))",
    "ptp": "np.max(x) - np.min(x)", "iscomplexobj": "adjit's arrays are real float64",
    "partition": "np.sort(x)", "msort": "np.sort(x, axis=0)",
    "dstack": "np.stack or np.concatenate with axis=2",
    "cumulative_sum": "np.cumsum", "cumulative_prod": "np.cumprod", "broadcast_to": "arithmetic broadcasts: "
    "x + np.zeros(shape)", "delete": "slices and np.concatenate", "insert": "slices and np.concatenate",
    "take": "indexing with an int array: x[idx]", "take_along_axis": "an index array per axis",
    "ediff1d": "np.diff(np.ravel(x))", "convolve": "a loop over the kernel", "correlate": "a loop",
    "interp": "a loop with np.searchsorted-free bisection, or " + _ELSEWHERE,
    "median": "np.sort and the middle element(s)", "percentile": "np.sort and indexing",
    "quantile": "np.sort and indexing", "unique": _ELSEWHERE, "nonzero": "a boolean mask: x[mask]",
    "argwhere": "a boolean mask: x[mask]", "flatnonzero": "a boolean mask: x[mask]",
    "copyto": "a slice assignment: dst[...] = src", "put": "x[idx] = v", "place": "x[mask] = v",
}
for _n in ("nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanstd", "nanvar", "nancumsum", "nanargmax",
           "nanargmin"):
    SUGGESTIONS[_n] = f"mask the NaNs: np.{_n[3:]}(x[~np.isnan(x)]), or np.where(np.isnan(x), ..., x)"
LINALG = {
    "eig": "np.linalg.eigh for a symmetric matrix", "eigvals": "np.linalg.eigvalsh for a symmetric matrix",
    "svd": "np.linalg.eigh of x.T @ x for the singular values (their squares)", "pinv": "np.linalg.solve of "
    "the normal equations: np.linalg.solve(a.T @ a, a.T)", "lstsq": "np.linalg.solve(a.T @ a, a.T @ b)",
    "qr": "np.linalg.cholesky of a.T @ a", "matrix_power": "repeated @ in a loop",
    "matrix_rank": _ELSEWHERE, "cond": _ELSEWHERE, "multi_dot": "a chain of @",
    "tensorsolve": "np.linalg.solve", "tensorinv": "np.linalg.inv",
}
_RANDOM = "draw the random numbers outside the function and pass them in (compiled code is deterministic)"


def numpy_name(obj, path):
    """'np.X' (or 'np.linalg.X', 'np.random.X') when obj belongs to NumPy, else None."""
    module = getattr(obj, "__module__", None) or type(obj).__module__ or ""
    if isinstance(obj, np.ufunc) or module == "numpy" or module.startswith("numpy."):
        name = getattr(obj, "__name__", None) or path.rsplit(".", 1)[-1]
        if getattr(np.linalg, name, None) is obj:
            return f"np.linalg.{name}"
        if getattr(np.random, name, None) is obj or module.startswith("numpy.random"):
            return f"np.random.{name}"
        if getattr(np, name, None) is obj:
            return f"np.{name}"
        return path
    return None


def refusal(obj, path):
    """(message, hint) for a NumPy object adjit does not compile, or None if obj is not NumPy's."""
    name = numpy_name(obj, path)
    if name is None:
        return None
    short = name.rsplit(".", 1)[-1]
    if name.startswith("np.random"):
        hint = _RANDOM
    elif name.startswith("np.linalg"):
        hint = LINALG.get(short, "the np.linalg functions adjit compiles are solve, inv, det, slogdet, "
                                 "cholesky, eigh, eigvalsh and norm; or " + _ELSEWHERE)
    elif short in SUGGESTIONS:
        hint = SUGGESTIONS[short]
    else:
        hint = "write it with the functions adjit compiles, with a loop, or differentiate it with adjit.tape; " \
               "or " + _ELSEWHERE
    return f"{name} is not supported", f"{hint} (adjit's NumPy subset: docs/supported-python.md, 'The NumPy " \
                                       "array subset')"


_LIBRARY_DIRS = tuple({os.path.realpath(p) + os.sep for p in
                       (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], sysconfig.get_paths()["stdlib"],
                        os.path.dirname(np.__file__))})


def is_library_function(fn):
    """Is fn a Python function of NumPy or another installed library (not the user's code)?
    adjit inlines the user's helpers only."""
    module = getattr(fn, "__module__", None) or ""
    root = module.split(".")[0]
    if root in ("numpy", "scipy") or root in getattr(sys, "stdlib_module_names", ()):
        return True
    code = getattr(fn, "__code__", None)
    path = os.path.realpath(code.co_filename) if code is not None else ""
    return path.startswith(_LIBRARY_DIRS)
