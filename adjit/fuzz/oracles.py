"""The oracles every generated program is checked against, at one or more points.

Per point ``(x, a, n)`` (``f(x, a, n)`` is the program, run by Python itself):

1. ``adjit.jit(f)(x, a, n) == f(x, a, n)`` (rtol 1e-12), and ``a`` is written exactly as
   Python writes it (jit does not copy its arguments);
2. ``adjit.value_and_grad(f, argnums=...)`` gives f's value, leaves its arguments alone,
   and its gradient equals ``adjit.tape.value_and_grad``'s (rtol 1e-9, atol 1e-12).  This
   check is made at every point: the two engines share their conventions at kinks and
   ties (sign(0) = 0, max picks its first operand on a tie, ...), so they must agree
   even where f is not differentiable;
3. both gradients agree with central finite differences of the Python function, wherever
   f is smooth at that point (see `fd_smooth`).

``argnums`` is (0, 1), 0 or 1: with 0 alone the array is inactive, which takes other
paths through adjit's activity analysis.

A failure raises a `FuzzFailure` subclass, one per kind (see `KINDS`), so that
hypothesis shrinks distinct bugs separately.  Kinds are either *mismatches* (a wrong
number: the thing this campaign exists to find) or *errors* (an exception where none
was due).
"""
import collections
import math

import numpy as np

import adjit
import adjit.tape

from .generator import load


class FuzzFailure(AssertionError):
    kind = "failure"
    detail = ""


def _kind(name):
    return type("Fuzz_" + name.replace("-", "_"), (FuzzFailure,), {"kind": name})


ERROR_KINDS = (
    "python-error",        # the generator wrote a program Python cannot run (generator bug)
    "adjit-refused",       # an AdjitError for a program of the supported subset
    "adjit-crash",         # any other exception from adjit (compile or run)
    "tape-crash",          # an exception from adjit.tape
    "harness-error",       # an exception from the campaign's own code
)
MISMATCH_KINDS = (
    "jit-value",           # adjit.jit(f) != f
    "jit-array-effect",    # adjit.jit(f) wrote `a` differently from Python
    "grad-value",          # value_and_grad's value != f (or gradients of the wrong shape)
    "grad-wrote-input",    # value_and_grad changed the caller's array
    "tape-value",          # adjit.tape's value != f
    "grad-vs-tape",        # adjit and the tape disagree; FD sides with the tape or is undecided
    "tape-vs-fd",          # adjit and the tape disagree and FD sides with adjit
    "both-vs-fd",          # adjit and the tape agree, FD (smooth there) disagrees
)
KINDS = {k: _kind(k) for k in ERROR_KINDS + MISMATCH_KINDS}

# finite differences: the two step sizes, the smoothness threshold and the tolerance
H_COARSE, H_FINE = 1e-4, 1e-6
SMOOTH_RTOL = 1e-3
FD_RTOL = 1e-4


def fail(kind, detail):
    err = KINDS[kind](f"[{kind}] {detail}")
    err.detail = detail
    raise err


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


def fd_smooth(f, x, a, n, k):
    """The finite-difference derivative along component k, or None where f is not smooth.

    Branch-switch detection: take the central difference with h = 1e-4 and with
    h = 1e-6.  Where f is smooth on [p - 1e-4, p + 1e-4] the two agree to
    O(h^2 f''') ~ 1e-8.  A branch switch, a kink (abs, max, floor, %) or a changed
    `while` trip count inside that interval makes them disagree: a jump J in f gives
    J / 2h, two very different numbers for the two h; a kink at distance d < h from p
    changes the coarse difference by O(1) and the fine one not at all (or the other way
    round).  So a component counts as smooth only when the two agree to 1e-3 (relative).
    What this misses is a switch within 1e-6 of p whose jump is tiny; the points are
    random, so that has probability ~1e-6 per branch.
    """
    coarse = fd_component(f, x, a, n, k, H_COARSE)
    fine = fd_component(f, x, a, n, k, H_FINE)
    if abs(coarse - fine) <= SMOOTH_RTOL * max(1.0, abs(fine)):
        return fine
    return None


def make_point(t):
    """(n, len(a), seed) -> (x, a, n); x and a from a seeded RNG so that they are generic
    (no exact ties such as a[0] == a[1] == 0)."""
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


def tape_value_and_grad(f, argnums, x, a, n, stats):
    try:
        return adjit.tape.value_and_grad(f, argnums=argnums)(x, a.copy(), n)
    except adjit.AdjitError as e:
        # A limitation of adjit.tape: with argnums=0, `a` is a plain ndarray and storing an
        # x-dependent value into it is refused ("a tape scalar was converted to a plain
        # Python float").  d/dx does not depend on whether `a` is also differentiated, so
        # take it from argnums=(0, 1).
        if argnums != 0 or "converted to a plain Python float" not in str(e):
            raise
        stats["tape_fallback"] += 1
        tv, (tgx, _) = adjit.tape.value_and_grad(f, argnums=(0, 1))(x, a.copy(), n)
        return tv, tgx


def check_program(program, pts, argnums=(0, 1), stats=None, note=None):
    """All oracles for a generated `program` (a generator.Program) at the points `pts`."""
    return check_function(load(program), pts, argnums, stats, note)


def check_function(f, pts, argnums=(0, 1), stats=None, note=None):
    """All oracles for `f(x, a, n)` at the points `pts`; raises a FuzzFailure subclass.

    `stats` (a collections.Counter, optional) counts: compiled (adjit compiled f for jit
    and for value_and_grad), points, points_ok, fd_checked, fd_skipped, ...
    """
    stats = stats if stats is not None else collections.Counter()

    def bump(key, by=1):
        stats[key] += by

    compiled = False
    for x, a, n in pts:
        args = f"x={x!r}, a=np.array({a.tolist()!r}), n={n}"
        if note:
            note(f"point: {args}, argnums={argnums}")
        bump("points")
        a_py = a.copy()
        try:
            want = f(x, a_py, n)
        except Exception as e:  # the generator must only write programs Python can run
            fail("python-error", f"f({args}) raised {type(e).__name__}: {e}")
        if not math.isfinite(want):
            bump("nonfinite")   # cannot happen by construction; do not check such points
            continue

        # 1. jit: value and array writes
        jf = adjit.jit(f)
        a_jit = a.copy()
        try:
            got = jf(x, a_jit, n)
        except adjit.AdjitError as e:
            fail("adjit-refused", f"adjit.jit(f)({args}) raised {type(e).__name__}: {e}")
        except Exception as e:
            fail("adjit-crash", f"adjit.jit(f)({args}) raised {type(e).__name__}: {e}")
        if not close(got, want, 1e-12, 1e-12):
            fail("jit-value", f"adjit.jit(f)({args}) = {got!r}, Python gives {want!r}")
        if not close(a_jit, a_py, 1e-12, 1e-12):
            fail("jit-array-effect", f"after adjit.jit(f)({args}) a = {a_jit.tolist()!r}, "
                 f"Python leaves a = {a_py.tolist()!r}")

        # 2. adjit gradient against the tape engine
        a_g = a.copy()
        call_text = f"adjit.value_and_grad(f, argnums={argnums})({args})"
        try:
            gv, grads = adjit.value_and_grad(f, argnums=argnums)(x, a_g, n)
        except adjit.AdjitError as e:
            fail("adjit-refused", f"{call_text} raised {type(e).__name__}: {e}")
        except Exception as e:
            fail("adjit-crash", f"{call_text} raised {type(e).__name__}: {e}")
        if not compiled:
            compiled = True
            bump("compiled")
        if not close(gv, want, 1e-12, 1e-12):
            fail("grad-value", f"{call_text} value = {gv!r}, Python gives {want!r}")
        if not np.array_equal(a_g, a):
            fail("grad-wrote-input", f"{call_text} changed a to {a_g.tolist()!r}")
        try:
            tv, tgrads = tape_value_and_grad(f, argnums, x, a, n, stats)
        except Exception as e:
            fail("tape-crash", f"adjit.tape.value_and_grad(f, argnums={argnums})({args}) raised "
                 f"{type(e).__name__}: {e}")
        if not close(tv, want, 1e-12, 1e-12):
            fail("tape-value", f"adjit.tape.value_and_grad(f)({args}) value = {tv!r}, Python gives {want!r}")
        g, gt = grad_vector(grads, argnums, len(a)), grad_vector(tgrads, argnums, len(a))
        if g is None:
            fail("grad-value", f"{call_text} returned gradients of the wrong shape: {grads!r}")
        asked = ~np.isnan(g)
        g, gt = g[asked], gt[asked]
        bump("grad_components", len(g))
        bump("grad_nonzero", int(np.sum(np.abs(g) > 1e-12)))

        # 3. finite differences where smooth
        fd = np.full(g.shape, np.nan)
        for j, k in enumerate(np.flatnonzero(asked)):
            d = fd_smooth(f, x, a, n, k)
            if d is None:
                bump("fd_skipped")
            else:
                fd[j] = d
                bump("fd_checked")
        smooth = ~np.isnan(fd)

        def fd_ok(gg):
            return bool(np.all(np.abs(gg[smooth] - fd[smooth]) <= FD_RTOL * np.maximum(1.0, np.abs(gg[smooth]))))

        detail = (f"(argnums={argnums}) at {args}:\n  adjit grad  = {g.tolist()!r}\n  tape grad   = {gt.tolist()!r}\n"
                  f"  finite diff = {fd.tolist()!r}  (nan: not smooth there, not checked)\n"
                  f"  components are [d/dx, d/da[0], ...] (those asked for)")
        if not close(g, gt, 1e-9, 1e-12):
            if smooth.any() and fd_ok(g) and not fd_ok(gt):
                fail("tape-vs-fd", "the tape engine is wrong " + detail)
            fail("grad-vs-tape", "adjit.grad disagrees with adjit.tape " + detail)
        if not fd_ok(g):
            fail("both-vs-fd", "adjit and the tape agree, finite differences do not " + detail)
        bump("points_ok")
