"""Small Numba functions the generated code calls (``_rt.name``).

They live in a real module with ``cache=True`` so generated code that calls them can
itself be cached on disk.
"""

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
def add_into(target, source):
    """target += source for two arrays of the same shape (adjoint of a copy)."""
    t = target.reshape(-1)
    s = source.reshape(-1)
    for k in range(t.shape[0]):
        t[k] += s[k]

