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
observation, and its 2 x 15 block is ``adjit.jacrev`` of it (two reverse sweeps, one
per output), called for every observation inside a compiled loop that also writes the
sparse matrix in the compressed-row form of the reference tool (rows are offsets, 15
entries per reprojection row, then one per weight row).  The weight rows' entries are
``adjit.grad`` of 1 - w^2.  The answer carries the first 30 entries and the last one of
each list, as the eval asks.
"""
import math

import adjit
import numpy as np

from . import Eval, EvalFunction, floats

N_CAM = 11
BLOCK = N_CAM + 3 + 1      # the nonzero columns of one reprojection row


def reprojection(cam, x, w, feat):
    """The weighted reprojection error of one observation: an array of 2."""
    p0 = x[0] - cam[3]
    p1 = x[1] - cam[4]
    p2 = x[2] - cam[5]
    sq_theta = cam[0] * cam[0] + cam[1] * cam[1] + cam[2] * cam[2]
    if sq_theta != 0.0:
        theta = math.sqrt(sq_theta)
        cos_t = math.cos(theta)
        sin_t = math.sin(theta)
        r0 = cam[0] / theta
        r1 = cam[1] / theta
        r2 = cam[2] / theta
        along = (r0 * p0 + r1 * p1 + r2 * p2) * (1.0 - cos_t)
        c0 = p0 * cos_t + (r1 * p2 - r2 * p1) * sin_t + r0 * along
        c1 = p1 * cos_t + (r2 * p0 - r0 * p2) * sin_t + r1 * along
        c2 = p2 * cos_t + (r0 * p1 - r1 * p0) * sin_t + r2 * along
    else:
        c0 = p0 + cam[1] * p2 - cam[2] * p1
        c1 = p1 + cam[2] * p0 - cam[0] * p2
        c2 = p2 + cam[0] * p1 - cam[1] * p0
    q0 = c0 / c2
    q1 = c1 / c2
    rsq = q0 * q0 + q1 * q1
    scale = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq
    err = np.empty(2)
    err[0] = w * (q0 * scale * cam[6] + cam[7] - feat[0])
    err[1] = w * (q1 * scale * cam[6] + cam[8] - feat[1])
    return err


def weight_error(w):
    return 1.0 - w * w


block_jacobian = adjit.jacrev(reprojection, argnums=(0, 1, 2))
weight_derivative = adjit.grad(weight_error)


def ba_objective(cams, xs, ws, obs, feats):
    p = obs.shape[0]
    reproj = np.empty(2 * p)
    w_err = np.empty(p)
    for i in range(p):
        err = reprojection(cams[obs[i, 0]], xs[obs[i, 1]], ws[i], feats[i])
        reproj[2 * i] = err[0]
        reproj[2 * i + 1] = err[1]
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
        d_cam, d_x, d_w = block_jacobian(cams[cam], xs[point], ws[i], feats[i])
        for row in range(2):
            for j in range(N_CAM):
                cols[at] = N_CAM * cam + j
                vals[at] = d_cam[row, j]
                at += 1
            for j in range(3):
                cols[at] = N_CAM * n + 3 * point + j
                vals[at] = d_x[row, j]
                at += 1
            cols[at] = N_CAM * n + 3 * m + i
            vals[at] = d_w[row]
            at += 1
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
