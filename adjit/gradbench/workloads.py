"""gradbench's default workloads for the first-order evals, generated as its evals do.

The recorded sessions (``tests/data/gradbench``) hold only the first, smallest
workloads of each eval.  For timing, this module makes the rest of the default sets of
gradbench's eval scripts (python/gradbench/gradbench/evals/*/run.py): the same sizes,
seeds and generators, so the inputs are the ones gradbench sends (the tests check that
the first ones equal the recorded inputs).  lstm reads ADBench's data files (``tests/data/adbench``); only the
c = 1024 files are there, so its c = 4096 workloads are missing.

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
}

FUNCTIONS = {"lse": ("primal", "gradient"), "llsq": ("primal", "gradient"), "ode": ("primal", "gradient"),
             "gmm": ("objective", "jacobian"), "lstm": ("objective", "jacobian")}


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


def iter_workloads(name, adbench=None):
    """(input, description, size product) of eval `name`'s default workloads, smallest
    first, generated lazily; `adbench` is the folder of ADBench's data (for lstm)."""
    generators = {"lse": _lse, "llsq": _llsq, "ode": _ode, "gmm": _gmm}
    return _lstm(adbench) if name == "lstm" else generators[name]()


def workloads(name, adbench=None, max_work=None):
    """[(input, description)] of eval `name`'s default workloads, smallest first, without
    those whose size product (n, n m, n s, n k d^2, l c) is larger than `max_work`."""
    return [(inp, description) for inp, description, work in iter_workloads(name, adbench)
            if max_work is None or work <= max_work]
