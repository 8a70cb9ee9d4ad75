"""The gradient check: compare an analytic gradient with numerical differences.

The lecture notes' advice: whenever you derive a gradient by hand, check it against
central differences (f(x + h) - f(x - h)) / 2h, using the relative error
|a - n| / max(|a|, |n|), because the absolute error means nothing without the scale.

This example
1. writes a softmax classifier's loss (cross-entropy + L2) as plain loops, and its
   gradient by hand with NumPy, the way the notes do;
2. checks the hand-written gradient, and a copy with a typical bug, against central
   differences: the check passes the first and catches the second;
3. lets adjit derive the gradient from the loss itself, and checks it with one call,
   adjit.check_grad;
4. shows the check's blind spot: near a kink (abs, max, a branch) the differences
   straddle the kink and report an error although the gradient is right.

Run: python examples/gradient_check.py
"""
import math

import numpy as np

import adjit


def softmax_loss(W, X, y, reg):
    """Mean cross-entropy of softmax(X W) against labels y, plus reg * |W|^2."""
    n, d = X.shape
    c = W.shape[1]
    scores = np.zeros(c)
    loss = 0.0
    for i in range(n):
        m = -math.inf
        for k in range(c):
            s = 0.0
            for j in range(d):
                s += X[i, j] * W[j, k]
            scores[k] = s
            m = max(m, s)
        z = 0.0
        for k in range(c):
            z += math.exp(scores[k] - m)
        loss += math.log(z) + m - scores[y[i]]
    loss = loss / n
    for j in range(d):
        for k in range(c):
            loss += reg * W[j, k] * W[j, k]
    return loss


def softmax_grad_by_hand(W, X, y, reg):
    """The gradient derived on paper: X^T (softmax(XW) - onehot(y)) / n + 2 reg W."""
    s = X @ W
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    return X.T @ p / len(y) + 2.0 * reg * W


def softmax_grad_with_bug(W, X, y, reg):
    """The same with a classic slip: the derivative of reg * W^2 written as reg * W."""
    return softmax_grad_by_hand(W, X, y, reg) - reg * W


def numerical_gradient(f, W, h=1e-5):
    """Central differences, one element of W at a time."""
    g = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        old = W[idx]
        W[idx] = old + h
        fp = f(W)
        W[idx] = old - h
        fm = f(W)
        W[idx] = old
        g[idx] = (fp - fm) / (2 * h)
    return g


def relative_error(a, n):
    """The largest |a - n| / max(|a|, |n|) over the elements (0 where both are 0)."""
    scale = np.maximum(np.abs(a), np.abs(n))
    return float(np.max(np.where(scale > 0, np.abs(a - n) / np.where(scale > 0, scale, 1.0), 0.0)))


def kinked(x):
    """|x0| + max(x1, 0): right everywhere, but with kinks at x0 = 0 and x1 = 0."""
    return abs(x[0]) + max(x[1], 0.0)


def main():
    rng = np.random.default_rng(0)
    n, d, c, reg = 50, 4, 3, 0.1
    X = rng.normal(size=(n, d))
    y = rng.integers(0, c, size=n)
    W = 0.1 * rng.normal(size=(d, c))
    f = lambda w: softmax_loss(w, X, y, reg)  # noqa: E731  (the plain Python loss)
    num = numerical_gradient(f, W)

    print(f"Softmax classifier: {n} points, {d} features, {c} classes, reg = {reg}; loss = {f(W):.6f}\n")
    print("1. Hand-written gradients against central differences (h = 1e-5), relative error:")
    err_hand = relative_error(softmax_grad_by_hand(W, X, y, reg), num)
    err_bug = relative_error(softmax_grad_with_bug(W, X, y, reg), num)
    print(f"   correct derivation        {err_hand:.2e}   passes (rule of thumb: < 1e-7 is right)")
    print(f"   with the reg * W slip     {err_bug:.2e}   caught (> 1e-2: the gradient is wrong)\n")

    print("2. adjit derives the gradient from softmax_loss itself; adjit.check_grad checks it:")
    check = adjit.check_grad(softmax_loss, W, X, y, reg)
    print("  ", check)
    dW = adjit.grad(softmax_loss)(W, X, y, reg)
    err_adjit = float(np.max(np.abs(dW - softmax_grad_by_hand(W, X, y, reg))))
    print(f"   adjit's gradient against the hand-derived one: max |difference| = {err_adjit:.1e}\n")

    print("3. The check's blind spot: a kink within h of the point.")
    x = np.array([3e-7, 1.0])
    print(f"   kinked(x) = |x0| + max(x1, 0) at x = {x}: adjit's gradient {adjit.grad(kinked)(x)}")
    kink = adjit.check_grad(kinked, x)
    print("  ", kink)
    print("   The central difference for x0 straddles the kink of |x0| at 0: (|x0 + h| - |x0 - h|) / 2h")
    print(f"   = {(abs(x[0] + 1e-6) - abs(x[0] - 1e-6)) / 2e-6:.2f} with h = 1e-6, although d|x0|/dx0 = 1 there.")
    print("   A failed check next to abs/max/a branch needs a second look at a point away from the kink:")
    x[0] = 0.5
    print("  ", adjit.check_grad(kinked, x), "at x =", x)


if __name__ == "__main__":
    main()
