"""Train the lecture notes' 2-layer network on handwritten digits, with gradients from adjit.

The network is a = relu(X W1 + b1), then a softmax over a W2 + b2, trained by minibatch
SGD (batch 64) on the softmax cross-entropy.  The loss is plain NumPy: matrix products,
broadcasting, np.maximum, np.exp, np.log, reductions along an axis.  adjit.grad compiles
its gradient with respect to the four weight arrays once, to Numba; every training step
then calls the compiled gradient.

The data are scikit-learn's bundled 8x8 digits (1,797 images, shipped inside the
package: no download), split 80/20 into a training and a test set, with each pixel
standardised by the training set's mean and deviation.

After training, the time of one gradient (forward and backward on a batch of 64) is
compared with adjit.tape's (adjit's operator-overloading engine on the same function)
and, if PyTorch is installed, with PyTorch's autograd on the same network.

Run: python examples/mlp_digits.py [--epochs N] [--timing-steps N] [--seed N]
(needs scikit-learn; tqdm and torch are used when installed)
"""
import argparse
import sys
import time

import numpy as np

import adjit
import adjit.tape

N_HIDDEN = 128
BATCH = 64


def loss(W1, b1, W2, b2, X, Y_onehot):
    """Mean softmax cross-entropy of the 2-layer network on the batch (X, Y_onehot)."""
    h = np.maximum(X @ W1 + b1, 0.0)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)            # the max trick: exp never overflows
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y_onehot * log_p, axis=1))


def predict(W1, b1, W2, b2, X):
    return np.argmax(np.maximum(X @ W1 + b1, 0.0) @ W2 + b2, axis=1)


def load_data(rng):
    """(X_train, y_train, X_test, y_test), standardised; None without scikit-learn."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return None
    X, y = load_digits(return_X_y=True)
    order = rng.permutation(len(y))
    n_test = len(y) // 5
    test, train = order[:n_test], order[n_test:]
    mean = X[train].mean(axis=0)
    std = X[train].std(axis=0) + 1e-3        # a few border pixels are always 0
    X = (X - mean) / std
    return X[train], y[train], X[test], y[test]


def init_params(rng, n_in, n_out):
    """He initialisation for the ReLU layer, zero biases."""
    return [rng.standard_normal((n_in, N_HIDDEN)) * np.sqrt(2.0 / n_in), np.zeros(N_HIDDEN),
            rng.standard_normal((N_HIDDEN, n_out)) * np.sqrt(1.0 / N_HIDDEN), np.zeros(n_out)]


def batches(rng, X, Y):
    """The full minibatches of one epoch, shuffled: every batch has the same shape, so
    adjit compiles the gradient once."""
    order = rng.permutation(len(X))
    for start in range(0, len(X) - BATCH + 1, BATCH):
        rows = order[start:start + BATCH]
        yield X[rows], Y[rows]


class TextBar:
    """A minimal progress bar (used when tqdm is not installed)."""

    def __init__(self, total, desc):
        self.total, self.desc, self.n, self.postfix = total, desc, 0, ""

    def update(self, k=1):
        self.n += k
        done = int(30 * self.n / self.total)
        line = f"{self.desc} [{'#' * done}{'.' * (30 - done)}] {self.n}/{self.total} {self.postfix}"
        sys.stderr.write("\r" + line.ljust(getattr(self, "_width", 0)))   # blank a longer previous line
        self._width = len(line)
        sys.stderr.flush()

    def set_postfix_str(self, text):
        self.postfix = text
        self.update(0)

    def close(self):
        sys.stderr.write("\n")


def progress_bar(total, desc):
    try:
        from tqdm import tqdm
    except ImportError:
        return TextBar(total, desc)
    return tqdm(total=total, desc=desc, unit="step")


def train(grad_fn, params, X, Y, epochs, lr, rng):
    """Minibatch SGD, updating `params` in place; returns (steps, seconds of the first
    gradient call, which compiles)."""
    n_steps = epochs * (len(X) // BATCH)
    bar = progress_bar(n_steps, "training")
    # the first call compiles the gradient (seconds for whole-array code; a later run loads
    # it from adjit's disk cache): say so, rather than a bar frozen at 0
    bar.set_postfix_str("compiling the gradient (first call)")
    first_call = None
    for epoch in range(epochs):
        for Xb, Yb in batches(rng, X, Y):
            start = time.perf_counter()
            grads = grad_fn(*params, Xb, Yb)
            if first_call is None:
                first_call = time.perf_counter() - start
                bar.set_postfix_str(f"compiled in {first_call:.1f} s; epoch 1/{epochs}")
            for p, g in zip(params, grads):
                p -= lr * g
            bar.update()
        bar.set_postfix_str(f"epoch {epoch + 1}/{epochs}, training loss {loss(*params, X, Y):.4f}")
    bar.close()
    return n_steps, first_call


def relative_difference(grads, reference):
    """max |g - g_ref| / max |g_ref| over the gradient arrays."""
    return max(np.max(np.abs(g - r)) / np.max(np.abs(r)) for g, r in zip(grads, reference))


def time_per_step(grad_fn, params, X, Y, steps, rng):
    """Median seconds of grad_fn on `steps` training batches (after one warm-up call)."""
    pairs = [b for b, _ in zip(_cycle(rng, X, Y), range(steps + 1))]
    grad_fn(*params, *pairs[0])
    seconds = []
    for Xb, Yb in pairs[1:]:
        start = time.perf_counter()
        grad_fn(*params, Xb, Yb)
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


def _cycle(rng, X, Y):
    while True:
        yield from batches(rng, X, Y)


def torch_grad_fn():
    """The same network in PyTorch: forward and backward, gradients as NumPy arrays."""
    try:
        import torch
    except ImportError:
        return None
    # small matrices: one thread, like adjit's compiled code (PyTorch's default of one
    # thread per core makes every operation wait for its threads, badly so on a busy machine)
    torch.set_num_threads(1)

    def grad_fn(W1, b1, W2, b2, X, Y_onehot):
        leaves = [torch.tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
        tW1, tb1, tW2, tb2 = leaves
        h = torch.relu(torch.from_numpy(X) @ tW1 + tb1)
        log_p = torch.log_softmax(h @ tW2 + tb2, dim=1)
        value = -torch.mean(torch.sum(torch.from_numpy(Y_onehot) * log_p, dim=1))
        value.backward()
        return [t.grad.numpy() for t in leaves]
    return grad_fn


def format_us(seconds):
    return f"{seconds * 1e6:8.1f} us"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30, help="training epochs (default 30)")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD step size (default 0.1)")
    parser.add_argument("--timing-steps", type=int, default=200,
                        help="gradient calls timed per engine for the comparison (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    data = load_data(rng)
    if data is None:
        print("this example needs scikit-learn (pip install scikit-learn, or the 'examples' extra); skipped")
        return 0
    X_train, y_train, X_test, y_test = data
    n_classes = 10
    Y_train = np.eye(n_classes)[y_train]
    print(f"digits: {len(X_train)} training and {len(X_test)} test images of {X_train.shape[1]} pixels; "
          f"network {X_train.shape[1]}-{N_HIDDEN}-{n_classes}, batch {BATCH}, {args.epochs} epochs")

    grad_fn = adjit.grad(loss, argnums=(0, 1, 2, 3))
    params = init_params(rng, X_train.shape[1], n_classes)

    start = time.perf_counter()
    n_steps, first_call = train(grad_fn, params, X_train, Y_train, args.epochs, args.lr, rng)
    wall = time.perf_counter() - start
    train_accuracy = float(np.mean(predict(*params, X_train) == y_train))
    accuracy = float(np.mean(predict(*params, X_test) == y_test))
    print(f"trained in {wall:.2f} s, {n_steps} steps (the first gradient call, which compiles, "
          f"took {first_call:.2f} s)")
    print(f"training accuracy: {train_accuracy:.4f}")
    print(f"test accuracy: {accuracy:.4f}")

    # the same gradient from the other engines: first their answers, then their speed
    engines = [("adjit.grad", grad_fn), ("adjit.tape.grad", adjit.tape.grad(loss, argnums=(0, 1, 2, 3)))]
    torch_fn = torch_grad_fn()
    if torch_fn is not None:
        engines.append(("PyTorch autograd", torch_fn))
    Xb, Yb = X_train[:BATCH], Y_train[:BATCH]
    reference = grad_fn(*params, Xb, Yb)
    steps = args.timing_steps
    print(f"\ntime per gradient step (forward and backward, batch {BATCH}, median of {steps} calls):")
    adjit_seconds = None
    for name, fn in engines:
        seconds = time_per_step(fn, params, X_train, Y_train, steps, rng)
        adjit_seconds = adjit_seconds or seconds
        if fn is grad_fn:
            note = "(the reference)"
        else:
            note = f"(gradient differs from adjit's by {relative_difference(fn(*params, Xb, Yb), reference):.1e})"
        print(f"  {name:17s}{format_us(seconds)}  {seconds / adjit_seconds:6.1f} x adjit   {note}")
    if torch_fn is None:
        print("  (PyTorch is not installed: no PyTorch comparison)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
