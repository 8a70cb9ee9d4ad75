"""The bounded generated-program campaign of the normal test run (see docs/testing.md).

Two campaigns, both with fixed seeds (the same programs on every run):

* `test_generated_programs_interpreted`: INTERPRETED_PROGRAMS programs with
  NUMBA_DISABLE_JIT=1 (adjit's generated source runs in the interpreter), in a
  subprocess of ``python -m adjit.fuzz --in-process``;
* `test_generated_programs_compiled`: COMPILED_PROGRAMS programs compiled by Numba, in
  this process.

Long campaigns: ``python -m adjit.fuzz --programs 10000 --seed S``.  The oracles, the
generator and the campaign machinery live in adjit/fuzz/.
"""
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import adjit
import adjit.tape
from adjit.fuzz.campaign import Campaign
from adjit.fuzz.generator import DEFAULT_FEATURES

INTERPRETED_PROGRAMS = 150
COMPILED_PROGRAMS = 15
# a clear AdjitError when adjit compiles a program is a refusal, counted, not a failure; a
# campaign where most programs are refused checks nothing, so the rate is bounded
MAX_REFUSAL_RATE = 0.3
SAVE_DIR = os.path.join(tempfile.gettempdir(), "adjit-fuzz-failures")
# generated modules go to their own cache directory, not the user's
CACHE_DIR = os.environ.get("ADJIT_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "adjit-fuzz-cache")


def _failures_text(failures):
    return "\n\n".join(f"[{f['kind']}] reproducer: {f['path']}\n{f['detail']}\n{f['program']}" for f in failures)


def test_generated_programs_interpreted():
    root = os.path.dirname(os.path.dirname(os.path.abspath(adjit.__file__)))  # the adjit under test
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", ADJIT_CACHE_DIR=CACHE_DIR,
               PYTHONPATH=os.pathsep.join([root] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    out = os.path.join(SAVE_DIR, "interpreted")
    proc = subprocess.run([sys.executable, "-m", "adjit.fuzz", "--in-process", "--programs",
                           str(INTERPRETED_PROGRAMS), "--seed", "0", "--out", out, "--max-failures", "1",
                           "--max-refusal-rate", str(MAX_REFUSAL_RATE)],
                          env=env, capture_output=True, text=True, timeout=1200)
    print(proc.stdout[-3000:])
    assert proc.returncode == 0, proc.stdout[-20000:] + proc.stderr[-5000:]
    assert f"interpreted  {INTERPRETED_PROGRAMS:>11}" in proc.stdout
    for feature in ("custom_rule", "jacobians"):
        assert f" {feature} " in proc.stdout, feature   # the features occurred
    assert "Hessians checked" in proc.stdout


def test_generated_programs_compiled(monkeypatch):
    monkeypatch.setenv("ADJIT_CACHE_DIR", CACHE_DIR)
    # the Jacobian oracles compile five more objects a program (Numba: seconds each): interpreted only
    c = Campaign(features=DEFAULT_FEATURES - {"jacobians"}, save_dir=os.path.join(SAVE_DIR, "compiled"), max_failures=1,
                 origin="tests/fuzz/test_generated.py::test_generated_programs_compiled").run(COMPILED_PROGRAMS, 0)
    print(dict(c.stats), dict(c.refusals))
    assert not c.failures, _failures_text(c.failures)
    assert c.stats["generated"] == c.stats["checked"] + c.stats["refused"] == COMPILED_PROGRAMS
    assert c.stats["checked"] == c.stats["passed"]
    assert c.stats["refused"] <= MAX_REFUSAL_RATE * COMPILED_PROGRAMS, dict(c.refusals)


def test_refusal_is_counted_not_failed():
    """The oracle policy: a clear AdjitError when compiling is a Refusal (counted by reason),
    an AdjitError wrapping a Numba error is a crash."""
    from adjit.fuzz.oracles import Refusal, check_function, is_refusal, refusal_key

    def uses_print(x, a, n):
        print(x)
        return x

    with pytest.raises(Refusal) as info:
        check_function(uses_print, [(0.5, np.ones(4), 2)], 0, refusals_ok=True)
    assert info.value.key.startswith("jit: ")
    assert ".py:" not in info.value.key
    assert not is_refusal(adjit.AdjitError("adjit generated code that Numba could not compile for f() "
                                           "(this is a bug in adjit; please report it with the function)"))
    assert refusal_key("grad", adjit.AdjitError("x at line 12")) == "grad: AdjitError: x at line #"


# -- bugs found by the campaign ----------------------------------------------------------------
def _dead_copy_store(x, a, n):
    b = a.copy()
    b[0] = 2.0 * b[0]
    return a[1]


def test_dead_copy_store():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    g = adjit.grad(_dead_copy_store, argnums=1)(0.5, a, 2)
    assert np.array_equal(g, [0.0, 1.0, 0.0, 0.0])


def _store_into_undifferentiated(x, a, n):
    a[0] = x
    return a[0]


def test_store_into_an_undifferentiated_array():
    # was an adjit.tape limitation (a plain ndarray could not take an x-dependent value):
    # the tape now copies every array argument, so the store is recorded
    assert adjit.grad(_store_into_undifferentiated)(0.3, np.ones(4), 2) == 1.0
    assert adjit.tape.grad(_store_into_undifferentiated, argnums=0)(0.3, np.ones(4), 2) == 1.0


# -- the smoothness test of the finite-difference oracle ----------------------------------------
def _switch(x, a):
    if x > 0.3:
        return 2.0 * x + a[0]
    return x * x


def _kink(x, a):
    return abs(x - 0.3) + math.floor(4.0 * a[0])


@pytest.mark.parametrize("x,smooth", [(0.3 + 3e-5, False), (0.3 - 5e-7, False), (0.3 + 2e-4, True), (0.9, True),
                                      (-0.7, True)])
def test_fd_smooth_skips_points_near_a_branch_switch_or_kink(x, smooth):
    from adjit.fuzz.oracles import fd_smooth
    args = (x, np.array([0.6, 0.1]))
    for f in (_switch, _kink):
        d = fd_smooth(f, args, (0, None))
        assert (d is not None) == smooth, (f.__name__, x, d)
    assert fd_smooth(_kink, (0.9, np.array([0.5 + 1e-5, 0.0])), (1, 0)) is None   # the floor steps at 0.5
    assert fd_smooth(_kink, (0.9, np.array([0.6, 0.0])), (1, 0)) == 0.0
