"""gradbench's default workloads, generated as its evals generate them.

The recorded sessions (``tests/data/gradbench``) hold only the first, smallest
workloads of each eval.  For timing, this module makes the rest of the default sets of
gradbench's eval scripts (python/gradbench/gradbench/evals/*/run.py): the same sizes,
seeds and generators, so the inputs are the ones gradbench sends (the tests check that
the first ones equal the recorded inputs).  lstm reads ADBench's data files (``tests/data/adbench``); only the
c = 1024 files are there, so its c = 4096 workloads are missing.  ba and ht read
gradbench's data files (``evals/ba/data``, ``evals/ht/data``), from a gradbench checkout.

Each workload is an evaluate message's ``(function, input, description)`` pair list.
"""
from pathlib import Path

import numpy as np

DEFAULTS = {
    "lse": {"n": [2500, 5000, 10000, 20000, 40000, 80000, 160000, 320000, 640000, 1280000]},
    "llsq": {"n": [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8196, 16392], "m": [128]},
    "ode": {"n": [1000, 10000, 100000], "s": [1, 10, 100]},
    "gmm": {"d": [2, 10, 20, 32, 64], "k": [5, 10, 25, 50, 100], "n": 1000},
    "lstm": {"l": [2, 4], "c": [1024, 4096]},
    "kmeans": {"k": [10, 100, 1000], "n": [1000, 10000], "d": [8, 16]},
    "det": {"ell": [5, 6, 7, 8, 9, 10, 11]},
    "ba": {"i": range(1, 15)},                          # evals/ba/data/ba{i}_*.txt
    "ht": {"i": range(1, 13), "model": "big", "variant": "complicated"},
}

FUNCTIONS = {"lse": ("primal", "gradient"), "llsq": ("primal", "gradient"), "ode": ("primal", "gradient"),
             "gmm": ("objective", "jacobian"), "lstm": ("objective", "jacobian"),
             "kmeans": ("cost", "dir"), "det": ("primal", "gradient"), "ba": ("objective", "jacobian"),
             "ht": ("objective", "jacobian"), "ht_simple": ("objective", "jacobian")}


def _lse():
    np.random.seed(31337)
    for n in DEFAULTS["lse"]["n"]:
        yield {"x": np.random.rand(n).tolist()}, f"n={n}", n


def _llsq():
    np.random.seed(31337)
    for n, m in sorted(((n, m) for n in DEFAULTS["llsq"]["n"] for m in DEFAULTS["llsq"]["m"]),
                       key=lambda v: v[0] * v[1]):
        yield {"x": np.random.rand(m).tolist(), "n": n}, f"n={n},m={m}", n * m


def _ode():
    np.random.seed(31337)
    for n, s in sorted(((n, s) for n in DEFAULTS["ode"]["n"] for s in DEFAULTS["ode"]["s"]),
                       key=lambda v: v[0] * v[1]):
        yield {"x": np.random.rand(n).tolist(), "s": s}, f"n={n},s={s}", n * s


def gmm_input(seed, d, k, n, m=0, gamma=1.0):
    """gradbench's gmm generator: the draws in its order (x, alpha, mu, q, l, as the
    recorded session shows), from default_rng(seed)."""
    rng = np.random.default_rng(seed=seed)
    x = [list(rng.normal(size=d)) for _ in range(n)]
    alpha = list(rng.normal(size=k))
    mu = [list(rng.uniform(size=d)) for _ in range(k)]
    q = [list(rng.normal(size=d)) for _ in range(k)]
    l = [list(rng.normal(size=d * (d - 1) // 2)) for _ in range(k)]
    return {"d": d, "k": k, "n": n, "x": x, "m": m, "gamma": gamma, "mu": mu, "q": q, "l": l, "alpha": alpha}


def _gmm():
    n = DEFAULTS["gmm"]["n"]
    for d, k in sorted(((d, k) for d in DEFAULTS["gmm"]["d"] for k in DEFAULTS["gmm"]["k"]),
                       key=lambda v: v[0] * v[1]):
        yield gmm_input(31337, d, k, n), f"{d}_{k}_{n}", n * k * d * d


def read_adbench_lstm(path):
    """ADBench's lstm text format: `l c b`, then main params, extra params, state, sequence."""
    blocks = [[list(map(float, line.split())) for line in block.strip().splitlines()]
              for block in Path(path).read_text().split("\n\n") if block.strip()]
    header, main, extra, state, sequence = blocks[:5]
    return {"main_params": main, "extra_params": extra, "state": state, "sequence": sequence}


def _lstm(adbench):
    for l in DEFAULTS["lstm"]["l"]:
        for c in DEFAULTS["lstm"]["c"]:
            path = Path(adbench) / "data" / "lstm" / f"lstm_l{l}_c{c}.txt"
            if path.is_file():
                yield read_adbench_lstm(path), path.stem, l * c


def _kmeans():
    np.random.seed(31337)
    sizes = DEFAULTS["kmeans"]
    for k, n, d in sorted(((k, n, d) for k in sizes["k"] for n in sizes["n"] for d in sizes["d"]),
                          key=lambda v: v[0] * v[1] * v[2]):
        points = np.random.rand(n, d).tolist()
        # the last k points are the centroids: every cluster has a point
        yield {"points": points, "centroids": points[-k:]}, f"k={k},n={n},d={d}", k * n * d


def _det():
    np.random.seed(31337)
    for ell in DEFAULTS["det"]["ell"]:
        yield {"A": np.random.rand(ell * ell).tolist(), "ell": ell}, f"{ell}", ell


def read_ba(path):
    """A ba data file: `n m p`, then one camera, one point, one weight and one feature."""
    lines = Path(path).read_text().splitlines()
    n, m, p = (int(v) for v in lines[0].split())
    numbers = [[float(v) for v in line.split()] for line in lines[1:5]]
    return {"n": n, "m": m, "p": p, "cam": numbers[0], "x": numbers[1], "w": numbers[2][0], "feat": numbers[3]}


def _ba(evals):
    for i in DEFAULTS["ba"]["i"]:
        path = next((Path(evals) / "ba" / "data").glob(f"ba{i}_*.txt"), None)
        if path is not None:
            inp = read_ba(path)
            yield inp, path.stem, inp["p"]


def read_ht_model(folder):
    """ADBench's hand model folder (bones.txt, vertices.txt, triangles.txt; ':'-separated)
    as the eval's ``model`` object."""
    folder = Path(folder)
    bones = [line.split(":") for line in (folder / "bones.txt").read_text().splitlines() if line.strip()]
    names = [b[0] for b in bones]
    positions, weights = [], []
    for line in (folder / "vertices.txt").read_text().splitlines():
        if not line.strip():
            continue
        atoms = line.split(":")
        positions.append([float(v) for v in atoms[:3]] + [1.0])
        row = [0.0] * len(bones)
        for j in range(int(atoms[8])):
            row[int(atoms[9 + 2 * j])] = float(atoms[10 + 2 * j])
        weights.append(row)

    def matrices(start):
        return [np.asarray([float(v) for v in b[start:start + 16]]).reshape(4, 4).tolist() for b in bones]
    triangles = [[int(v) for v in line.split(":")] for line in (folder / "triangles.txt").read_text().splitlines()
                 if line.strip()]
    return {"bone_count": len(bones), "bone_names": names, "parents": [int(b[1]) for b in bones],
            "base_relatives": matrices(2), "inverse_base_absolutes": matrices(18), "base_positions": positions,
            "weights": weights, "triangles": triangles, "is_mirrored": False}


def read_ht(model, path, complicated):
    """A hand data file: `npts ntheta`, npts lines `correspondence x y z`, (complicated) npts
    lines `u0 u1`, then ntheta lines of theta."""
    lines = iter(Path(path).read_text().splitlines())
    npts, ntheta = (int(v) for v in next(lines).split())
    rows = [next(lines).split() for _ in range(npts)]
    us = [[float(v) for v in next(lines).split()] for _ in range(npts)] if complicated else []
    theta = [float(next(lines)) for _ in range(ntheta)]
    return {"theta": theta, "us": us,
            "data": {"model": model, "correspondences": [int(r[0]) for r in rows],
                     "points": [[float(v) for v in r[1:]] for r in rows]}}


def _ht(evals, model="big", variant="complicated"):
    folder = Path(evals) / "ht" / "data" / f"{variant}_{model}"
    hand_model = None
    for i in DEFAULTS["ht"]["i"]:
        path = next(folder.glob(f"hand{i}_*.txt"), None)
        if path is None or path.stat().st_size == 0:
            continue
        hand_model = hand_model or read_ht_model(folder / "model")
        inp = read_ht(hand_model, path, variant == "complicated")
        yield inp, path.stem, len(inp["data"]["correspondences"])


def iter_workloads(name, adbench=None, evals=None):
    """(input, description, size product) of eval `name`'s default workloads, smallest
    first, generated lazily; `adbench` is the folder of ADBench's data (for lstm), `evals`
    the ``evals`` folder of a gradbench checkout (for ba's and ht's data files)."""
    generators = {"lse": _lse, "llsq": _llsq, "ode": _ode, "gmm": _gmm, "kmeans": _kmeans, "det": _det}
    if name == "lstm":
        return _lstm(adbench)
    if name in ("ba", "ht"):
        return iter(()) if evals is None else (_ba(evals) if name == "ba" else _ht(evals))
    return generators[name]()


def workloads(name, adbench=None, max_work=None, evals=None):
    """[(input, description)] of eval `name`'s default workloads, smallest first, without
    those whose size product (n, n m, n s, n k d^2, l c, k n d, ell, p, points) is larger
    than `max_work`."""
    return [(inp, description) for inp, description, work in iter_workloads(name, adbench, evals)
            if max_work is None or work <= max_work]
