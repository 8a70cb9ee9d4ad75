"""Machine code loaded from the disk cache in a new process is the code that was compiled.

A gradient loaded from Numba's cache carries the runtime helpers it calls under the names
Numba gave them when it was compiled.  Those names once held only a per-process counter
(every helper was ``impl``): in a process that compiled other helpers first, a cached
``np.sum(..., axis=1)`` could be linked to the running-maximum helper and return zeros.
Each case runs in fresh processes sharing one empty cache directory.
"""
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import sys
    import numpy as np
    import adjit

    def running(a, b):
        return np.sum(np.maximum.accumulate(a, axis=1) * b)

    def rows(a, b):
        return np.sum(np.sum(a * b, axis=1) ** 2)

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    if sys.argv[1] == "running-first":
        adjit.grad(running, argnums=(0, 1))(a, b)
    value, (da, db) = adjit.value_and_grad(rows, argnums=(0, 1))(a, b)
    s = np.sum(a * b, axis=1)
    assert abs(value - rows(a, b)) <= 1e-12 * abs(rows(a, b)), (value, rows(a, b))
    np.testing.assert_allclose(da, 2 * s[:, None] * b, rtol=1e-12)
    np.testing.assert_allclose(db, 2 * s[:, None] * a, rtol=1e-12)
    print("ok")
''')


def _run(tmp_path, order):
    env = dict(os.environ, ADJIT_CACHE_DIR=str(tmp_path), ADJIT_COMPILE_NOTICE="off")
    script = tmp_path / "case.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), order], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


def test_cached_gradient_is_right_after_other_helpers_compiled(tmp_path):
    _run(tmp_path, "alone")            # compiles `rows` into the cache
    _run(tmp_path, "running-first")    # other helpers first, then `rows` from the cache
    _run(tmp_path, "running-first")    # both from the cache
