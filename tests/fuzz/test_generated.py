"""Generated-program campaign: random programs of adjit's subset (tests/fuzz/generator.py),
each checked at two random points against three oracles.

Oracles, per point ``(x, a, n)``:

1. ``adjit.jit(f)(x, a, n) == f(x, a, n)`` (rtol 1e-12), and ``a`` is written exactly as
   Python writes it (jit does not copy its arguments);
2. ``adjit.value_and_grad(f, argnums=...)`` (argnums drawn from (0, 1), 0 and 1: with 0
   alone the array is inactive, which takes other paths through activity analysis) gives
   f's value, leaves its arguments alone, and its gradient equals ``adjit.tape.value_and_grad``'s (rtol 1e-9, atol 1e-12).  This
   check is always done: the two engines share their non-smooth conventions;
3. both gradients agree with central finite differences of the Python function, wherever
   the function is smooth at that point.  Smoothness test: for each input component we
   take the central difference with h = 1e-4 and with h = 1e-6.  Where f is smooth on
   [p - 1e-4, p + 1e-4] the two agree to O(h^2 f''') ~ 1e-8; a branch switch, a kink
   (abs, max, floor, %) or a changed while trip count inside that interval makes them
   disagree (a jump J gives J/2h, i.e. two very different numbers).  So a component is
   checked only when |fd(1e-4) - fd(1e-6)| <= 1e-3 * max(1, |fd(1e-6)|); then we require
   |g - fd(1e-6)| <= 1e-4 * max(1, |g|).

Sizes: the default run is a derandomized, bounded campaign (``DEFAULT_EXAMPLES`` programs,
about 75 s on two cores with a cold cache, most of it Numba compilation; seconds once
adjit's disk cache has the programs).  A long campaign:

    ADJIT_FUZZ_EXAMPLES=2000 python -m pytest tests/fuzz -s

is randomized (``ADJIT_FUZZ_SEED=<int>`` makes it reproducible) and runs in chunks of
``ADJIT_FUZZ_CHUNK`` (150) programs, each in a pytest subprocess (Numba never frees compiled
code: about 10-15 MB per program), ``ADJIT_FUZZ_JOBS`` (2) at a time; it prints a summary.
``ADJIT_FUZZ_EXCLUDE=while,break`` drops features; ``ADJIT_FUZZ_ALL=1`` puts back the
features of known adjit bugs (generator.KNOWN_BUG_FEATURES), left out by default.

The program of every failure kind that hypothesis shrinks to is saved in ``$ADJIT_FUZZ_SAVE``
(default: <tmp>/adjit-fuzz-failures; chunk<k>/ subdirectories in long runs) as <kind>.py,
overwritten as the shrinker finds smaller ones, and <kind>.final.py for the final replay.
Each shrinking step compiles two programs, so hypothesis often stops shrinking after its
five-minute limit: reduce the saved program by hand (or by deleting lines) before reporting.

Generated modules are cached by adjit on disk; the campaign uses its own cache directory
(<tmp>/adjit-fuzz-cache, unless ADJIT_CACHE_DIR is set) so that it does not fill the user's.
"""
import collections
import contextlib
import math
import os
import tempfile
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context, currently_in_test_context

import adjit
import adjit.tape

from .generator import ALL_FEATURES, DEFAULT_FEATURES, load, programs

DEFAULT_EXAMPLES = 20
LONG_EXAMPLES = int(os.environ.get("ADJIT_FUZZ_EXAMPLES", "0"))
EXCLUDE = frozenset(x for x in os.environ.get("ADJIT_FUZZ_EXCLUDE", "").split(",") if x)
assert EXCLUDE <= ALL_FEATURES, f"unknown features in ADJIT_FUZZ_EXCLUDE: {EXCLUDE - ALL_FEATURES}"
FEATURES = DEFAULT_FEATURES - EXCLUDE
SAVE_DIR = os.environ.get("ADJIT_FUZZ_SAVE") or os.path.join(tempfile.gettempdir(), "adjit-fuzz-failures")

STATS = collections.Counter()
FEATURE_COUNT = collections.Counter()
FAILURES = {}          # kind -> last (most shrunk) message


# -- failure kinds: one exception class each, so that hypothesis reports (and shrinks)
#    distinct bugs separately ------------------------------------------------------------
class FuzzFailure(AssertionError):
    kind = "failure"


def _kind(name):
    return type("Fuzz_" + name.replace("-", "_"), (FuzzFailure,), {"kind": name})


KINDS = {k: _kind(k) for k in (
    "python-error",        # the generator wrote a program Python cannot run (generator bug)
    "adjit-refused",       # an AdjitError for a program of the supported subset
    "adjit-crash",         # any other exception from adjit (compile or run)
    "tape-crash",          # an exception from adjit.tape
    "jit-value",           # adjit.jit(f) != f
    "jit-array-effect",    # adjit.jit(f) wrote `a` differently from Python
    "grad-value",          # value_and_grad's value != f
    "grad-wrote-input",    # value_and_grad changed the caller's array
    "tape-value",          # adjit.tape's value != f
    "grad-vs-tape",        # adjit and the tape disagree; FD sides with the tape or is undecided
    "tape-vs-fd",          # adjit and the tape disagree and FD sides with adjit
    "both-vs-fd",          # adjit and the tape agree, FD (smooth there) disagrees
)}


def fail(kind, program, detail):
    msg = f"[{kind}] {detail}\n--- reproducer ---\n{program.module_text}"
    FAILURES[kind] = msg
    final = currently_in_test_context() and current_build_context().is_final
    os.makedirs(SAVE_DIR, exist_ok=True)
    with open(os.path.join(SAVE_DIR, f"{kind}.py"), "w") as fh:
        fh.write(program.module_text + "\n\n# " + detail.replace("\n", "\n# ") + "\n")
    if final:
        with open(os.path.join(SAVE_DIR, f"{kind}.final.py"), "w") as fh:
            fh.write(program.module_text + "\n\n# " + detail.replace("\n", "\n# ") + "\n")
    raise KINDS[kind](msg)


# -- helpers ----------------------------------------------------------------------------
def _note(text):
    if currently_in_test_context():   # check_program can also be called outside hypothesis
        note(text)


def close(got, want, rtol, atol):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got.shape != want.shape:
        return False
    both_nan = np.isnan(got) & np.isnan(want)
    ok = np.isclose(got, want, rtol=rtol, atol=atol) | both_nan | (got == want)
    return bool(np.all(ok))


def call(f, x, a, n):
    return f(x, a.copy(), n)


def fd_component(f, x, a, n, k, h):
    """Central difference of f with respect to component k (0: x, k >= 1: a[k - 1])."""
    if k == 0:
        return (call(f, x + h, a, n) - call(f, x - h, a, n)) / (2 * h)
    ap, am = a.copy(), a.copy()
    ap[k - 1] += h
    am[k - 1] -= h
    return (f(x, ap, n) - f(x, am, n)) / (2 * h)


@contextlib.contextmanager
def fuzz_cache_dir():
    old = os.environ.get("ADJIT_CACHE_DIR")
    if old is None:
        os.environ["ADJIT_CACHE_DIR"] = os.path.join(tempfile.gettempdir(), "adjit-fuzz-cache")
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("ADJIT_CACHE_DIR", None)


# -- the check of one program --------------------------------------------------------------
def points():
    """A point: n and len(a) drawn by hypothesis (they shrink); x and a from a seeded RNG,
    so that they are generic (no exact ties such as a[0] == a[1] == 0)."""
    return st.tuples(st.integers(0, 5), st.integers(4, 6), st.integers(0, 2**32 - 1)).map(_make_point)


def _make_point(t):
    n, length, seed = t
    rng = np.random.default_rng(seed)
    return float(rng.uniform(-1.5, 1.5)), rng.uniform(-1.5, 1.5, length), n


def grad_vector(grads, argnums, length):
    """adjit's / the tape's gradient as [d/dx, d/da[0], ...], NaN where not asked for."""
    out = np.full(1 + length, np.nan)
    if argnums == (0, 1):
        gx, ga = grads
    elif argnums == 0:
        gx, ga = grads, None
    else:
        gx, ga = None, grads
    if gx is not None:
        out[0] = float(gx)
    if ga is not None:
        ga = np.asarray(ga, dtype=float)
        if ga.shape != (length,):
            return None
        out[1:] = ga
    return out


def check_program(program, pts, argnums=(0, 1)):
    """All oracles for one program; `argnums` is (0, 1), 0 (x only: `a` is then inactive)
    or 1 (a only)."""
    STATS["programs"] += 1
    FEATURE_COUNT.update(program.used)
    _note(program.module_text)
    f = load(program)
    for x, a, n in pts:
        _note(f"point: x={x!r}, a=np.array({a.tolist()!r}), n={n}")
        STATS["points"] += 1
        a_py = a.copy()
        try:
            want = f(x, a_py, n)
        except Exception as e:  # the generator must only write programs Python can run
            fail("python-error", program, f"f{(x, a.tolist(), n)} raised {type(e).__name__}: {e}")
        if not math.isfinite(want):
            STATS["nonfinite"] += 1   # cannot happen by construction; do not check such points
            continue
        args = f"x={x!r}, a=np.array({a.tolist()!r}), n={n}"

        # 1. jit: value and array writes
        jf = adjit.jit(f)
        a_jit = a.copy()
        try:
            got = jf(x, a_jit, n)
        except adjit.AdjitError as e:
            fail("adjit-refused", program, f"adjit.jit(f)({args}) raised {type(e).__name__}: {e}")
        except Exception as e:
            fail("adjit-crash", program, f"adjit.jit(f)({args}) raised {type(e).__name__}: {e}")
        if not close(got, want, 1e-12, 1e-12):
            fail("jit-value", program, f"adjit.jit(f)({args}) = {got!r}, Python gives {want!r}")
        if not close(a_jit, a_py, 1e-12, 1e-12):
            fail("jit-array-effect", program, f"after adjit.jit(f)({args}) a = {a_jit.tolist()!r}, "
                 f"Python leaves a = {a_py.tolist()!r}")

        # 2. adjit gradient against the tape engine
        a_g = a.copy()
        try:
            gv, grads = adjit.value_and_grad(f, argnums=argnums)(x, a_g, n)
        except adjit.AdjitError as e:
            fail("adjit-refused", program, f"adjit.value_and_grad(f, argnums={argnums})({args}) raised "
                 f"{type(e).__name__}: {e}")
        except Exception as e:
            fail("adjit-crash", program, f"adjit.value_and_grad(f, argnums={argnums})({args}) raised "
                 f"{type(e).__name__}: {e}")
        if not close(gv, want, 1e-12, 1e-12):
            fail("grad-value", program, f"adjit.value_and_grad(f)({args}) value = {gv!r}, Python gives {want!r}")
        if not np.array_equal(a_g, a):
            fail("grad-wrote-input", program, f"adjit.value_and_grad(f)({args}) changed a to {a_g.tolist()!r}")
        try:
            try:
                tv, tgrads = adjit.tape.value_and_grad(f, argnums=argnums)(x, a.copy(), n)
            except adjit.AdjitError as e:
                # Known limitation of adjit.tape: with argnums=0, `a` is a plain ndarray and
                # storing an x-dependent value into it is refused ("a tape scalar was converted
                # to a plain Python float").  d/dx does not depend on whether `a` is also
                # differentiated, so take it from argnums=(0, 1).
                if argnums != 0 or "converted to a plain Python float" not in str(e):
                    raise
                STATS["tape_fallback"] += 1
                tv, (tgrads, _) = adjit.tape.value_and_grad(f, argnums=(0, 1))(x, a.copy(), n)
        except Exception as e:
            fail("tape-crash", program, f"adjit.tape.value_and_grad(f, argnums={argnums})({args}) raised "
                 f"{type(e).__name__}: {e}")
        if not close(tv, want, 1e-12, 1e-12):
            fail("tape-value", program, f"adjit.tape.value_and_grad(f)({args}) value = {tv!r}, Python gives {want!r}")
        g, gt = grad_vector(grads, argnums, len(a)), grad_vector(tgrads, argnums, len(a))
        if g is None:
            fail("grad-value", program, f"adjit.value_and_grad(f, argnums={argnums})({args}) returned "
                 f"gradients of the wrong shape: {grads!r}")
        asked = ~np.isnan(g)
        g, gt = g[asked], gt[asked]
        STATS["grad_components"] += len(g)
        STATS["grad_nonzero"] += int(np.sum(np.abs(g) > 1e-12))

        # 3. finite differences where smooth (see the module docstring)
        fd = np.full(g.shape, np.nan)
        for j, k in enumerate(np.flatnonzero(asked)):
            coarse = fd_component(f, x, a, n, k, 1e-4)
            fine = fd_component(f, x, a, n, k, 1e-6)
            if abs(coarse - fine) <= 1e-3 * max(1.0, abs(fine)):
                fd[j] = fine
                STATS["fd_checked"] += 1
            else:
                STATS["fd_skipped"] += 1
        smooth = ~np.isnan(fd)

        def fd_ok(gg):
            return bool(np.all(np.abs(gg[smooth] - fd[smooth]) <= 1e-4 * np.maximum(1.0, np.abs(gg[smooth]))))

        detail = (f"(argnums={argnums}) at {args}:\n  adjit grad  = {g.tolist()!r}\n  tape grad   = {gt.tolist()!r}\n"
                  f"  finite diff = {fd.tolist()!r}  (nan: not smooth there, not checked)\n"
                  f"  components are [d/dx, d/da[0], ...] (those asked for)")
        if not close(g, gt, 1e-9, 1e-12):
            if smooth.any() and fd_ok(g) and not fd_ok(gt):
                fail("tape-vs-fd", program, "the tape engine is wrong " + detail)
            fail("grad-vs-tape", program, "adjit.grad disagrees with adjit.tape " + detail)
        if not fd_ok(g):
            fail("both-vs-fd", program, "adjit and the tape agree, finite differences do not " + detail)
        STATS["points_ok"] += 1


# -- the pytest entry point -------------------------------------------------------------------
# Numba keeps every compiled function alive (about 10-15 MB per program), so the long
# campaign runs in chunks of CHUNK programs, each in its own pytest subprocess
# (ADJIT_FUZZ_CHILD=1), JOBS of them at a time; the parent adds up their statistics.
CHUNK = int(os.environ.get("ADJIT_FUZZ_CHUNK", "150"))
JOBS = int(os.environ.get("ADJIT_FUZZ_JOBS", "2"))
CHILD = os.environ.get("ADJIT_FUZZ_CHILD") == "1"


def summary(elapsed, stats, features, failures, save_dir):
    lines = [f"adjit fuzz campaign: {stats['programs']} programs run (including shrinking), "
             f"{stats['points']} points, {stats['points_ok']} points passed, {elapsed:.0f} s",
             f"  finite-difference components checked: {stats['fd_checked']}, skipped as non-smooth: "
             f"{stats['fd_skipped']}; non-finite points: {stats['nonfinite']}; "
             f"non-zero gradient components: {stats['grad_nonzero']} of {stats['grad_components']}; "
             f"tape argnums=0 refusals worked around: {stats['tape_fallback']}",
             f"  features excluded: {sorted(ALL_FEATURES - FEATURES) or 'none'}",
             "  feature occurrence (programs): " + ", ".join(f"{k} {v}" for k, v in features.most_common())]
    if failures:
        lines.append(f"  failure kinds: {sorted(failures)} (minimal reproducers under {save_dir})")
    else:
        lines.append("  no failures")
    return "\n".join(lines)


def run_campaign(examples, seed):
    """Run `examples` programs in this process (derandomized when seed is None)."""
    common = dict(deadline=None, database=None, print_blob=True, max_examples=examples,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

    @settings(derandomize=seed is None, **common)
    @given(programs(FEATURES), st.lists(points(), min_size=2, max_size=2),
           st.sampled_from([(0, 1), 0, 1]))
    def campaign(program, pts, argnums):
        check_program(program, pts, argnums)

    if seed is not None:
        from hypothesis import seed as _seed
        campaign = _seed(seed)(campaign)
    with fuzz_cache_dir():
        campaign()


def _write_stats(path, elapsed):
    import json
    with open(path, "w") as fh:
        json.dump({"stats": dict(STATS), "features": dict(FEATURE_COUNT), "failures": FAILURES,
                   "elapsed": elapsed}, fh)


def _long_campaign(capsys):
    import json
    import random
    import subprocess
    import sys
    base = int(os.environ.get("ADJIT_FUZZ_SEED") or random.randrange(2**31))
    nchunks = -(-LONG_EXAMPLES // CHUNK)
    start = time.time()
    os.makedirs(SAVE_DIR, exist_ok=True)
    with capsys.disabled():
        print(f"\nadjit fuzz: {LONG_EXAMPLES} programs in {nchunks} chunk(s) of <= {CHUNK}, {JOBS} at a time, "
              f"seeds {base}..{base + nchunks - 1}; reproducers and logs in {SAVE_DIR}", flush=True)
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    todo, running, done = list(range(nchunks)), [], []
    while todo or running:
        while todo and len(running) < JOBS:
            k = todo.pop(0)
            chunk_dir = os.path.join(SAVE_DIR, f"chunk{k}")
            os.makedirs(chunk_dir, exist_ok=True)
            env = dict(os.environ, ADJIT_FUZZ_CHILD="1", ADJIT_FUZZ_SEED=str(base + k), ADJIT_FUZZ_SAVE=chunk_dir,
                       ADJIT_FUZZ_EXAMPLES=str(min(CHUNK, LONG_EXAMPLES - k * CHUNK)))
            log = open(os.path.join(chunk_dir, "log.txt"), "w")
            proc = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                                     os.path.join(here, "test_generated.py")], cwd=root, env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
            running.append((k, proc, log, chunk_dir))
        time.sleep(1.0)
        for item in list(running):
            k, proc, log, chunk_dir = item
            if proc.poll() is not None:
                log.close()
                running.remove(item)
                done.append((k, proc.returncode, chunk_dir))
                with capsys.disabled():
                    print(f"  chunk {k} finished (exit {proc.returncode}), {time.time() - start:.0f} s", flush=True)
    stats, features, failures = collections.Counter(), collections.Counter(), {}
    for k, rc, chunk_dir in sorted(done):
        path = os.path.join(chunk_dir, "stats.json")
        if not os.path.exists(path):
            failures[f"chunk{k}-died"] = f"chunk {k} exited with {rc} without statistics; see {chunk_dir}/log.txt"
            continue
        with open(path) as fh:
            data = json.load(fh)
        stats.update(data["stats"])
        features.update(data["features"])
        for kind, msg in data["failures"].items():
            failures[f"{kind} (chunk {k})"] = msg
    with capsys.disabled():
        print(summary(time.time() - start, stats, features, failures, SAVE_DIR))
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in sorted(failures.items()))


def test_generated_programs(capsys):
    if LONG_EXAMPLES and not CHILD:
        return _long_campaign(capsys)
    start = time.time()
    try:
        if CHILD:
            run_campaign(LONG_EXAMPLES, int(os.environ["ADJIT_FUZZ_SEED"]))
        else:
            run_campaign(DEFAULT_EXAMPLES, None)
    finally:
        elapsed = time.time() - start
        if CHILD:
            _write_stats(os.path.join(SAVE_DIR, "stats.json"), elapsed)
        print(summary(elapsed, STATS, FEATURE_COUNT, FAILURES, SAVE_DIR))


# -- known bugs found by this campaign (their features are in generator.KNOWN_BUG_FEATURES) --
def _dead_copy_store(x, a, n):
    b = a.copy()
    b[0] = 2.0 * b[0]
    return a[1]


def test_known_bug_dead_copy_store():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    g = adjit.grad(_dead_copy_store, argnums=1)(0.5, a, 2)
    assert np.array_equal(g, [0.0, 1.0, 0.0, 0.0])


def _store_into_undifferentiated(x, a, n):
    a[0] = x
    return a[0]


@pytest.mark.xfail(strict=True, raises=adjit.AdjitError,
                   reason="adjit.tape limitation: with argnums=0 the array `a` is a plain ndarray and storing "
                          "an x-dependent value into it is refused ('a tape scalar was converted to a plain "
                          "Python float'); check_program works around it by asking for argnums=(0, 1)")
def test_known_tape_limitation_store_into_plain_array():
    assert adjit.grad(_store_into_undifferentiated)(0.3, np.ones(4), 2) == 1.0
    assert adjit.tape.grad(_store_into_undifferentiated, argnums=0)(0.3, np.ones(4), 2) == 1.0
