"""The lecture notes' computational-graph examples, differentiated by adjit.

Run: python examples/quickstart.py
"""
import math

import numpy as np

import adjit


def add_mul(x, y, z):
    """f = (x + y) z: the add gate distributes the gradient, the mul gate switches it."""
    return (x + y) * z


def gates(x, y, z, w):
    """f = 2 (x y + max(z, w)): add distributes, max routes, mul switches."""
    return 2 * (x * y + max(z, w))


def fork(x):
    """u = x + 1, y = x u: x is used twice, so its gradient accumulates (35 at x = 17)."""
    u = x + 1
    return x * u


def neuron(w, x):
    """The sigmoid neuron 1 / (1 + exp(-(w0 x0 + w1 x1 + w2)))."""
    return 1.0 / (1.0 + math.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))


def main():
    print("f = (x + y) z at (-2, 5, -4):  df/d(x, y, z) =",
          adjit.grad(add_mul, argnums=(0, 1, 2))(-2.0, 5.0, -4.0))
    print("f = 2 (x y + max(z, w)) at (3, -4, 2, -1):  df/d(x, y, z, w) =",
          adjit.grad(gates, argnums=(0, 1, 2, 3))(3.0, -4.0, 2.0, -1.0), " (max routes to z, w gets 0)")
    print("y = x (x + 1) at x = 17:  dy/dx =", adjit.grad(fork)(17.0))
    w, x = np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])
    dw, dx = adjit.grad(neuron, argnums=(0, 1))(w, x)
    print("sigmoid neuron, w = [2, -3, -3], x = [-1, -2]:  dw =", np.round(dw, 2), " dx =", np.round(dx, 2))
    print("\nThe code adjit generated for the neuron's gradient:\n")
    adjit.show(adjit.grad(neuron, argnums=(0, 1)), w, x)


if __name__ == "__main__":
    main()
