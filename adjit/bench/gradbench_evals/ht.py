"""gradbench's ``ht`` eval: hand tracking (from ADBench).

A hand model of b bones (a tree: ``parents``, each bone's rest pose relative to its parent
``base_relatives`` and the inverse of its absolute rest pose ``inverse_base_absolutes``,
4 x 4 each) skins v vertices (homogeneous ``base_positions`` (v, 4), ``weights`` (v, b)).
theta (26) holds the global rotation (angle-axis), the global translation and 20 finger
angles.  The residuals are 3 per data point i:

    simple:       points[i] - vertex[corr[i]]
    complicated:  points[i] - (u_i0 vertex[t0] + u_i1 vertex[t1] + (1 - u_i0 - u_i1) vertex[t2]),
                  (t0, t1, t2) = triangles[corr[i]], u = us[i],

with the skinned vertices

    vertex = R_global (sum_bones weights[., bone] (absolute_bone inverse_base_absolute_bone base_position))[:3]
             + translation,

where bone i's absolute pose is its parent's times ``base_relatives[i]`` times the rotation
of its three Euler angles (x, z, y order as the reference: R = Rz Ry Rx).

The Jacobian is dense but narrow: 3n rows and 26 columns of theta (complicated: 2 more,
for u).  It is ``adjit.jacfwd`` in theta, one forward sweep per column.  The u columns
are not 2n columns: residual i depends on u_i only, so the reference reports the two
compressed columns d r / d u_(., 0) and d r / d u_(., 1).  The user function therefore
takes two extra numbers s0, s1 added to every u_i0 and u_i1 (they are 0: the residuals
are unchanged), and its derivative in s0 is exactly the first compressed column -- the
seed that colours all of u's first entries at once.  One ``jacfwd`` with argnums
(theta, s0, s1) gives all 28 columns.
"""
import math

import adjit
import numpy as np

from . import Eval, EvalFunction, floats, to_list


def matmul(a, b):
    """a @ b for the small matrices of the bones, as loops: the tangent sweeps of `@` call
    BLAS once per direction and product (26 x 5 calls per bone), which cost more than the
    arithmetic; loops keep every direction in the same loop nest."""
    out = np.zeros((a.shape[0], b.shape[1]))
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            acc = 0.0
            for l in range(a.shape[1]):
                acc += a[i, l] * b[l, j]
            out[i, j] = acc
    return out


def euler_rotation(tx, ty, tz):
    """Rz(tz) Ry(ty) Rx(tx), 3 x 3."""
    cx, sx = math.cos(tx), math.sin(tx)
    cy, sy = math.cos(ty), math.sin(ty)
    cz, sz = math.cos(tz), math.sin(tz)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]])
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rz = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    return matmul(matmul(rz, ry), rx)


def angle_axis_rotation(a0, a1, a2):
    norm = math.sqrt(a0 * a0 + a1 * a1 + a2 * a2)
    if norm < 0.0001:
        return np.eye(3)
    x = a0 / norm
    y = a1 / norm
    z = a2 / norm
    s = math.sin(norm)
    c = math.cos(norm)
    return np.array([[x * x + (1.0 - x * x) * c, x * y * (1.0 - c) - z * s, x * z * (1.0 - c) + y * s],
                     [x * y * (1.0 - c) + z * s, y * y + (1.0 - y * y) * c, y * z * (1.0 - c) - x * s],
                     [x * z * (1.0 - c) - y * s, z * y * (1.0 - c) + x * s, z * z + (1.0 - z * z) * c]])


def pose_angles(theta, bones):
    """The (bones, 3) Euler angles of each bone from theta: bones 0 and 1 (wrist) are not
    posed; each finger's first joint has two angles, its other two joints one, and the
    finger's tip bone none (the reference's ``to_pose_params``)."""
    angles = np.zeros((bones, 3))
    t = 6
    bone = 2
    for finger in range(5):
        for joint in range(3):
            angles[bone, 0] = theta[t]
            t += 1
            if joint == 0:
                angles[bone, 1] = theta[t]
                t += 1
            bone += 1
        bone += 1
    return angles


def skinned_vertices(theta, parents, base_relatives, inverse_base_absolutes, base_positions, weights,
                     mirrored, ids):
    """The (len(ids), 3) vertices ids[0], ids[1], ... posed by the bones, before the
    global rotation and translation (the residuals apply those: no second (len(ids), 3)
    array, nor its tangents, is filled)."""
    bones = parents.shape[0]
    angles = pose_angles(theta, bones)
    absolutes = np.zeros((bones, 4, 4))
    transforms = np.zeros((bones, 3, 4))
    for i in range(bones):
        posed = np.eye(4)
        posed[:3, :3] = euler_rotation(angles[i, 0], angles[i, 2], angles[i, 1])
        relative = matmul(base_relatives[i], posed)
        if parents[i] == -1:
            absolutes[i] = relative
        else:
            absolutes[i] = matmul(absolutes[parents[i]], relative)
        transforms[i] = matmul(absolutes[i], inverse_base_absolutes[i])[:3, :]
    nv = ids.shape[0]
    skinned = np.zeros((nv, 3))
    for slot in range(nv):
        v = ids[slot]
        for i in range(bones):
            weight = weights[v, i]
            if weight != 0.0:
                for r in range(3):
                    moved = 0.0
                    for c in range(4):
                        moved += transforms[i, r, c] * base_positions[v, c]
                    skinned[slot, r] += weight * moved
    if mirrored:
        skinned[:, 0] = -skinned[:, 0]
    return skinned


def used_vertices(vertices, nv):
    """The distinct entries of `vertices` (ids, in order of first use) and each vertex's
    row among them (`row`, -1 for a vertex not used): integer bookkeeping only."""
    row = np.full(nv, -1)
    ids = np.empty(vertices.shape[0], dtype=np.int64)
    count = 0
    for i in range(vertices.shape[0]):
        if row[vertices[i]] < 0:
            row[vertices[i]] = count
            ids[count] = vertices[i]
            count += 1
    return ids[:count], row


def ht_simple(theta, correspondences, points, parents, base_relatives, inverse_base_absolutes,
              base_positions, weights, mirrored):
    n = correspondences.shape[0]
    ids, row = used_vertices(correspondences, base_positions.shape[0])
    vertices = skinned_vertices(theta, parents, base_relatives, inverse_base_absolutes, base_positions,
                                weights, mirrored, ids)
    rotation = angle_axis_rotation(theta[0], theta[1], theta[2])
    err = np.empty(3 * n)
    for i in range(n):
        v = row[correspondences[i]]
        for j in range(3):
            hand = (rotation[j, 0] * vertices[v, 0] + rotation[j, 1] * vertices[v, 1]
                    + rotation[j, 2] * vertices[v, 2] + theta[3 + j])
            err[3 * i + j] = points[i, j] - hand
    return err


def ht_complicated(theta, s0, s1, us, correspondences, points, triangles, parents, base_relatives,
                   inverse_base_absolutes, base_positions, weights, mirrored):
    """The residuals with u_i = us[i] + (s0, s1); s0 = s1 = 0 (see the module docstring)."""
    n = correspondences.shape[0]
    corners = np.empty(3 * n, dtype=np.int64)
    for i in range(n):
        for corner in range(3):
            corners[3 * i + corner] = triangles[correspondences[i], corner]
    ids, row = used_vertices(corners, base_positions.shape[0])
    vertices = skinned_vertices(theta, parents, base_relatives, inverse_base_absolutes, base_positions,
                                weights, mirrored, ids)
    rotation = angle_axis_rotation(theta[0], theta[1], theta[2])
    err = np.empty(3 * n)
    for i in range(n):
        t = correspondences[i]
        u0 = us[i, 0] + s0
        u1 = us[i, 1] + s1
        a = row[triangles[t, 0]]
        b = row[triangles[t, 1]]
        c = row[triangles[t, 2]]
        # the point of the triangle, then the global transform (affine: the same point as
        # the combination of the three transformed corners, as u0 + u1 + u2 = 1)
        p0 = u0 * vertices[a, 0] + u1 * vertices[b, 0] + (1.0 - u0 - u1) * vertices[c, 0]
        p1 = u0 * vertices[a, 1] + u1 * vertices[b, 1] + (1.0 - u0 - u1) * vertices[c, 1]
        p2 = u0 * vertices[a, 2] + u1 * vertices[b, 2] + (1.0 - u0 - u1) * vertices[c, 2]
        for j in range(3):
            hand = rotation[j, 0] * p0 + rotation[j, 1] * p1 + rotation[j, 2] * p2 + theta[3 + j]
            err[3 * i + j] = points[i, j] - hand
    return err


complicated_columns = adjit.jacfwd(ht_complicated, argnums=(0, 1, 2))


def complicated_jacobian(theta, s0, s1, us, correspondences, points, triangles, parents, base_relatives,
                         inverse_base_absolutes, base_positions, weights, mirrored):
    """The reference's layout: the two u columns first, then theta's (compiled: no copy in Python)."""
    d_theta, d_u0, d_u1 = complicated_columns(theta, s0, s1, us, correspondences, points, triangles, parents,
                                              base_relatives, inverse_base_absolutes, base_positions, weights,
                                              mirrored)
    out = np.empty((d_theta.shape[0], d_theta.shape[1] + 2))
    out[:, 0] = d_u0
    out[:, 1] = d_u1
    out[:, 2:] = d_theta
    return out


FUNCTIONS = {False: (adjit.jit(ht_simple), adjit.jacfwd(ht_simple, argnums=0)),
             True: (adjit.jit(ht_complicated), adjit.jit(complicated_jacobian))}


def ht_objective(complicated, *args):
    return FUNCTIONS[complicated][0](*args)


def ht_jacobian(complicated, *args):
    return FUNCTIONS[complicated][1](*args)


def _arguments(inp):
    data, model = inp["data"], inp["data"]["model"]
    model_args = (np.asarray(model["parents"], dtype=np.int64), floats(model["base_relatives"]),
                  floats(model["inverse_base_absolutes"]), floats(model["base_positions"]),
                  floats(model["weights"]), bool(model["is_mirrored"]))
    theta = floats(inp["theta"])
    correspondences = np.asarray(data["correspondences"], dtype=np.int64)
    points = floats(data["points"])
    if len(inp["us"]) == 0:
        return (False, theta, correspondences, points) + model_args
    triangles = np.asarray(model["triangles"], dtype=np.int64)
    return (True, theta, 0.0, 0.0, floats(inp["us"]), correspondences, points, triangles) + model_args


def example_input(complicated=True):
    """A two-bone hand-like model: the wrist and one finger bone, as the real model's first
    bones would be used (the finger angles land on bones 2 and up, so this checks the
    global transform and the u columns)."""
    rng = np.random.default_rng(1)
    bones, nv = 22, 6
    parents = [-1] + [0] * (bones - 1)
    eye = np.eye(4)
    relatives = [(eye + 0.1 * np.pad(rng.standard_normal((3, 4)), ((0, 1), (0, 0)))).tolist() for _ in range(bones)]
    inverses = [(eye + 0.1 * np.pad(rng.standard_normal((3, 4)), ((0, 1), (0, 0)))).tolist() for _ in range(bones)]
    positions = np.hstack([rng.standard_normal((nv, 3)), np.ones((nv, 1))]).tolist()
    weights = np.where(rng.random((nv, bones)) < 0.3, rng.random((nv, bones)), 0.0).tolist()
    model = {"bone_count": bones, "bone_names": [f"b{i}" for i in range(bones)], "parents": parents,
             "base_relatives": relatives, "inverse_base_absolutes": inverses, "base_positions": positions,
             "weights": weights, "triangles": [[0, 1, 2], [3, 4, 5], [1, 3, 5]], "is_mirrored": False}
    n = 3
    return {"theta": rng.standard_normal(26).tolist(), "us": rng.random((n, 2)).tolist() if complicated else [],
            "data": {"model": model, "correspondences": [0, 2, 1], "points": rng.standard_normal((n, 3)).tolist()}}


EVAL = Eval(
    name="ht",
    functions={
        "objective": EvalFunction(ht_objective, _arguments, to_list),
        "jacobian": EvalFunction(ht_jacobian, _arguments, to_list),
    },
    example=lambda: example_input(True),
    more_examples=lambda: [example_input(False)],
)
