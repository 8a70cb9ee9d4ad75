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
from adjit.fuzz.array_programs import check_array_function, run_campaign

EXAMPLES = os.environ.get("ADJIT_FUZZ_ARRAY_EXAMPLES")
# compiled programs are kept small (1-2 statements, expressions one operation deep): Numba
# takes 3-10 s to compile the gradient of one, more with loops; the interpreted campaign
# draws full-size programs (up to 9 statements, two operations deep)
COMPILED = int(EXAMPLES) if EXAMPLES else 5
COMPILED_SIZE = dict(max_statements=2, depth=1) if not EXAMPLES else dict(max_statements=5, depth=2)
INTERPRETED = 10 * int(EXAMPLES) if EXAMPLES else 60
CACHE_DIR = os.environ.get("ADJIT_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "adjit-fuzz-cache")


def _failures_text(failures):
    return "\n\n".join(f"[{f['kind']}] {f['detail']}\n{f['program']}" for f in failures[:3])


def test_array_programs_compiled(monkeypatch):
    monkeypatch.setenv("ADJIT_CACHE_DIR", CACHE_DIR)
    stats, failures, notes, features = run_campaign(COMPILED, seed=0, **COMPILED_SIZE)
    print(dict(stats), dict(features), notes[:3])
    assert not failures, _failures_text(failures)
    assert stats["generated"] == stats["passed"] == COMPILED
    assert stats["fd_checked"] > 0


def test_array_programs_interpreted():
    root = os.path.dirname(os.path.dirname(os.path.abspath(adjit.__file__)))  # the adjit under test
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", ADJIT_CACHE_DIR=CACHE_DIR,
               PYTHONPATH=os.pathsep.join([root] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    proc = subprocess.run([sys.executable, "-m", "adjit.fuzz.array_programs", "--programs", str(INTERPRETED),
                           "--seed", "1"], env=env, capture_output=True, text=True, timeout=3600)
    print(proc.stdout[-3000:])
    assert proc.returncode == 0, proc.stdout[-20000:] + proc.stderr[-5000:]
    assert f"'generated': {INTERPRETED}," in proc.stdout and f"'passed': {INTERPRETED}," in proc.stdout


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
