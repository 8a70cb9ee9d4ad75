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

``argnums`` is drawn from `argnums_choices`: every float and array argument, each one
alone, or the first two.  With x alone the arrays are inactive, which takes other paths
through adjit's activity analysis.

A failure raises a `FuzzFailure` subclass, one per kind (see `KINDS`), so that
hypothesis shrinks distinct bugs separately.  Kinds are either *mismatches* (a wrong
number: the thing this campaign exists to find) or *errors* (an exception where none
was due).
"""
import collections
import inspect
import math
import re

import numpy as np

import adjit
import adjit.tape

from .generator import load


class FuzzFailure(AssertionError):
    kind = "failure"
    detail = ""


class Refusal(Exception):
    """adjit refused the program with a clear AdjitError when compiling it (at the first
    call of a jit or grad object): an acceptable outcome, not a failure, but counted by
    `key` (the API and the error's message, normalised) so that a campaign can report
    and bound its refusal rate.  See `refusal_key`."""

    def __init__(self, api, error):
        self.api = api
        self.error = error
        self.key = refusal_key(api, error)
        super().__init__(f"{api} refused: {type(error).__name__}: {error}")


def refusal_key(api, error):
    """'api: ErrorClass: message' with the file:line, the quoted source line, digits and
    generated names normalised, so that one refusal reason is one key."""
    msg = getattr(error, "message", None) or str(error)
    msg = msg.splitlines()[0] if msg else ""
    msg = re.sub(r"\S+\.py:\d+", "<file>:<line>", msg)
    msg = re.sub(r"\d+", "#", msg)
    if len(msg) > 110:
        msg = msg[:107] + "..."
    return f"{api}: {type(error).__name__}: {msg}"


def is_refusal(error):
    """An AdjitError that is a deliberate refusal.  adjit wraps Numba's errors for
    generated code as AdjitError "... (this is a bug in adjit ...)": that is a crash."""
    return isinstance(error, adjit.AdjitError) and "this is a bug in adjit" not in str(error)


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
    "grad-grad-value",     # adjit.grad(adjit.grad(f)) accepted but != the second difference of f
    "jvp-vs-grad",         # forward mode (adjit.jvp) disagrees with reverse mode: <grad, t> != jvp's tangent
    "jacobian-value",      # adjit.jacfwd != adjit.jacrev, or either != central differences (jacobians.py)
    "hessian-value",       # adjit.hessian not symmetric, or != central differences of adjit.tape's gradient
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


def copied(args):
    return tuple(v.copy() if isinstance(v, np.ndarray) else v for v in args)


def components(args, nums):
    """The scalar inputs of the arguments `nums`: (position, element index or None)."""
    out = []
    for p in nums:
        if isinstance(args[p], np.ndarray):
            out += [(p, k) for k in range(args[p].size)]
        else:
            out.append((p, None))
    return out


def fd_component(f, args, comp, h):
    """Central difference of f with respect to one scalar input `comp`."""
    p, k = comp
    plus, minus = list(copied(args)), list(copied(args))
    if k is None:
        plus[p] += h
        minus[p] -= h
    else:
        plus[p].flat[k] += h
        minus[p].flat[k] -= h
    return (f(*plus) - f(*minus)) / (2 * h)


def fd_smooth(f, args, comp):
    """The finite-difference derivative along `comp`, or None where f is not smooth.

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
    coarse = fd_component(f, args, comp, H_COARSE)
    fine = fd_component(f, args, comp, H_FINE)
    if abs(coarse - fine) <= SMOOTH_RTOL * max(1.0, abs(fine)):
        return fine
    return None


def make_point(t):
    """(n, len(a), rows, columns, seed) -> the values of every parameter a program may have.
    Floats come from a seeded RNG so that they are generic (no exact ties such as
    a[0] == a[1] == 0)."""
    n, length, rows, cols, seed = t
    rng = np.random.default_rng(seed)
    return {"x": float(rng.uniform(-1.5, 1.5)), "a": rng.uniform(-1.5, 1.5, length), "n": n,
            "y": float(rng.uniform(-1.5, 1.5)), "m": rng.uniform(-1.5, 1.5, (rows, cols))}


def differentiable(args):
    return [p for p, v in enumerate(args) if isinstance(v, float) or
            (isinstance(v, np.ndarray) and v.dtype == np.float64)]


def argnums_choices(args):
    """The argnums a campaign draws from: all differentiable arguments first (the
    shrinker's choice), then each alone, then the first two."""
    diff = differentiable(args)
    out = [tuple(diff)] + diff
    if len(diff) > 2:
        out.append(tuple(diff[:2]))
    return out


def grad_vector(grads, argnums, args):
    """A gradient as one vector over `components(args, argnums)`, or None if its
    structure or shapes are wrong."""
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    parts = grads if isinstance(argnums, tuple) else (grads,)
    if not isinstance(parts, tuple) or len(parts) != len(nums):
        return None
    out = []
    for p, g in zip(nums, parts):
        g = np.asarray(g, dtype=float)
        if g.shape != np.shape(args[p]):
            return None
        out += g.ravel().tolist()
    return np.array(out)


def _args_text(names, args):
    return ", ".join(f"{k}=np.array({v.tolist()!r})" if isinstance(v, np.ndarray) else f"{k}={v!r}"
                     for k, v in zip(names, args))


def tape_value_and_grad(f, argnums, args, stats):
    try:
        return adjit.tape.value_and_grad(f, argnums=argnums)(*copied(args))
    except adjit.AdjitError as e:
        # A limitation of adjit.tape: an array argument that is not differentiated is a
        # plain ndarray, and storing a tape value into it is refused ("a tape scalar was
        # converted to a plain Python float").  The derivatives asked for do not depend on
        # whether the other arguments are differentiated too: take them from a call that
        # differentiates every float and float64 array.
        every = tuple(differentiable(args))
        if argnums == every or "converted to a plain Python float" not in str(e):
            raise
        stats["tape_fallback"] += 1
        tv, tg = adjit.tape.value_and_grad(f, argnums=every)(*copied(args))
        pick = [tg[every.index(p)] for p in (argnums if isinstance(argnums, tuple) else (argnums,))]
        return tv, (tuple(pick) if isinstance(argnums, tuple) else pick[0])


def resolve(program, pts, selector=0):
    """Points (dicts from make_point) -> argument tuples for the program's parameters, and
    the argnums that `selector` picks from `argnums_choices`."""
    rows = [tuple(pt[k] for k in program.params) for pt in pts]
    choices = argnums_choices(rows[0])
    return rows, choices[selector % len(choices)]


def check_program(program, rows, argnums, stats=None, note=None, refusals_ok=False, gg_refusals=None):
    """All oracles for a generated `program` (a generator.Program); see check_function.
    The tape engine cannot run adjit objects called inside f (feature adjit_nested): its
    refusals are skipped then.  If the program asks for it (`program.grad_of_grad`),
    adjit.grad(adjit.grad(f)) in the first parameter is checked too (check_grad_of_grad);
    its refusal, the intended behaviour for now, is counted in stats["gg_refused"] (and by
    reason in the Counter `gg_refusals`), not as a refusal of the program."""
    f = load(program)
    tape_f = load(program, plain=True) if "custom_rule" in program.used else None
    stats = stats if stats is not None else collections.Counter()
    check_function(f, rows, argnums, stats, note, refusals_ok=refusals_ok,
                   skip_tape_refusals="adjit_nested" in program.used, tape_f=tape_f)
    if getattr(program, "grad_of_grad", False):
        try:
            check_grad_of_grad(f, rows, 0, stats, refusals_ok=True)
        except Refusal as e:
            stats["gg_refused"] += 1
            if gg_refusals is not None:
                gg_refusals[e.key] += 1
    if getattr(program, "jacobians", False):
        from .jacobians import check_jacobians   # jacobians imports this module
        check_jacobians(f, rows, program.params.index("a"), stats, gg_refusals, tape_f=tape_f)


def check_function(f, pts, argnums, stats=None, note=None, *, value_tol=(1e-12, 1e-12),
                   effect_tol=(1e-12, 1e-12), tape_tol=(1e-9, 1e-12), require_float=False,
                   skip_tape_refusals=False, tape_notes=None, refusals_ok=False, tape_f=None):
    """All oracles for `f` at the points `pts` (tuples of arguments), gradients with
    respect to `argnums`; raises a FuzzFailure subclass.

    `stats` (a collections.Counter, optional) counts: compiled (adjit compiled f for jit
    and for value_and_grad), points, points_ok, fd_checked, fd_skipped, ...  `note`, if
    given, is called with a line naming each point before it is checked.

    The keywords set the policy; the defaults are the scalar campaign's:
    value_tol     (rtol, atol) of adjit.jit's, value_and_grad's and the tape's values
                  against Python's;
    effect_tol    (rtol, atol) of the arrays adjit.jit leaves against Python's, or None:
                  the same to the bit;
    tape_tol      (rtol, atol) of adjit's gradient against the tape's;
    require_float f must return a finite float (else "python-error"); if False, a point
                  where f is not finite is counted as `nonfinite` and not checked;
    skip_tape_refusals
                  an AdjitError from adjit.tape skips the tape comparison at that point
                  (counted as `tape_refused`, the reason appended to `tape_notes` if
                  given; compared points are counted as `tape_compared`) instead of
                  failing as "tape-crash";
    refusals_ok   a clear AdjitError from adjit.jit or adjit.value_and_grad at the first
                  point (when it compiles) raises `Refusal` (not a failure: the campaign
                  counts it by reason) instead of failing as "adjit-refused".  At a later
                  point (the same specialisation, already compiled and run) it is still
                  "adjit-refused"; an AdjitError that wraps a Numba error is "adjit-crash".
    tape_f        the function adjit.tape runs instead of f (the same program without
                  custom-rule decorators, see custom_helpers.plain_text), or None: f.

    Argument arrays: Python's call, adjit.jit's call and adjit.value_and_grad's call each
    get their own copies of the point's arrays; jit must leave them as Python does (to
    `effect_tol`), value_and_grad must leave every array (differentiated or not) exactly
    as it was.
    """
    stats = stats if stats is not None else collections.Counter()
    names = list(inspect.signature(f).parameters)
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    compiled = False
    jit_ran = False
    for args in pts:
        args_text = _args_text(names, args)
        if note:
            note(f"point: {args_text}, argnums={argnums}")
        stats["points"] += 1
        py_args = copied(args)
        try:
            want = f(*py_args)
        except Exception as e:  # the generator must only write programs Python can run
            fail("python-error", f"f({args_text}) raised {type(e).__name__}: {e}")
        if require_float and (not isinstance(want, float) or not math.isfinite(want)):
            fail("python-error", f"f({args_text}) = {want!r}: not a finite float")
        if not math.isfinite(want):
            stats["nonfinite"] += 1   # cannot happen by construction; do not check such points
            continue

        # 1. jit: value and array writes
        jit_args = copied(args)
        try:
            got = adjit.jit(f)(*jit_args)
        except adjit.AdjitError as e:
            if refusals_ok and not jit_ran and is_refusal(e):
                raise Refusal("jit", e) from None
            fail("adjit-refused" if is_refusal(e) else "adjit-crash",
                 f"adjit.jit(f)({args_text}) raised {type(e).__name__}: {e}")
        except Exception as e:
            fail("adjit-crash", f"adjit.jit(f)({args_text}) raised {type(e).__name__}: {e}")
        jit_ran = True
        if not close(got, want, *value_tol):
            fail("jit-value", f"adjit.jit(f)({args_text}) = {got!r}, Python gives {want!r}")
        for name, after, py in zip(names, jit_args, py_args):
            if isinstance(py, np.ndarray) and not (np.array_equal(after, py) if effect_tol is None
                                                   else close(after, py, *effect_tol)):
                fail("jit-array-effect", f"after adjit.jit(f)({args_text}) {name} = {after.tolist()!r}, "
                     f"Python leaves {name} = {py.tolist()!r}")

        # 2. adjit gradient against the tape engine
        g_args = copied(args)
        call_text = f"adjit.value_and_grad(f, argnums={argnums})({args_text})"
        try:
            gv, grads = adjit.value_and_grad(f, argnums=argnums)(*g_args)
        except adjit.AdjitError as e:
            if refusals_ok and not compiled and is_refusal(e):
                raise Refusal("grad", e) from None
            fail("adjit-refused" if is_refusal(e) else "adjit-crash",
                 f"{call_text} raised {type(e).__name__}: {e}")
        except Exception as e:
            fail("adjit-crash", f"{call_text} raised {type(e).__name__}: {e}")
        if not compiled:
            compiled = True
            stats["compiled"] += 1
        if not close(gv, want, *value_tol):
            fail("grad-value", f"{call_text} value = {gv!r}, Python gives {want!r}")
        for name, after, before in zip(names, g_args, args):
            if isinstance(before, np.ndarray) and not np.array_equal(after, before):
                fail("grad-wrote-input", f"{call_text} changed {name} to {after.tolist()!r}")
        g = grad_vector(grads, argnums, args)
        if g is None:
            fail("grad-value", f"{call_text} returned gradients of the wrong structure or shape: {grads!r}")
        gt = None
        try:
            tv, tgrads = tape_value_and_grad(tape_f or f, argnums, args, stats)
        except adjit.AdjitError as e:
            if not skip_tape_refusals:
                _tape_crash(e, argnums, args_text)
            stats["tape_refused"] += 1
            if tape_notes is not None:
                tape_notes.append(f"{type(e).__name__}: {e}")
        except Exception as e:
            _tape_crash(e, argnums, args_text)
        else:
            if not close(tv, want, *value_tol):
                fail("tape-value", f"adjit.tape.value_and_grad(f)({args_text}) value = {tv!r}, "
                     f"Python gives {want!r}")
            gt = grad_vector(tgrads, argnums, args)
            if gt is None:
                fail("tape-value", f"adjit.tape returned gradients of the wrong structure or shape: {tgrads!r}")
            if skip_tape_refusals:
                stats["tape_compared"] += 1
        check_jvp_against_grad(f, args, argnums, g, want, args_text, stats, value_tol)
        comps = components(args, nums)
        stats["grad_components"] += len(g)
        stats["grad_nonzero"] += int(np.sum(np.abs(g) > 1e-12))

        # 3. finite differences where smooth
        fd = np.full(g.shape, np.nan)
        for j, comp in enumerate(comps):
            d = fd_smooth(f, args, comp)
            if d is None:
                stats["fd_skipped"] += 1
            else:
                fd[j] = d
                stats["fd_checked"] += 1
        smooth = ~np.isnan(fd)

        def fd_ok(gg):
            return bool(np.all(np.abs(gg[smooth] - fd[smooth]) <= FD_RTOL * np.maximum(1.0, np.abs(gg[smooth]))))

        labels = [names[p] + ("" if k is None else f".flat[{k}]") for p, k in comps]
        detail = (f"(argnums={argnums}) at {args_text}:\n  components  = {labels}\n"
                  f"  adjit grad  = {g.tolist()!r}\n"
                  f"  tape grad   = {None if gt is None else gt.tolist()!r}\n"
                  f"  finite diff = {fd.tolist()!r}  (nan: not smooth there, not checked)")
        if gt is not None and not close(g, gt, *tape_tol):
            if smooth.any() and fd_ok(g) and not fd_ok(gt):
                fail("tape-vs-fd", "the tape engine is wrong " + detail)
            fail("grad-vs-tape", "adjit.grad disagrees with adjit.tape " + detail)
        if not fd_ok(g):
            fail("both-vs-fd", ("adjit and the tape agree, finite differences do not " if gt is not None
                                else "adjit's gradient disagrees with finite differences (the tape refused) ")
                 + detail)
        stats["points_ok"] += 1


def check_jvp_against_grad(f, args, argnums, g, want, args_text, stats, value_tol):
    """Forward mode against reverse mode, two independent transformations of the same IR:
    adjit.jvp along a random direction t of the differentiated arguments must give f's value
    and the tangent <grad f, t>, and leave the caller's arrays alone.  A clear refusal of
    forward mode (a construct it has no rule for) is counted, not failed."""
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    rng = np.random.default_rng(len(args_text))
    tangents, direction = [], []
    for k, a in enumerate(args):
        if isinstance(a, np.ndarray) and a.dtype == np.float64:
            t = rng.uniform(-1.0, 1.0, a.shape) if k in nums else np.zeros(a.shape)
        elif isinstance(a, float):
            t = float(rng.uniform(-1.0, 1.0)) if k in nums else 0.0
        else:
            t = None
        tangents.append(t)
        if k in nums:
            direction.extend(np.ravel(t).tolist())
    j_args = copied(args)
    call_text = f"adjit.jvp(f, ({args_text}), tangents)"
    try:
        out, tout = adjit.jvp(f, tuple(j_args), tuple(tangents))
    except adjit.AdjitError as e:
        if is_refusal(e):
            stats["jvp_refused"] += 1
            return
        fail("adjit-crash", f"{call_text} raised {type(e).__name__}: {e}")
    except Exception as e:
        fail("adjit-crash", f"{call_text} raised {type(e).__name__}: {e}")
    stats["jvp_checked"] += 1
    if not close(out, want, *value_tol):
        fail("jvp-vs-grad", f"{call_text} value = {out!r}, Python gives {want!r}")
    for a, before in zip(j_args, args):
        if isinstance(before, np.ndarray) and not np.array_equal(a, before):
            fail("grad-wrote-input", f"{call_text} changed an argument to {a.tolist()!r}")
    expect = float(np.dot(g, np.array(direction)))
    scale = max(1.0, float(np.sum(np.abs(g) * np.abs(np.array(direction)))))
    if not abs(tout - expect) <= 1e-8 * scale:
        fail("jvp-vs-grad", f"{call_text} tangent = {tout!r}, but <adjit.grad, t> = {expect!r} "
             f"(argnums={argnums}, t = {direction!r})")


def _tape_crash(e, argnums, args_text):
    fail("tape-crash", f"adjit.tape.value_and_grad(f, argnums={argnums})({args_text}) raised "
         f"{type(e).__name__}: {e}")


# -- nested transformations: adjit.grad(adjit.grad(f)) ----------------------------------------
H2_COARSE, H2_FINE = 1e-3, 2e-4
GG_RTOL = 1e-3


def second_difference(f, args, p, h):
    """(f(p + h) - 2 f(p) + f(p - h)) / h^2 along the float argument `p`."""
    plus, mid, minus = list(copied(args)), list(copied(args)), list(copied(args))
    plus[p] += h
    minus[p] -= h
    return (f(*plus) - 2.0 * f(*mid) + f(*minus)) / (h * h)


def check_grad_of_grad(f, pts, p, stats=None, refusals_ok=True):
    """adjit.grad(adjit.grad(f, argnums=p), argnums=p) for a float argument `p`: either a
    clear AdjitError when it is built or first called (a `Refusal`, the intended behaviour
    while nested transformations are not implemented; with refusals_ok=False it fails as
    "adjit-refused"), or f's second derivative along p: compared with the second central
    difference of the Python function where that is smooth (two step sizes, 1e-3 and
    2e-4, agreeing to 1e-4 relative), to GG_RTOL (relative, at least 1 absolute).  It must
    also leave the caller's arrays alone.  Kinds: grad-grad-value, grad-wrote-input,
    adjit-crash."""
    stats = stats if stats is not None else collections.Counter()
    names = list(inspect.signature(f).parameters)
    gg, ran = None, False
    for args in pts:
        args_text = _args_text(names, args)
        call_text = f"adjit.grad(adjit.grad(f, argnums={p}), argnums={p})({args_text})"
        g_args = copied(args)
        try:
            if gg is None:
                gg = adjit.grad(adjit.grad(f, argnums=p), argnums=p)
            got = gg(*g_args)
        except adjit.AdjitError as e:
            if refusals_ok and not ran and is_refusal(e):
                raise Refusal("grad(grad)", e) from None
            fail("adjit-refused" if is_refusal(e) else "adjit-crash", f"{call_text} raised {type(e).__name__}: {e}")
        except Exception as e:
            fail("adjit-crash", f"{call_text} raised {type(e).__name__}: {e}")
        ran = True
        stats["gg_points"] += 1
        for name, after, before in zip(names, g_args, args):
            if isinstance(before, np.ndarray) and not np.array_equal(after, before):
                fail("grad-wrote-input", f"{call_text} changed {name} to {after.tolist()!r}")
        coarse = second_difference(f, args, p, H2_COARSE)
        fine = second_difference(f, args, p, H2_FINE)
        if abs(coarse - fine) > 1e-4 * max(1.0, abs(fine)):
            stats["gg_skipped"] += 1
            continue
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail("grad-grad-value", f"{call_text} = {got!r}: not a float")
        if not abs(got - fine) <= GG_RTOL * max(1.0, abs(fine)):
            fail("grad-grad-value", f"{call_text} = {got!r}, the second central difference of f along "
                 f"{names[p]} is {fine!r} (h = {H2_FINE}; {coarse!r} with h = {H2_COARSE})")
        stats["gg_checked"] += 1
