"""The bounded campaign of generated NumPy-array programs (adjit/fuzz/array_programs.py;
see the "Array programs" section of docs/testing.md).

* `test_array_programs_compiled`: COMPILED small programs compiled by Numba, in this
  process (Numba compiles array code slowly: 5-20 s a program at ADJIT_OPT=1, most of it for
  the gradient of array loops);
* `test_array_programs_interpreted`: INTERPRETED programs with NUMBA_DISABLE_JIT=1 (adjit's
  generated source runs in the interpreter; the AD transformation is the same), in a
  subprocess of ``python -m adjit.fuzz.array_programs``.

Both use fixed hypothesis seeds (the same programs on every run).  A longer run:
``ADJIT_FUZZ_ARRAY_EXAMPLES=50`` (50 compiled programs of up to 5 statements; the
interpreted campaign runs ten times as many), or directly ``NUMBA_DISABLE_JIT=1 python -m adjit.fuzz.array_programs
--programs 300 --seed 1``.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import adjit
from adjit.fuzz.array_programs import DEFAULT_FEATURES, NEW_FEATURES, check_array_function, refusal_rate, run_campaign
from adjit.fuzz.oracles import Refusal

EXAMPLES = os.environ.get("ADJIT_FUZZ_ARRAY_EXAMPLES")
# compiled programs are kept small (1-2 statements, expressions one operation deep): Numba
# takes 3-10 s to compile the gradient of one, more with loops; the interpreted campaign
# draws full-size programs (up to 9 statements, two operations deep)
COMPILED = int(EXAMPLES) if EXAMPLES else 5
COMPILED_SIZE = dict(max_statements=2, depth=1) if not EXAMPLES else dict(max_statements=5, depth=2)
INTERPRETED = 10 * int(EXAMPLES) if EXAMPLES else 150
CACHE_DIR = os.environ.get("ADJIT_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "adjit-fuzz-cache")
# a clear AdjitError when adjit compiles a program is a refusal, not a failure, but a
# campaign where most programs are refused checks nothing: bound the rate
MAX_REFUSAL_RATE = 0.3


def _failures_text(failures):
    return "\n\n".join(f"[{f['kind']}] {f['detail']}\n{f['program']}" for f in failures[:3])


def test_array_programs_compiled(monkeypatch):
    monkeypatch.setenv("ADJIT_CACHE_DIR", CACHE_DIR)
    # the Jacobian oracles compile five more objects a program (Numba: seconds each): interpreted only
    stats, failures, notes, features, refusals = run_campaign(COMPILED, seed=0, features=DEFAULT_FEATURES - {"jacobians"},
                                                              **COMPILED_SIZE)
    print(dict(stats), dict(features), notes[:3], dict(refusals))
    assert not failures, _failures_text(failures)
    assert stats["generated"] == stats["passed"] + stats["refused"] + stats["duplicates"] == COMPILED
    assert refusal_rate(stats) <= MAX_REFUSAL_RATE, dict(refusals)
    assert stats["fd_checked"] > 0


def test_array_programs_interpreted():
    root = os.path.dirname(os.path.dirname(os.path.abspath(adjit.__file__)))  # the adjit under test
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", ADJIT_CACHE_DIR=CACHE_DIR,
               PYTHONPATH=os.pathsep.join([root] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    proc = subprocess.run([sys.executable, "-m", "adjit.fuzz.array_programs", "--programs", str(INTERPRETED),
                           "--seed", "1", "--max-refusal-rate", str(MAX_REFUSAL_RATE)],
                          env=env, capture_output=True, text=True, timeout=3600)
    print(proc.stdout[-3000:])
    # exit status 0: no mismatch, no error, and at most MAX_REFUSAL_RATE of the programs refused
    assert proc.returncode == 0, proc.stdout[-20000:] + proc.stderr[-5000:]
    assert f"'generated': {INTERPRETED}," in proc.stdout
    for feature in ("view_write", "param_write", "helper_write", "reshape_write", "fresh_write", "int_bool",
                    "loop_branch", "double_buffer", "pyramid", "unary_plus") + tuple(sorted(NEW_FEATURES)):
        assert f"'{feature}':" in proc.stdout, feature   # the alias-heavy, NumPy and custom-rule features occurred
    assert "Hessians checked" in proc.stdout


def test_array_programs_classic_interpreted():
    """The generator without the alias-heavy features (as before them): must stay clean."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(adjit.__file__)))
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", ADJIT_CACHE_DIR=CACHE_DIR,
               PYTHONPATH=os.pathsep.join([root] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    proc = subprocess.run([sys.executable, "-m", "adjit.fuzz.array_programs", "--programs", "30", "--seed", "2",
                           "--only-classic", "--max-refusal-rate", "0"],
                          env=env, capture_output=True, text=True, timeout=3600)
    print(proc.stdout[-3000:])
    assert proc.returncode == 0, proc.stdout[-20000:] + proc.stderr[-5000:]


# -- adjit bugs found by the campaign (the generator steers around them; see KNOWN_BUGS) ---------
def _written_then_aliased_in_if(x, s):
    w = np.zeros(3)
    w[1] = s
    if s > 1.5:
        v = w * 2.0
    else:
        v = w
    return np.sum(v)


def test_written_array_aliased_through_if():
    # found by the campaign: refused as 'used as a whole and written later' before whole-array
    # reads of written arrays were snapshotted
    x = np.ones(3)
    g = adjit.grad(_written_then_aliased_in_if, argnums=(0, 1))(x, 0.3)
    assert np.array_equal(g[0], [0.0, 0.0, 0.0]) and g[1] == 1.0


def _identity_copy_then_write(x, A, s):
    v = x * 1.0
    v[0] = 5.0
    return np.sum(x) + s


def test_array_identity_is_a_new_array():
    # found by the campaign: the builder folded x * 1.0 on an array to x itself (an alias)
    pts = [(np.ones(3), np.ones((3, 3)), 0.3)]
    check_array_function(_identity_copy_then_write, pts)


def _array_ternary(x, A, s):
    v = x * 2.0 if s > 0.0 else np.tanh(x)
    return np.sum(v)


def test_array_ternary():
    # found by the campaign: `a if c else b` on arrays was refused with a stale hint
    pts = [(np.array([0.5, -1.0, 2.0]), np.ones((3, 3)), s) for s in (0.3, -0.3)]
    check_array_function(_array_ternary, pts)


# -- alias-heavy reproducers (docs/testing.md, "Array programs"): each must either be refused
# with a clear AdjitError or pass every oracle (values, argument effects, gradients vs the tape
# and central differences) -----------------------------------------------------------------------
def _view_tail(x, A, s):
    p = np.tanh(x)
    v = p[1:]
    v[0] = s * 2.0
    return np.sum(p * p)


def _row_view(x, A, s):
    B = A.copy()
    v = B[1]
    v += s * x[0]
    return np.sum(B * B)


def _stencil_loop(x, A, s):
    u = x * s
    for t in range(3):
        inner = u[1:-1]
        inner += 0.1 * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def _base_after_view(x, A, s):
    B = A.copy()
    At = B.T
    B[0, 0] = s
    return np.sum(At * At)


def _param_view(x, A, s):
    v = x[1:]
    v[0] = 5.0
    return np.sum(x * x) + s


def _param_scale(x, A, s):
    A *= 0.5
    return np.sum(A * x[0]) + s


def fill(out, v):
    out[0] = v


def axpy(out, a, y):
    out += a * y


def _helper_row(x, A, s):
    K = A.copy()
    fill(K[1], s * x[0])
    return np.sum(K * K)


def _helper_axpy(x, A, s):
    u = x * s
    axpy(u[1:-1], 0.1, u[2:] - u[:-2])
    return np.sum(u * u)


def _reshape_write(x, A, s):
    buf = np.tanh(A).ravel()
    M = buf.reshape(A.shape[1], A.shape[0])
    M[1, 1] = s
    return np.sum(buf * buf)


def _fresh_write(x, A, s):
    t = np.tanh(x * s)
    t[1] -= t[0]
    return np.sum(t * t)


def _int_after_use(x, A, s):
    c = np.ones(3, dtype=np.int64)
    q = np.sum(c * x)
    c[0] = 3
    return q + np.sum(c * x) * s


def _mask_after_use(x, A, s):
    m = x > 0.0
    y = np.where(m, x * s, 0.0)
    m[1] = True
    return np.sum(y) + np.sum(np.where(m, x, 0.0))


def _branch_in_loop(x, A, s):
    acc = 0.0
    for i in range(3):
        if x[i] > 0.0:
            acc += np.sum(x * x) * x[i] * s
    return acc


def _return_in_loop(x, A, s):
    h = x * s
    for t in range(3):
        h = 0.5 * h + 0.5 * np.tanh(x)
        if np.sum(h) > 0.0:
            return np.sum(h * h)
    return np.sum(h)


def _double_buffer(x, A, s):
    u = x * s
    un = np.zeros_like(u)
    for t in range(3):
        un[1:-1] = u[1:-1] + 0.1 * (u[2:] - 2 * u[1:-1] + u[:-2])
        u, un = un, u
    return np.sum(u * u) + np.sum(un)


def _pyramid(x, A, s):
    a = A.ravel()[:8] * s
    while a.shape[0] > 1:
        a = a[0::2] + a[1::2]
    return a[0]


def _unary_plus(x, A, s):
    y = +x
    y[0] = s
    return np.sum(y * x)


ALIAS_CASES = [_view_tail, _row_view, _stencil_loop, _base_after_view, _param_view, _param_scale, _helper_row,
               _helper_axpy, _reshape_write, _fresh_write, _int_after_use, _mask_after_use, _branch_in_loop,
               _return_in_loop, _double_buffer, _pyramid, _unary_plus]


@pytest.mark.parametrize("f", ALIAS_CASES, ids=[f.__name__.strip("_") for f in ALIAS_CASES])
@pytest.mark.parametrize("argnums", [(0, 1, 2), (2,)])
def test_alias_reproducers(f, argnums):
    rng = np.random.default_rng(7)
    pts = [(np.array([0.3, -0.4, 0.5]), rng.uniform(-1.5, 1.5, (3, 3)), 0.7),
           (np.array([-0.6, 0.2, 0.9]), rng.uniform(-1.5, 1.5, (3, 3)), -0.4)]
    try:
        check_array_function(f, pts, argnums=argnums, refusals_ok=True)
    except Refusal as e:   # a clear refusal is acceptable
        print(e)


def _hn(v):
    return np.sum(np.tanh(v) * v)


def _calls_grad_of_helper(x, A, s):
    return np.sum(adjit.grad(_hn)(x) * x) + s


def test_nested_adjit_object_is_refused_or_right():
    pts = [(np.array([0.3, -0.4, 0.5]), np.ones((3, 3)), 0.7)]
    try:
        check_array_function(_calls_grad_of_helper, pts, refusals_ok=True)
    except Refusal as e:
        assert "nested" in str(e) or "adjit" in str(e)


def test_grad_of_grad_is_refused_or_right():
    from adjit.fuzz.oracles import check_grad_of_grad
    pts = [(np.array([0.3, -0.4, 0.5]), np.ones((3, 3)), 0.7)]
    try:
        check_grad_of_grad(_fresh_write, pts, 2)
    except Refusal as e:
        print(e)
