"""Vectorised PyTorch versions of the gradbench problems (``gb-*``)."""
import numpy as np
import torch

from ..problems.gmm import HALF_LOG_2PI


def llsq_vec(x, n):
    t = -1.0 + 2.0 * torch.arange(n, dtype=torch.float64) / (n - 1)
    powers = t[:, None] ** torch.arange(x.shape[0], dtype=torch.float64)[None, :]
    r = torch.sign(t) - powers @ x
    return 0.5 * torch.sum(r * r)


def ode_vec(x, s):
    from .torch_versions import rk4_last     # not at the top: torch_versions imports this module at its end
    return rk4_last(x, x, s)


def gmm_vec(alpha, mu, q, l, x, gamma, m, wishart_c):
    n, d = x.shape
    k = alpha.shape[0]
    rows, cols = np.triu_indices(d, 1)          # (i, j), i < j, in l's order; the entry is Q[j, i]
    lower = torch.diag_embed(torch.exp(q))
    lower = lower.index_put((torch.arange(k)[:, None], torch.from_numpy(cols)[None, :],
                             torch.from_numpy(rows)[None, :]), l)
    z = x[:, None, :] - mu[None, :, :]
    u = torch.einsum("kji,nki->nkj", lower, z)
    beta = alpha + torch.sum(q, dim=1) - 0.5 * torch.sum(u * u, dim=2)
    prior = torch.sum(0.5 * gamma * gamma * (torch.sum(torch.exp(q) ** 2, dim=1) + torch.sum(l * l, dim=1))
                      - m * torch.sum(q, dim=1))
    return (-n * d * HALF_LOG_2PI + torch.sum(torch.logsumexp(beta, dim=1)) - n * torch.logsumexp(alpha, dim=0)
            - prior + k * wishart_c)


def lstm_vec(main_params, extra_params, state, sequence):
    layers = main_params.shape[0] // 2
    b = main_params.shape[1] // 4
    weights, biases = main_params[0::2].reshape(layers, 4, b), main_params[1::2].reshape(layers, 4, b)
    hidden = [state[2 * j] for j in range(layers)]
    cell = [state[2 * j + 1] for j in range(layers)]
    c = sequence.shape[0]
    total = 0.0
    for t in range(c - 1):
        v = sequence[t] * extra_params[0]
        for j in range(layers):
            w, bias = weights[j], biases[j]
            f = torch.sigmoid(v * w[0] + bias[0])
            g = torch.sigmoid(hidden[j] * w[1] + bias[1])
            o = torch.sigmoid(v * w[2] + bias[2])
            ch = torch.tanh(hidden[j] * w[3] + bias[3])
            cell[j] = cell[j] * f + g * ch
            v = o * torch.tanh(cell[j])
            hidden[j] = v
        y = v * extra_params[1] + extra_params[2]
        total = total + torch.sum(sequence[t + 1] * (y - torch.log(torch.sum(torch.exp(y)) + 2.0)))
    return -total / ((c - 1) * b)


VECTORISED = {
    "gb-llsq": llsq_vec,
    "gb-ode": ode_vec,
    "gb-gmm": gmm_vec,
    "gb-lstm": lstm_vec,
}
