"""How far an engine's answer is from the hand-written adjoint's.

The error of an array is measured relative to the array's max-norm, max|g - g_ref| /
max|g_ref|: a gradient whose entries span many magnitudes (the softmax of logsumexp, the
ODE's) is then judged by its largest entries, as a user of the gradient would judge it,
and the near-zero entries do not blow up the ratio.  A reference that is exactly zero is
compared in absolute terms.
"""
import numpy as np

DEFAULT_RTOL = 1e-8


def _relative(a, ref):
    a = np.asarray(a, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if a.shape != ref.shape:
        return np.inf
    if ref.size == 0:
        return 0.0
    diff = np.max(np.abs(a - ref))
    if not np.isfinite(diff):
        return np.inf
    scale = np.max(np.abs(ref))
    return float(diff / scale) if scale > 0 else float(diff)


def relative_error(result, reference):
    """Largest relative error over the value and every gradient; (value, grads) pairs.

    A result without gradients (the primal) is judged on its value alone.
    """
    value, grads = result
    ref_value, ref_grads = reference
    error = _relative(value, ref_value)
    if grads is not None:
        if len(grads) != len(ref_grads):
            return np.inf
        for g, ref in zip(grads, ref_grads):
            error = max(error, _relative(g, ref))
    return error
