"""Newton's method with an exact Hessian: regularised logistic regression written as loops.

    loss(w) = sum_i log(1 + exp(-y_i <x_i, w>)) + lam/2 |w|^2

is written the way it is on paper, one sample and one feature at a time. adjit gives its
gradient (reverse mode) and its Hessian (forward mode over reverse mode) from that one
function, and scipy's second-order methods use both:

    scipy.optimize.minimize(loss, w0, jac=adjit.grad(loss), hess=adjit.hessian(loss),
                            method="trust-exact")

Newton-type methods converge quadratically near the optimum, so they take a handful of
iterations where BFGS, which only sees gradients and builds its own Hessian estimate, takes
many more. The script prints the iterations of each and checks the Hessian against finite
differences of the gradient.

    python examples/newton_hessian.py
"""
import math
import time

import numpy as np
from scipy.optimize import minimize

import adjit

N_SAMPLES, N_FEATURES, LAM = 400, 12, 0.1


def loss(w, X, y, lam):
    n, d = X.shape
    total = 0.0
    for i in range(n):
        margin = 0.0
        for j in range(d):
            margin += X[i, j] * w[j]
        m = y[i] * margin
        if m > 0.0:                        # log(1 + exp(-m)), without overflow
            total += math.log1p(math.exp(-m))
        else:
            total += -m + math.log1p(math.exp(m))
    reg = 0.0
    for j in range(d):
        reg += w[j] * w[j]
    return total + 0.5 * lam * reg


def make_data(n=N_SAMPLES, d=N_FEATURES, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[:, 1] = X[:, 0] + 0.1 * rng.normal(size=n)     # two nearly collinear features: badly conditioned
    w_true = rng.normal(size=d)
    y = np.where(rng.random(n) < 1.0 / (1.0 + np.exp(-X @ w_true)), 1.0, -1.0)
    return X, y


loss_grad = adjit.grad(loss)
loss_hessian = adjit.hessian(loss)
loss_jit = adjit.jit(loss)


def run(method, use_hessian):
    X, y = make_data()
    w0 = np.zeros(X.shape[1])
    history = []
    options = dict(jac=loss_grad, args=(X, y, LAM), method=method, callback=lambda w, *rest: history.append(w.copy()))
    if use_hessian:
        options["hess"] = loss_hessian
    options["options"] = {"trust-exact": {"gtol": 1e-10}, "Newton-CG": {"xtol": 1e-10}, "BFGS": {"gtol": 1e-6}}[method]
    start = time.perf_counter()
    result = minimize(loss_jit, w0, **options)
    return result, history, time.perf_counter() - start


def main():
    X, y = make_data()
    w = np.linspace(-1.0, 1.0, X.shape[1])
    loss_grad(w, X, y, LAM)            # compile the gradient and the Hessian (a few seconds,
    H = loss_hessian(w, X, y, LAM)     # once: later runs read Numba's cache)
    loss_jit(w, X, y, LAM)
    # the Hessian against central differences of the gradient
    h = 1e-6
    fd = np.empty_like(H)
    for j in range(w.size):
        e = np.zeros_like(w)
        e[j] = h
        fd[:, j] = (loss_grad(w + e, X, y, LAM) - loss_grad(w - e, X, y, LAM)) / (2 * h)
    print(f"Hessian {H.shape}: symmetric to {np.max(np.abs(H - H.T)):.1e}, "
          f"max |H - finite differences of the gradient| = {np.max(np.abs(H - fd)):.1e}")
    print()

    results = {}
    for method, use_hessian in (("trust-exact", True), ("Newton-CG", True), ("BFGS", False)):
        result, history, seconds = run(method, use_hessian)
        results[method] = result
        label = f"{method}, {'gradient + Hessian' if use_hessian else 'gradient only'}"
        print(f"{label}: {result.nit} iterations, {seconds * 1e3:.1f} ms, converged: {result.success}")
        for k, wk in enumerate(history):
            if k < 8 or k == len(history) - 1:
                g = loss_grad(wk, X, y, LAM)
                print(f"    iteration {k + 1:3d}   loss {loss_jit(wk, X, y, LAM):.12f}   |grad| {np.linalg.norm(g):.2e}")
            elif k == 8:
                print("    ...")
        print()

    newton, bfgs = results["trust-exact"], results["BFGS"]
    print(f"final loss: trust-exact {newton.fun:.12f}, Newton-CG {results['Newton-CG'].fun:.12f}, BFGS {bfgs.fun:.12f}")
    print(f"max |w_trust-exact - w_BFGS| = {np.max(np.abs(newton.x - bfgs.x)):.1e}")
    print(f"iterations: trust-exact {newton.nit}, Newton-CG {results['Newton-CG'].nit}, BFGS {bfgs.nit}")
    print("w =", np.array2string(newton.x, precision=4))


if __name__ == "__main__":
    main()
