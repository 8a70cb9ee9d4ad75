"""Every example runs, and prints the numbers it promises.

Each example runs as a subprocess (as a user would run it). Where possible its key number
is checked against a value computed here, independently of the example's own code.
"""
import importlib.util
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(name, *args):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / name), *map(str, args)], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout


def number(pattern, text):
    """The float captured by `pattern` (with one group) in `text`."""
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not found in:\n{text}"
    return float(m.group(1))


def load_example(name):
    """Import an example as a module (this compiles nothing: adjit works at call time)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def has(module):
    return importlib.util.find_spec(module) is not None


FLOAT = r"(-?[0-9.]+(?:e[-+][0-9]+)?)"


def test_quickstart():
    out = run("quickstart.py")
    assert "(-4.0, -4.0, 3.0)" in out
    assert "(-8.0, 6.0, 2.0, 0.0)" in out
    assert "dy/dx = 35.0" in out
    assert "dw = [-0.2  -0.39  0.2 ]" in out and "dx = [ 0.39 -0.59]" in out
    assert "def neuron_grad(w, x):" in out


def test_four_ways():
    out = run("four_ways.py")
    # dl4/dx from the expanded polynomial, by Horner's rule: independent of the example's code
    coefficients = [-131072, 458752, -638976, 450560, -168960, 32256, -2688, 64]
    exact = 0.0
    for c in coefficients:
        exact = exact * 0.3 + c
    adjit_value = number(r"adjit\.grad\s+" + FLOAT, out)
    assert abs(adjit_value - exact) < 1e-12
    assert abs(number(r"manual \(closed form\)\s+" + FLOAT, out) - exact) < 1e-12
    central = number(r"numerical, central, h = \S+\s+" + FLOAT, out)
    assert 1e-13 < abs(central - exact) < 1e-6  # differences are close, but not exact
    if has("sympy"):
        assert abs(number(r"symbolic \(sympy, lambdified\)\s+" + FLOAT, out) - exact) < 1e-12
    else:
        assert "sympy is not installed" in out
    assert "def l4_grad(x):" in out


def test_gradient_check():
    out = run("gradient_check.py")
    assert re.search(r"correct derivation\s+\S+\s+passes", out)
    assert number(r"with the reg \* W slip\s+" + FLOAT, out) > 1e-2
    assert re.search(r"GradCheck\(ok; max relative error W: ", out)
    assert number(r"against the hand-derived one: max \|difference\| = " + FLOAT, out) < 1e-12
    assert "GradCheck(FAILED; max relative error x:" in out       # the kink
    assert out.rstrip().endswith("at x = [0.5 1. ]") and "GradCheck(ok; max relative error x:" in out


def test_newton_implicit():
    out = run("newton_implicit.py")
    M, e = 1.0, 0.9
    E = M
    for _ in range(200):  # fixed-point iteration E = M + e sin E (a contraction here), not Newton
        E = M + e * math.sin(E)
    assert abs(E - M - e * math.sin(E)) < 1e-15
    dM, de = 1.0 / (1.0 - e * math.cos(E)), math.sin(E) / (1.0 - e * math.cos(E))
    assert abs(number(r"At tol = 1e-12: dE/dM = " + FLOAT, out) - dM) < 1e-12
    assert abs(number(r"At tol = 1e-12: dE/dM = \S+, dE/de = " + FLOAT, out) - de) < 1e-12
    # the gradient error shrinks with the tolerance
    rows = re.findall(r"^\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)$", out, re.M)
    errors = [float(r[3]) for r in rows]
    assert len(errors) == 5 and errors[0] > 1e-2 and errors == sorted(errors, reverse=True)
    assert "while True:" in out


@pytest.mark.skipif(not has("scipy"), reason="needs scipy")
def test_ode_fit(tmp_path):
    png = tmp_path / "fit.png"
    out = run("ode_fit.py", png)
    assert re.search(r"GradCheck\(ok", out)
    m = re.search(r"L-BFGS-B, adjit gradient\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", out)
    fitted = np.array([float(v) for v in m.groups()[:3]])
    # the truth is known: the fit must find it to within the noise
    assert np.allclose(fitted, [2.0, 0.1, 1.0], atol=0.03), fitted
    assert float(m.group(4)) < 0.05 ** 2  # the residual is about the noise variance
    m_fd = re.search(r"L-BFGS-B, finite differences\s+(\S+)\s+(\S+)\s+(\S+)", out)
    assert np.allclose(fitted, [float(v) for v in m_fd.groups()], atol=1e-3)
    assert "converged: True" in out
    assert png.exists() == has("matplotlib")


def test_trajectory_control(tmp_path):
    png = tmp_path / "throw.png"
    out = run("trajectory_control.py", png)
    assert "GradCheck(ok" in out
    assert number(r"miss distance " + FLOAT, out) < 1e-2
    first = number(r"iteration\s+0\s+loss " + FLOAT, out)
    final = number(r"plain-Python loss " + FLOAT, out)
    assert final < first / 10
    assert number(r"optimised throw .*?: (\d+) bounce", out) >= 1  # it went through the contact branch
    assert png.exists() == has("matplotlib")


def test_soft_dtw():
    out = run("soft_dtw.py")
    example = load_example("soft_dtw")
    x, y = example.make_series(100, 120)
    gamma = 0.1
    # soft-DTW from its definition with np.logaddexp, written independently of the example
    R = np.full((101, 121), np.inf)
    R[0, 0] = 0.0
    for i in range(1, 101):
        for j in range(1, 121):
            prev = np.array([R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]])
            R[i, j] = (x[i - 1] - y[j - 1]) ** 2 - gamma * np.logaddexp.reduce(-prev / gamma)
    assert abs(number(r"gamma = 0\.1: " + FLOAT, out) - R[100, 120]) < 1e-5
    assert "GradCheck(ok" in out
    assert number(r"max \|difference\| of value and gradients = " + FLOAT, out) < 1e-10
    assert re.search(r"adjit is [0-9,]+x faster than the tape engine", out)  # printed, not asserted: no timing tests


def test_demo():
    out = subprocess.run([sys.executable, "-m", "adjit"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "[ 1.         -0.54030231  4.        ]" in out.stdout
    assert "GradCheck(ok" in out.stdout


def test_mlp_digits():
    pytest.importorskip("sklearn")
    out = run("mlp_digits.py", "--epochs", 5, "--timing-steps", 10)
    assert number(r"test accuracy: " + FLOAT, out) >= 0.9
    assert number(r"adjit.tape.grad .*gradient differs from adjit's by " + FLOAT, out) < 1e-10


@pytest.mark.skipif(not has("scipy"), reason="needs scipy")
def test_newton_hessian():
    from scipy.optimize import minimize
    out = run("newton_hessian.py")
    example = load_example("newton_hessian")
    X, y = example.make_data()
    lam = example.LAM

    # the loss, its gradient and its Hessian in NumPy, written independently of the example
    def loss(w):
        return np.sum(np.logaddexp(0.0, -y * (X @ w))) + 0.5 * lam * w @ w

    def gradient(w):
        s = 1.0 / (1.0 + np.exp(y * (X @ w)))
        return -X.T @ (y * s) + lam * w

    def hessian(w):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        return (X.T * (p * (1 - p))) @ X + lam * np.eye(w.size)

    best = minimize(loss, np.zeros(X.shape[1]), jac=gradient, hess=hessian, method="trust-exact",
                    options={"gtol": 1e-12})
    assert abs(number(r"final loss: trust-exact " + FLOAT, out) - best.fun) < 1e-9
    w = np.linspace(-1.0, 1.0, X.shape[1])
    assert np.allclose(example.loss_hessian(w, X, y, lam), hessian(w), rtol=1e-10, atol=1e-10)
    assert number(r"max \|H - finite differences of the gradient\| = " + FLOAT, out) < 1e-5
    newton = number(r"iterations: trust-exact (\d+)", out)
    bfgs = number(r"iterations: trust-exact \d+, Newton-CG \d+, BFGS (\d+)", out)
    assert newton < bfgs                       # the Hessian pays for itself in iterations
    assert out.count("converged: True") == 3
