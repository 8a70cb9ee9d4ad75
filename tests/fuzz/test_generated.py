"""Generated-program campaign: random programs of adjit's subset (tests/fuzz/generator.py),
each checked at two random points against three oracles.

Oracles, per point ``(x, a, n)``:

1. ``adjit.jit(f)(x, a, n) == f(x, a, n)`` (rtol 1e-12), and ``a`` is written exactly as
   Python writes it (jit does not copy its arguments);
2. ``adjit.value_and_grad(f, argnums=(0, 1))`` gives f's value, leaves its arguments alone,
   and its gradient equals ``adjit.tape.value_and_grad``'s (rtol 1e-9, atol 1e-12).  This
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
about a minute on two cores, most of it Numba compilation).  A long campaign:

    ADJIT_FUZZ_EXAMPLES=2000 python -m pytest tests/fuzz -s

(randomized; ``ADJIT_FUZZ_SEED=<int>`` makes it reproducible, ``ADJIT_FUZZ_EXCLUDE=while,break``
drops features) prints a summary.  The minimal program of every failure kind that
hypothesis shrinks to is saved in ``$ADJIT_FUZZ_SAVE`` (default: <tmp>/adjit-fuzz-failures),
one file per kind, overwritten as the shrinker finds smaller ones (the last write is the
final, minimal one).

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
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context

import adjit
import adjit.tape

from .generator import ALL_FEATURES, DEFAULT_FEATURES, load, programs

DEFAULT_EXAMPLES = 30
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
    try:
        final = current_build_context().is_final
    except Exception:
        final = False
    os.makedirs(SAVE_DIR, exist_ok=True)
    with open(os.path.join(SAVE_DIR, f"{kind}.py"), "w") as fh:
        fh.write(program.module_text + "\n\n# " + detail.replace("\n", "\n# ") + "\n")
    if final:
        with open(os.path.join(SAVE_DIR, f"{kind}.final.py"), "w") as fh:
            fh.write(program.module_text + "\n\n# " + detail.replace("\n", "\n# ") + "\n")
    raise KINDS[kind](msg)


# -- helpers ----------------------------------------------------------------------------
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


def flat(gx, ga):
    return np.concatenate([[float(gx)], np.asarray(ga, dtype=float)])


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


def check_program(program, pts):
    STATS["programs"] += 1
    FEATURE_COUNT.update(program.used)
    note(program.module_text)
    f = load(program)
    for x, a, n in pts:
        note(f"point: x={x!r}, a=np.array({a.tolist()!r}), n={n}")
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
            gv, (gx, ga) = adjit.value_and_grad(f, argnums=(0, 1))(x, a_g, n)
        except adjit.AdjitError as e:
            fail("adjit-refused", program, f"adjit.value_and_grad(f, argnums=(0, 1))({args}) raised "
                 f"{type(e).__name__}: {e}")
        except Exception as e:
            fail("adjit-crash", program, f"adjit.value_and_grad(f, argnums=(0, 1))({args}) raised "
                 f"{type(e).__name__}: {e}")
        if not close(gv, want, 1e-12, 1e-12):
            fail("grad-value", program, f"adjit.value_and_grad(f)({args}) value = {gv!r}, Python gives {want!r}")
        if not np.array_equal(a_g, a):
            fail("grad-wrote-input", program, f"adjit.value_and_grad(f)({args}) changed a to {a_g.tolist()!r}")
        try:
            tv, (tx, ta) = adjit.tape.value_and_grad(f, argnums=(0, 1))(x, a.copy(), n)
        except Exception as e:
            fail("tape-crash", program, f"adjit.tape.value_and_grad(f)({args}) raised {type(e).__name__}: {e}")
        if not close(tv, want, 1e-12, 1e-12):
            fail("tape-value", program, f"adjit.tape.value_and_grad(f)({args}) value = {tv!r}, Python gives {want!r}")
        g, gt = flat(gx, ga), flat(tx, ta)

        # 3. finite differences where smooth (see the module docstring)
        fd = np.full(g.shape, np.nan)
        for k in range(len(g)):
            coarse = fd_component(f, x, a, n, k, 1e-4)
            fine = fd_component(f, x, a, n, k, 1e-6)
            if abs(coarse - fine) <= 1e-3 * max(1.0, abs(fine)):
                fd[k] = fine
                STATS["fd_checked"] += 1
            else:
                STATS["fd_skipped"] += 1
        smooth = ~np.isnan(fd)

        def fd_ok(gg):
            return bool(np.all(np.abs(gg[smooth] - fd[smooth]) <= 1e-4 * np.maximum(1.0, np.abs(gg[smooth]))))

        detail = (f"at {args}:\n  adjit grad  = {g.tolist()!r}\n  tape grad   = {gt.tolist()!r}\n"
                  f"  finite diff = {fd.tolist()!r}  (nan: not smooth there, not checked)\n"
                  f"  components are [d/dx, d/da[0], ...]")
        if not close(g, gt, 1e-9, 1e-12):
            if smooth.any() and fd_ok(g) and not fd_ok(gt):
                fail("tape-vs-fd", program, "the tape engine is wrong " + detail)
            fail("grad-vs-tape", program, "adjit.grad disagrees with adjit.tape " + detail)
        if not fd_ok(g):
            fail("both-vs-fd", program, "adjit and the tape agree, finite differences do not " + detail)
        STATS["points_ok"] += 1


# -- the pytest entry point -------------------------------------------------------------------
def _settings():
    common = dict(deadline=None, database=None, print_blob=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    if LONG_EXAMPLES:
        seed = os.environ.get("ADJIT_FUZZ_SEED")
        return settings(max_examples=LONG_EXAMPLES, derandomize=False, **common), (int(seed) if seed else None)
    return settings(max_examples=DEFAULT_EXAMPLES, derandomize=True, **common), None


SETTINGS, SEED = _settings()


def summary(elapsed):
    lines = [f"adjit fuzz campaign: {STATS['programs']} programs run (including shrinking), "
             f"{STATS['points']} points, {STATS['points_ok']} points passed, {elapsed:.0f} s",
             f"  finite-difference components checked: {STATS['fd_checked']}, skipped as non-smooth: "
             f"{STATS['fd_skipped']}; non-finite points: {STATS['nonfinite']}",
             f"  features excluded: {sorted(ALL_FEATURES - FEATURES) or 'none'}",
             "  feature occurrence (programs): " + ", ".join(f"{k} {v}" for k, v in FEATURE_COUNT.most_common())]
    if FAILURES:
        lines.append(f"  failure kinds: {sorted(FAILURES)} (minimal reproducers in {SAVE_DIR})")
    else:
        lines.append("  no failures")
    return "\n".join(lines)


def test_generated_programs(capsys):
    @SETTINGS
    @given(programs(FEATURES), st.lists(points(), min_size=2, max_size=2))
    def campaign(program, pts):
        check_program(program, pts)

    if SEED is not None:
        from hypothesis import seed as _seed
        campaign = _seed(SEED)(campaign)
    start = time.time()
    try:
        with fuzz_cache_dir():
            campaign()
    finally:
        text = summary(time.time() - start)
        if LONG_EXAMPLES:
            with capsys.disabled():
                print("\n" + text)
        else:
            print(text)
