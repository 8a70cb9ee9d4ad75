"""A 2-layer perceptron's softmax cross-entropy on a minibatch, in whole-array NumPy.

    h = relu(X W1 + b1),   z = h W2 + b2,   loss = mean_i ( -sum_c Y_ic log softmax(z_i)_c )

X is a (B, 64) batch (the size of the problem is B), Y its one-hot labels (B, 10); the
weights are 64-128-10 (the shapes of examples/mlp_digits.py on scikit-learn's digits).
The log-softmax uses the max trick, ``z - np.max(z, axis=1, keepdims=True)``.  This is
vectorised code, not scalar loops: engines that run the function on 0-d values (torch's
scalar engine) skip it.
"""
import numba
import numpy as np

from ..problem import Problem

MLP_INPUTS = 64
MLP_HIDDEN = 128
MLP_CLASSES = 10


def mlp_loss(W1, b1, W2, b2, X, Y):
    h = np.maximum(X @ W1 + b1, 0.0)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_p, axis=1))


def make_args(batch, rng):
    n_in, n_hidden, n_out = MLP_INPUTS, MLP_HIDDEN, MLP_CLASSES
    W1 = rng.standard_normal((n_in, n_hidden)) * np.sqrt(2.0 / n_in)
    b1 = 0.1 * rng.standard_normal(n_hidden)
    W2 = rng.standard_normal((n_hidden, n_out)) * np.sqrt(1.0 / n_hidden)
    b2 = 0.1 * rng.standard_normal(n_out)
    X = rng.standard_normal((batch, n_in))
    Y = np.eye(n_out)[rng.integers(0, n_out, batch)]
    return (W1, b1, W2, b2, X, Y)


@numba.njit(cache=True)
def mlp_loss_adjoint(W1, b1, W2, b2, X, Y):
    batch = X.shape[0]
    n_hidden = W1.shape[1]
    n_out = W2.shape[1]
    # forward; h is the activation, and h > 0 is the ReLU's mask in the reverse sweep
    h = X @ W1
    for i in range(batch):
        for j in range(n_hidden):
            v = h[i, j] + b1[j]
            h[i, j] = v if v > 0.0 else 0.0
    z = h @ W2
    total = 0.0
    for i in range(batch):
        m = -np.inf
        for c in range(n_out):
            z[i, c] += b2[c]
            if z[i, c] > m:
                m = z[i, c]
        s = 0.0
        y_sum = 0.0
        for c in range(n_out):
            # loss_i = -sum_c Y_ic (z_ic - m - log s)
            shifted = z[i, c] - m
            total -= Y[i, c] * shifted
            y_sum += Y[i, c]
            z[i, c] = np.exp(shifted)    # z now holds exp(z - m)
            s += z[i, c]
        total += y_sum * np.log(s)
        for c in range(n_out):
            # the z-adjoint of loss_i / batch is (softmax * sum(Y) - Y) / batch
            z[i, c] = (z[i, c] / s * y_sum - Y[i, c]) / batch   # z now holds d_z
    value = total / batch
    # reverse: the max drops out of the log-softmax (its adjoint is zero up to rounding)
    d_W2 = h.T @ z
    d_b2 = z.sum(axis=0)
    d_h = z @ W2.T
    for i in range(batch):
        for j in range(n_hidden):
            if h[i, j] <= 0.0:
                d_h[i, j] = 0.0
    d_W1 = X.T @ d_h
    d_b1 = d_h.sum(axis=0)
    return value, (d_W1, d_b1, d_W2, d_b2)


PROBLEM = Problem(
    name="mlp",
    title="2-layer MLP, softmax cross-entropy, whole-array NumPy",
    summary=f"h = relu(X W1 + b1), z = h W2 + b2, mean softmax cross-entropy against one-hot Y, "
            f"{MLP_INPUTS}-{MLP_HIDDEN}-{MLP_CLASSES} with the max trick (np.max(z, axis=1, keepdims=True)); "
            "gradient with respect to W1, b1, W2, b2 (the training step of examples/mlp_digits.py). "
            "The size is the batch.",
    function=mlp_loss,
    make_args=make_args,
    argnums=(0, 1, 2, 3),
    hand=mlp_loss_adjoint,
    size_name="batch",
    default_size=64,
    quick_size=64,
    slow_size=1024,   # a tape records array operations here, not one entry per element:
                      # the slow engines are not slow here, so they run at every size of the sweep
    sweep=(16, 64, 256, 1024),
    test_size=8,
    vectorised=True,
)
