"""gradbench's ``kmeans`` eval: the k-means cost and one Newton direction.

With n points P (n, d) and k centroids C (k, d),

    cost(P, C) = sum_i min_j |C_j - P_i|^2.

``dir`` is J H^-1, where J is the gradient of the cost in C and H its Hessian in C.
H is diagonal (each centroid's entries appear only in squared distances of their own
coordinate), so H^-1 is the reciprocal of each diagonal entry, and the diagonal is
H @ 1: one Hessian-vector product with an all-ones tangent gives all of it.  ``dir``
is therefore one forward-over-reverse sweep, ``adjit.jvp`` of ``adjit.grad(cost)`` along
(0, 1), which returns the gradient and H @ 1 together, and one division.

The minimum is taken by the index of the closest centroid (integer bookkeeping), then
that one distance is added: the gradient then flows only to the closest centroid, and
no float is taped for the comparisons.
"""
import adjit
import numpy as np

from . import Eval, EvalFunction, floats, to_float, to_list


def kmeans_cost(points, centroids):
    n = points.shape[0]
    d = points.shape[1]
    k = centroids.shape[0]
    cost = 0.0
    for i in range(n):
        best = 0
        closest = 0.0
        for j in range(k):
            dist = 0.0
            for l in range(d):
                diff = points[i, l] - centroids[j, l]
                dist += diff * diff
            if j == 0 or dist < closest:
                best = j
                closest = dist
        nearest = 0.0
        for l in range(d):
            diff = points[i, l] - centroids[best, l]
            nearest += diff * diff
        cost += nearest
    return cost


cost_gradient = adjit.grad(kmeans_cost, argnums=1)


def newton_direction(points, centroids, no_points, ones):
    """J H^-1 for the diagonal Hessian H: the gradient and H @ 1 in one jvp of the gradient.

    `no_points` (zeros like the points) and `ones` (like the centroids) are the tangent,
    made once per input, outside the timings: they are constants of the direction."""
    gradient, diagonal = adjit.jvp(cost_gradient, (points, centroids), (no_points, ones))
    return gradient / diagonal


def _cost_arguments(inp):
    return (floats(inp["points"]), floats(inp["centroids"]))


def _dir_arguments(inp):
    points, centroids = _cost_arguments(inp)
    return (points, centroids, np.zeros_like(points), np.ones_like(centroids))


EVAL = Eval(
    name="kmeans",
    functions={
        "cost": EvalFunction(adjit.jit(kmeans_cost), _cost_arguments, to_float),
        "dir": EvalFunction(newton_direction, _dir_arguments, to_list),
    },
    example=lambda: {"points": [[0.0, 1.0], [0.5, 0.25], [1.0, 0.0], [0.75, 0.5]],
                     "centroids": [[1.0, 0.0], [0.75, 0.5]]},
)
