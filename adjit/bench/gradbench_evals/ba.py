"""gradbench's ``ba`` eval: bundle adjustment (from ADBench).

n cameras (11 parameters each: Rodrigues rotation r, centre C, focal length f, principal
point u0 v0, radial distortion k1 k2), m points X and p observations; observation i sees
point ``obs[i, 1]`` from camera ``obs[i, 0]`` with weight w_i at feature ``feats[i]``:

    Xcam     = rotate(r, X - C)                     (Rodrigues; to first order when |r| = 0)
    proj     = distort(Xcam[:2] / Xcam[2]) * f + (u0, v0),  distort(q) = q (1 + k1 |q|^2 + k2 |q|^4)
    reproj_i = w_i (proj - feats[i])                 (2 numbers)
    w_err_i  = 1 - w_i^2.

The eval sends one camera, one point, one weight and one feature, and the tool repeats
them (n, m and p times; observation i uses camera i mod n and point i mod m) and must do
all the work.  The Jacobian is (3p) x (11n + 3m + p) and sparse: row block i depends on
one camera, one point and one weight.  So the user function is the residual of **one**
observation, one function per image coordinate, taking the 15 numbers it depends on,
and each 15-entry row of its block is ``adjit.grad`` of it (one reverse sweep per row),
called for every observation inside a compiled loop that also writes the sparse matrix
in the compressed-row form of the reference tool (rows are offsets, 15 entries per
reprojection row, then one per weight row).  The weight rows' entries are
``adjit.grad`` of 1 - w^2.  The answer carries the first 30 entries and the last one of
each list, as the eval asks.
"""
import math

import adjit
import numpy as np

from . import Eval, EvalFunction, floats

N_CAM = 11
BLOCK = N_CAM + 3 + 1      # the nonzero columns of one reprojection row


def project(r0, r1, r2, c0, c1, c2, f, u0, v0, k1, k2, x0, x1, x2):
    """The image of point x in the camera (r, c, f, u0, v0, k1, k2): a pair of numbers."""
    p0 = x0 - c0
    p1 = x1 - c1
    p2 = x2 - c2
    sq_theta = r0 * r0 + r1 * r1 + r2 * r2
    if sq_theta != 0.0:
        theta = math.sqrt(sq_theta)
        cos_t = math.cos(theta)
        sin_t = math.sin(theta)
        w0 = r0 / theta
        w1 = r1 / theta
        w2 = r2 / theta
        along = (w0 * p0 + w1 * p1 + w2 * p2) * (1.0 - cos_t)
        e0 = p0 * cos_t + (w1 * p2 - w2 * p1) * sin_t + w0 * along
        e1 = p1 * cos_t + (w2 * p0 - w0 * p2) * sin_t + w1 * along
        e2 = p2 * cos_t + (w0 * p1 - w1 * p0) * sin_t + w2 * along
    else:
        e0 = p0 + r1 * p2 - r2 * p1
        e1 = p1 + r2 * p0 - r0 * p2
        e2 = p2 + r0 * p1 - r1 * p0
    q0 = e0 / e2
    q1 = e1 / e2
    rsq = q0 * q0 + q1 * q1
    scale = 1.0 + k1 * rsq + k2 * rsq * rsq
    return q0 * scale * f + u0, q1 * scale * f + v0


# The two residuals of one observation, as functions of the 15 numbers it depends on (11
# camera parameters, 3 point coordinates, the weight) and of the feature.  Taking them as
# numbers, not arrays, makes their gradients tuples of numbers: the compiled loop below
# then allocates nothing per observation.
def residual_u(r0, r1, r2, c0, c1, c2, f, u0, v0, k1, k2, x0, x1, x2, w, feat_u, feat_v):
    return w * (project(r0, r1, r2, c0, c1, c2, f, u0, v0, k1, k2, x0, x1, x2)[0] - feat_u)


def residual_v(r0, r1, r2, c0, c1, c2, f, u0, v0, k1, k2, x0, x1, x2, w, feat_u, feat_v):
    return w * (project(r0, r1, r2, c0, c1, c2, f, u0, v0, k1, k2, x0, x1, x2)[1] - feat_v)


def weight_error(w):
    return 1.0 - w * w


WRT = tuple(range(BLOCK))          # camera, point, weight
gradient_u = adjit.grad(residual_u, argnums=WRT)
gradient_v = adjit.grad(residual_v, argnums=WRT)
weight_derivative = adjit.grad(weight_error)


def ba_objective(cams, xs, ws, obs, feats):
    p = obs.shape[0]
    reproj = np.empty(2 * p)
    w_err = np.empty(p)
    for i in range(p):
        c = cams[obs[i, 0]]
        x = xs[obs[i, 1]]
        pu, pv = project(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], x[0], x[1], x[2])
        reproj[2 * i] = ws[i] * (pu - feats[i, 0])
        reproj[2 * i + 1] = ws[i] * (pv - feats[i, 1])
    for i in range(p):
        w_err[i] = weight_error(ws[i])
    return reproj, w_err


def ba_jacobian(cams, xs, ws, obs, feats):
    """The sparse Jacobian as (rows, cols, vals): row r's entries are rows[r]:rows[r + 1]."""
    n = cams.shape[0]
    m = xs.shape[0]
    p = obs.shape[0]
    rows = np.empty(3 * p + 1, dtype=np.int64)
    cols = np.empty(2 * BLOCK * p + p, dtype=np.int64)
    vals = np.empty(2 * BLOCK * p + p)
    rows[0] = 0
    at = 0
    for i in range(p):
        cam = obs[i, 0]
        point = obs[i, 1]
        c = cams[cam]
        x = xs[point]
        for row in range(2):
            if row == 0:
                d = gradient_u(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10],
                               x[0], x[1], x[2], ws[i], feats[i, 0], feats[i, 1])
            else:
                d = gradient_v(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10],
                               x[0], x[1], x[2], ws[i], feats[i, 0], feats[i, 1])
            for j in range(N_CAM):
                cols[at + j] = N_CAM * cam + j
            for j in range(3):
                cols[at + N_CAM + j] = N_CAM * n + 3 * point + j
            cols[at + N_CAM + 3] = N_CAM * n + 3 * m + i
            for j in range(BLOCK):
                vals[at + j] = d[j]
            at += BLOCK
            rows[2 * i + row + 1] = at
    for i in range(p):
        cols[at] = N_CAM * n + 3 * m + i
        vals[at] = weight_derivative(ws[i])
        at += 1
        rows[2 * p + i + 1] = at
    return rows, cols, vals


def _arguments(inp):
    """The eval's one camera, point, weight and feature, repeated as the reference tool does."""
    n, m, p = int(inp["n"]), int(inp["m"]), int(inp["p"])
    cams = np.tile(floats(inp["cam"]), (n, 1))
    xs = np.tile(floats(inp["x"]), (m, 1))
    ws = np.full(p, float(inp["w"]))
    i = np.arange(p)
    obs = np.stack([i % n, i % m], axis=1).astype(np.int64)
    feats = np.tile(floats(inp["feat"]), (p, 1))
    return cams, xs, ws, obs, feats


def _objective_output(result):
    reproj, w_err = result
    return {"reproj_error": {"elements": reproj[:2].tolist(), "repeated": len(reproj) // 2},
            "w_err": {"element": float(w_err[0]), "repeated": len(w_err)}}


def _first_and_last(values):
    return values[:2 * BLOCK].tolist() + [values[-1].item()]


def _jacobian_output(result):
    rows, cols, vals = result
    return {"rows": _first_and_last(rows), "cols": _first_and_last(cols), "vals": _first_and_last(vals)}


def example_input():
    return {"n": 2, "m": 3, "p": 4,
            "cam": [0.1, -0.2, 0.3, 1.0, 2.0, -3.0, 400.0, 5.0, -8.0, 0.05, 0.002],
            "x": [7.0, 0.5, 3.0], "w": 0.4, "feat": [270.0, 830.0]}


EVAL = Eval(
    name="ba",
    functions={
        "objective": EvalFunction(adjit.jit(ba_objective), _arguments, _objective_output),
        "jacobian": EvalFunction(adjit.jit(ba_jacobian), _arguments, _jacobian_output),
    },
    example=example_input,
)
