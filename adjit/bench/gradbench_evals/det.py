"""gradbench's ``det`` eval (after cmpad's ``det_by_minor``): the determinant of an
ell x ell matrix by expansion by minors, and its gradient.

Expansion by minors along the first row, recursively:

    det(M) = sum_j (-1)^j M[0, j] det(M without row 0 and column j),

down to 1 x 1 minors.  adjit refuses recursion, so ``det_by_minors`` walks the same tree
of minors with an explicit stack: level k is row k of the matrix, ``column[k]`` the
column it uses in the current minor, and ``partial[k]`` the sum of the terms of the
level-k minor computed so far.  When level k has used all its free columns, its minor
is finished and is added into level k - 1's sum, multiplied by that level's entry and
sign -- the recursion's return.  Every node of the tree costs one multiply-add, as in
the reference implementation (no minor is shared or memoised), so the primal does the
reference's floating-point work; the last row needs no level of its own (its 1 x 1
minor is the one free column).

The input is A in row-major order (``A``, length ell^2) and ``ell``; the gradient is
returned in the same order.
"""
import adjit
import numpy as np

from . import Eval, EvalFunction, floats, to_float, to_list


def det_by_minors(a):
    n = a.shape[0]
    if n == 1:
        return a[0, 0]
    column = np.full(n, -1)            # column of row k in the current minor; -1: not chosen yet
    used = np.zeros(n, dtype=np.bool_)
    sign = np.ones(n)                  # (-1)^(free columns of row k passed so far)
    partial = np.zeros(n)
    k = 0
    while True:
        if column[k] >= 0:
            used[column[k]] = False
        c = column[k] + 1
        while c < n and used[c]:
            c += 1
        if c == n:
            # the level-k minor is complete: return its determinant to level k - 1
            if k == 0:
                return partial[0]
            k -= 1
            partial[k] += sign[k] * a[k, column[k]] * partial[k + 1]
            sign[k] = -sign[k]
        elif k == n - 2:
            # the last row's 1 x 1 minor: the one column left free besides c
            column[k] = c
            last = 0
            while last == c or used[last]:
                last += 1
            partial[k] += sign[k] * a[k, c] * a[n - 1, last]
            sign[k] = -sign[k]
        else:
            column[k] = c
            used[c] = True
            k += 1
            column[k] = -1
            partial[k] = 0.0
            sign[k] = 1.0


def _arguments(inp):
    ell = int(inp["ell"])
    return (floats(inp["A"]).reshape(ell, ell),)


def _flat(grad):
    return to_list(np.asarray(grad).ravel())


EVAL = Eval(
    name="det",
    functions={
        "primal": EvalFunction(adjit.jit(det_by_minors), _arguments, to_float),
        "gradient": EvalFunction(adjit.grad(det_by_minors), _arguments, _flat),
    },
    example=lambda: {"A": [2.0, 0.5, 1.0, -1.0, 3.0, 0.25, 0.5, 1.5, 4.0], "ell": 3},
)
