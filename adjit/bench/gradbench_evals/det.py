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
reference's floating-point work.  The last three rows have no levels of their own: their
3 x 3 minor is written out (``minor3``, the same nine products), which makes the walk,
and the gradient's tape of it, six times shorter.

The input is A in row-major order (``A``, length ell^2) and ``ell``; the gradient is
returned in the same order.
"""
import adjit
import numpy as np

from . import Eval, EvalFunction, floats, to_float, to_list


def minor3(a, r, c0, c1, c2):
    """The determinant of rows r, r + 1, r + 2 and columns c0 < c1 < c2 of a, expanded along
    its first row: the recursion's last three levels, written out."""
    return (a[r, c0] * (a[r + 1, c1] * a[r + 2, c2] - a[r + 1, c2] * a[r + 2, c1])
            - a[r, c1] * (a[r + 1, c0] * a[r + 2, c2] - a[r + 1, c2] * a[r + 2, c0])
            + a[r, c2] * (a[r + 1, c0] * a[r + 2, c1] - a[r + 1, c1] * a[r + 2, c0]))


def det_by_minors(a):
    n = a.shape[0]
    if n < 4:
        return small_det(a)
    return walk_minors(a)


def small_det(a):
    n = a.shape[0]
    if n == 1:
        return a[0, 0]
    if n == 2:
        return a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
    return minor3(a, 0, 0, 1, 2)


def walk_minors(a):
    """The expansion of a matrix of 4 or more rows, with the stack of levels."""
    n = a.shape[0]
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
        else:
            column[k] = c
            used[c] = True
            if k == n - 4:
                # the child is the 3 x 3 minor of the last three rows, on the three free columns
                c0 = -1
                c1 = -1
                c2 = -1
                for j in range(n):
                    if not used[j]:
                        if c0 < 0:
                            c0 = j
                        elif c1 < 0:
                            c1 = j
                        else:
                            c2 = j
                partial[k] += sign[k] * a[k, c] * minor3(a, n - 3, c0, c1, c2)
                sign[k] = -sign[k]
            else:
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
