"""Optimal control through a simulation with contacts: throw a bouncing ball at a target.

A ball starts at rest at (0, 1). For the first 0.4 s we push it with a control
acceleration u[t] (a 2-D vector per time step); then it flies under gravity and bounces
on the floor, losing 20% of its vertical speed at each bounce:

    if y < 0:  y = -y;  vy = -e * vy

We want it at the target point at t = 3 s, with as little effort as possible:

    loss(u) = |position(3 s) - target|^2 + lam * sum_t |u[t]|^2 dt

adjit differentiates the whole simulation: 150 explicit time steps, with the bounce
`if` inside the loop, and plain gradient descent on the 20 x 2 control array finds a
throw that bounces on its way and ends on the target. The final miss distance is
checked by running the plain Python simulation (not adjit's code) with the optimised
controls.

Run: python examples/trajectory_control.py [PLOT.png]      (matplotlib for the plot)
"""
import os
import sys

import numpy as np

import adjit

DT, STEPS, PUSH = 0.02, 150, 20      # 3 s of simulation; the control acts for the first 20 steps
GRAVITY, RESTITUTION, LAM = 9.81, 0.8, 1e-4
TARGET = np.array([4.0, 0.5])


def simulate(u, path):
    """Semi-implicit Euler with bounces; writes the position at each step into path[t, :]."""
    x, y, vx, vy = 0.0, 1.0, 0.0, 0.0
    bounces = 0
    for t in range(STEPS):
        ax, ay = 0.0, -GRAVITY
        if t < PUSH:
            ax += u[t, 0]
            ay += u[t, 1]
        vx += DT * ax
        vy += DT * ay
        x += DT * vx
        y += DT * vy
        if y < 0.0:  # the contact: reflect the position and the vertical velocity
            y = -y
            vy = -RESTITUTION * vy
            bounces += 1
        path[t, 0] = x
        path[t, 1] = y
    return bounces


def loss(u, target):
    """Squared distance to the target at the final time, plus the control effort."""
    path = np.zeros((STEPS, 2))
    simulate(u, path)
    dx = path[STEPS - 1, 0] - target[0]
    dy = path[STEPS - 1, 1] - target[1]
    effort = 0.0
    for t in range(PUSH):
        effort += (u[t, 0] * u[t, 0] + u[t, 1] * u[t, 1]) * DT
    return dx * dx + dy * dy + LAM * effort


def main():
    png = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "output", "trajectory_control.png")
    u = np.zeros((PUSH, 2))
    u[:, 0], u[:, 1] = 5.0, 20.0  # a first guess: push forward and up
    vg = adjit.value_and_grad(loss)
    print("gradient check of the first guess:", adjit.check_grad(loss, u, TARGET))
    path = np.zeros((STEPS, 2))
    first_bounces = simulate(u, path)
    first_path = path.copy()
    print(f"first guess: {first_bounces} bounce(s), ends at {np.round(path[-1], 3)}, target {TARGET}\n")

    rate, iterations = 0.5, 300
    print(f"gradient descent, step size {rate}:")
    for it in range(iterations + 1):
        value, g = vg(u, TARGET)
        if it % 50 == 0:
            print(f"  iteration {it:4d}   loss {value:.6f}   |gradient| {np.linalg.norm(g):.2e}")
        if it < iterations:
            u -= rate * g

    # an independent check: the plain Python simulation with the optimised controls
    path = np.zeros((STEPS, 2))
    bounces = simulate(u, path)
    miss = float(np.hypot(*(path[-1] - TARGET)))
    print(f"\nthe optimised throw (checked by the plain Python simulation): {bounces} bounce(s), "
          f"ends at {np.round(path[-1], 4)}")
    print(f"miss distance {miss:.2e}; control effort {np.sum(u ** 2) * DT:.2f}; plain-Python loss {loss(u, TARGET):.6f}")
    print(f"the push: mean acceleration ({u[:, 0].mean():.2f}, {u[:, 1].mean():.2f}) m/s^2 over {PUSH * DT:.1f} s")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\nmatplotlib is not installed: no plot (pip install matplotlib)")
        return
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.axhline(0.0, color="k", lw=1)
    ax.plot(first_path[:, 0], first_path[:, 1], "C0:", label="first guess")
    ax.plot(path[:, 0], path[:, 1], "C1", label="optimised")
    ax.plot(path[:PUSH, 0], path[:PUSH, 1], "C3", lw=3, label="controlled push")
    ax.plot(*TARGET, "k*", ms=12, label="target at t = 3 s")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.legend()
    ax.set_title("A bouncing throw optimised by gradient descent through the simulation")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    fig.savefig(png, dpi=100)
    print(f"\nplot saved to {png}")


if __name__ == "__main__":
    main()
