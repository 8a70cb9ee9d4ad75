"""What a new user meets in the first hour (issue 16): the command-line tools' --help and
errors, environment variables with bad values, compile-time feedback, and error messages
that end at the user's code."""
import logging
import os
import subprocess
import sys
import traceback

import numpy as np
import pytest

import adjit
from adjit.errors import AdjitError

ADJIT_DIR = os.path.dirname(os.path.abspath(adjit.__file__))
REPO = os.path.dirname(ADJIT_DIR)


def _run(*args, **env):
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


# --- command line ----------------------------------------------------------------------

def test_python_m_adjit_help_describes_the_demo_instead_of_running_it():
    done = _run("-m", "adjit", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m adjit")
    assert "adjit.grad(loss)" not in done.stdout          # the demo did not run


def test_python_m_adjit_refuses_unknown_flags_with_usage():
    done = _run("-m", "adjit", "--no-such-flag")
    assert done.returncode == 2
    assert "usage: python -m adjit" in done.stderr and "--no-such-flag" in done.stderr


def test_gradbench_help_names_no_internal_function(capsys):
    from adjit.gradbench import tool
    with pytest.raises(SystemExit) as exit_:
        tool.main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "--system-malloc" in text and "keep_freed_memory" not in text


def test_gradbench_ratios_without_the_recordings_says_what_to_do(tmp_path, capsys):
    from adjit.gradbench import ratios
    with pytest.raises(SystemExit) as exit_:
        ratios.main(["--data", str(tmp_path / "nowhere"), "lse"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "lse.jsonl" in err and "--data" in err and "--default-workloads" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("value", ["", "fast", "4", "-O2"])
def test_a_bad_adjit_opt_is_an_adjit_error_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("ADJIT_OPT", value)

    def square(x):
        return x * x

    with pytest.raises(AdjitError, match=r"ADJIT_OPT .*0, 1, 2, 3"):
        adjit.grad(square)(3.0)


# --- compile-time feedback ---------------------------------------------------------------

def feedback_cube(x, n):
    s = 0.0
    for i in range(n):
        s += x[i] * x[i] * x[i]
    return s


def test_each_compile_is_logged_at_info_on_the_adjit_logger(caplog, monkeypatch):
    monkeypatch.setenv("ADJIT_COMPILE_NOTICE", "off")
    with caplog.at_level(logging.INFO, logger="adjit"):
        g = adjit.grad(feedback_cube)
        assert g(np.array([1.0, 2.0]), 2) == pytest.approx([3.0, 12.0])
        g(np.array([1.0, 2.0]), 2)                     # compiled: no second record
    records = [r for r in caplog.records if r.name == "adjit"]
    assert len(records) == 1, [r.getMessage() for r in records]
    text = records[0].getMessage()
    assert records[0].levelno == logging.INFO
    assert "adjit.grad(feedback_cube)" in text and "x: f64[:]" in text and "n: i64" in text
    assert " s (adjit " in text and "Numba" in text


def test_a_slow_compile_prints_one_line_on_stderr(monkeypatch, capsys):
    monkeypatch.setenv("ADJIT_COMPILE_NOTICE", "0.000001")     # every compile is "slow"
    adjit.jit(feedback_cube)(np.array([1.0, 2.0]), 2)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("adjit: ")]
    assert len(lines) == 1, lines
    assert "adjit.jit(feedback_cube)" in lines[0] and "ADJIT_COMPILE_NOTICE=off" in lines[0]


def test_the_notice_is_off_with_zero_and_refuses_nonsense(monkeypatch, capsys):
    from adjit.compile_feedback import DEFAULT_NOTICE_SECONDS, notice_threshold
    monkeypatch.delenv("ADJIT_COMPILE_NOTICE", raising=False)
    assert notice_threshold() == DEFAULT_NOTICE_SECONDS
    for off in ("0", "off", "OFF", "no"):
        monkeypatch.setenv("ADJIT_COMPILE_NOTICE", off)
        assert notice_threshold() is None
    monkeypatch.setenv("ADJIT_COMPILE_NOTICE", "0")
    adjit.jit(feedback_cube)(np.array([1.0, 2.0]), 2)
    assert "adjit: " not in capsys.readouterr().err
    monkeypatch.setenv("ADJIT_COMPILE_NOTICE", "soon")
    with pytest.raises(AdjitError, match="ADJIT_COMPILE_NOTICE"):
        adjit.jit(feedback_cube)(np.array([1.0, 2.0]), 2)


def non_contiguous_matvec(w, X):
    return np.sum(X[:, 1:] @ w)


def test_numba_warnings_point_at_the_users_function(monkeypatch, tmp_path):
    """Numba warns about np.dot on a non-contiguous slice while it compiles; the warning
    names the user's function and file, not the generated module in the cache."""
    from numba.core.errors import NumbaPerformanceWarning
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(tmp_path))     # a fresh disk cache: Numba compiles
    monkeypatch.setenv("ADJIT_COMPILE_NOTICE", "off")
    with pytest.warns(NumbaPerformanceWarning) as caught:
        adjit.grad(non_contiguous_matvec)(np.ones(2), np.ones((3, 3)))
    ours = [w for w in caught if issubclass(w.category, NumbaPerformanceWarning)]
    assert all(w.filename == __file__ for w in ours), [(w.filename, w.lineno) for w in ours]
    assert ours[0].lineno == non_contiguous_matvec.__code__.co_firstlineno
    assert "adjit.grad(non_contiguous_matvec)" in str(ours[0].message)
    assert "generated line" in str(ours[0].message)


# --- error messages ----------------------------------------------------------------------

def prints_its_argument(x):
    print(x)
    return x * x


def uses_convolve(x):
    return np.sum(np.convolve(x, x))


def _adjit_frames(error):
    """The traceback's frames inside the adjit package."""
    return [frame.filename for frame in traceback.extract_tb(error.__traceback__)
            if os.path.abspath(frame.filename).startswith(ADJIT_DIR + os.sep)]


def test_an_adjit_error_ends_at_the_users_call(monkeypatch):
    monkeypatch.delenv("ADJIT_TRACEBACK_FILTERING", raising=False)
    with pytest.raises(AdjitError) as info:
        adjit.grad(prints_its_argument)(2.0)
    frames = _adjit_frames(info.value)
    assert all(f.endswith(os.path.join("adjit", "errors.py")) for f in frames), frames
    assert len(frames) <= 1
    assert traceback.extract_tb(info.value.__traceback__)[0].filename == __file__
    assert info.value.__suppress_context__
    assert f"{__file__}:" in str(info.value)                   # the message still names the user's line
    # nested entry points (check_grad calls a gradient) are filtered too
    with pytest.raises(AdjitError) as info:
        adjit.check_grad(prints_its_argument, 2.0)
    assert len(_adjit_frames(info.value)) <= 1


def test_traceback_filtering_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("ADJIT_TRACEBACK_FILTERING", "off")
    with pytest.raises(AdjitError) as info:
        adjit.grad(prints_its_argument)(2.0)
    assert len(_adjit_frames(info.value)) > 3                   # the frames of the frontend are there


def test_print_gets_a_hint_about_printing_outside_compiled_code():
    with pytest.raises(AdjitError) as info:
        adjit.grad(prints_its_argument)(2.0)
    hint = info.value.hint
    assert "print" in hint and "py_func" in hint


def test_an_unlisted_numpy_function_points_to_the_subset():
    with pytest.raises(AdjitError) as info:
        adjit.grad(uses_convolve)(np.array([1.0, 2.0]))
    assert "NumPy subset" in info.value.hint and "supported-python.md" in info.value.hint


def test_an_int_array_to_differentiate_gets_an_array_hint():
    with pytest.raises(AdjitError) as info:
        adjit.grad(uses_convolve)(np.array([1, 2]))
    assert "astype(np.float64)" in info.value.hint
    assert "3.0 rather than 3" not in info.value.hint
