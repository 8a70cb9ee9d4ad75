"""Differentiating through an iterative solver: Newton's method on Kepler's equation.

A planet's eccentric anomaly E at mean anomaly M, on an orbit of eccentricity e, solves

    E - e sin E = M,

which has no closed form: it is solved by Newton's method, iterating until the residual
is below a tolerance. That is a `while` loop whose trip count depends on the data.

adjit differentiates the loop as written, iteration by iteration. The implicit function
theorem gives the exact derivatives of the true root E*:

    dE/dM = 1 / (1 - e cos E*),      dE/de = sin E* / (1 - e cos E*).

This example shows the gradient of the *iterations* converging to these as the
tolerance shrinks, just as the solution converges to the root (Newton's quadratic
convergence carries over to the derivatives).

Run: python examples/newton_implicit.py
"""
import math

import adjit


def kepler_solve(M, e, tol):
    """Newton's method for E - e sin E = M; returns (E, number of Newton steps)."""
    E = M + e * math.sin(M)
    r = E - e * math.sin(E) - M
    steps = 0
    while abs(r) > tol:
        E = E - r / (1.0 - e * math.cos(E))
        r = E - e * math.sin(E) - M
        steps += 1
    return E, steps


def eccentric_anomaly(M, e, tol):
    """The function adjit differentiates: it calls the solver above (adjit inlines helpers)."""
    E, steps = kepler_solve(M, e, tol)
    return E


def bisect_root(M, e):
    """E* by bisection to the last bit: an independent reference, not Newton's method."""
    lo, hi = M - 1.0, M + 1.0  # |E - M| = e |sin E| <= e < 1
    while True:
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            return mid
        if mid - e * math.sin(mid) - M > 0.0:
            hi = mid
        else:
            lo = mid


def main():
    M, e = 1.0, 0.9
    root = bisect_root(M, e)
    dM_ift = 1.0 / (1.0 - e * math.cos(root))
    de_ift = math.sin(root) / (1.0 - e * math.cos(root))
    print(f"Kepler's equation E - e sin E = M at M = {M}, e = {e}")
    print(f"root by bisection: E* = {root!r}")
    print(f"implicit function theorem: dE/dM = {dM_ift!r}, dE/de = {de_ift!r}\n")

    g = adjit.value_and_grad(eccentric_anomaly, argnums=(0, 1))
    print(f"  {'tol':>7} {'Newton steps':>12} {'|E - E*|':>10} {'|dE/dM - IFT|':>14} {'|dE/de - IFT|':>14}")
    for tol in (0.5, 1e-2, 1e-4, 1e-8, 1e-12):
        E, (dM, de) = g(M, e, tol)
        steps = kepler_solve(M, e, tol)[1]
        print(f"  {tol:7.0e} {steps:12d} {abs(E - root):10.1e} {abs(dM - dM_ift):14.1e} {abs(de - de_ift):14.1e}")
    print(f"\nAt tol = 1e-12: dE/dM = {dM!r}, dE/de = {de!r}")
    print(f"final gradient error against the implicit derivative: {max(abs(dM - dM_ift), abs(de - de_ift)):.1e}")
    print("\nThe same tolerance-driven loop in the gradient's generated code (a while loop that records")
    print("its trip count, and a reverse loop that runs it backwards):\n")
    adjit.show(g)


if __name__ == "__main__":
    main()
