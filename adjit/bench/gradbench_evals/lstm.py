"""gradbench's ``lstm`` eval: ADBench's LSTM with diagonal weights, and its loss.

Inputs (b = hidden size = alphabet size, l layers, c characters):

* main_params (2l, 4b): row 2j holds layer j's weights and row 2j+1 its biases, each
  split into four blocks of b: forget, input, output, change;
* extra_params (3, b): input weights, output weights, output biases;
* state (2l, b): row 2j is layer j's initial hidden state, row 2j+1 its cell state;
* sequence (c, b): one-hot characters.

For t = 0 .. c-2 the network reads character t.  Layer 0 gets sequence[t] * in_weight,
layer j > 0 the new hidden state of layer j - 1; for each entry i

    forget = sigmoid(input_i w_f + b_f),     ingate = sigmoid(hidden_i w_i + b_i),
    outgate = sigmoid(input_i w_o + b_o),    change = tanh(hidden_i w_c + b_c),
    cell_i = cell_i forget + ingate change,  hidden_i = outgate tanh(cell_i),

then y = hidden(last layer) * out_weight + out_bias is scored against character t+1:
total += sum_i sequence[t+1, i] (y_i - log(2 + sum_i exp(y_i))) (ADBench's logsumexp adds
2).  The objective is -total / ((c - 1) b); the jacobian is its gradient with respect to
main_params and extra_params, each flattened row by row, concatenated.

All weights are diagonal, so entry i of every layer depends only on entry i of the
layer below and of its own previous state: the code runs the layers inside a loop over
i.  The hidden and cell states are kept for every time step, (c, l, b) arrays written
once each, rather than overwritten in place.
"""
import math

import adjit
import numpy as np

from . import Eval, EvalFunction, floats, to_float


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def lstm_objective(main_params, extra_params, state, sequence):
    layers = main_params.shape[0] // 2
    b = main_params.shape[1] // 4
    c = sequence.shape[0]
    hidden = np.empty((c, layers, b))
    cell = np.empty((c, layers, b))
    for j in range(layers):
        for i in range(b):
            hidden[0, j, i] = state[2 * j, i]
            cell[0, j, i] = state[2 * j + 1, i]
    ypred = np.empty(b)
    total = 0.0
    for t in range(c - 1):
        sum_exp = 0.0
        for i in range(b):
            v = sequence[t, i] * extra_params[0, i]
            for j in range(layers):
                h = hidden[t, j, i]
                forget = sigmoid(v * main_params[2 * j, i] + main_params[2 * j + 1, i])
                ingate = sigmoid(h * main_params[2 * j, b + i] + main_params[2 * j + 1, b + i])
                outgate = sigmoid(v * main_params[2 * j, 2 * b + i] + main_params[2 * j + 1, 2 * b + i])
                change = math.tanh(h * main_params[2 * j, 3 * b + i] + main_params[2 * j + 1, 3 * b + i])
                cl = cell[t, j, i] * forget + ingate * change
                v = outgate * math.tanh(cl)
                cell[t + 1, j, i] = cl
                hidden[t + 1, j, i] = v
            y = v * extra_params[1, i] + extra_params[2, i]
            ypred[i] = y
            sum_exp += math.exp(y)
        lse = math.log(sum_exp + 2.0)
        for i in range(b):
            total += sequence[t + 1, i] * (ypred[i] - lse)
    return -total / ((c - 1) * b)


def _arguments(inp):
    return (floats(inp["main_params"]), floats(inp["extra_params"]), floats(inp["state"]),
            floats(inp["sequence"]))


def _jacobian(grads):
    d_main, d_extra = grads
    return np.concatenate([d_main.ravel(), d_extra.ravel()]).tolist()


def example_input():
    rng = np.random.default_rng(0)
    layers, b, c = 2, 3, 4
    return {"main_params": rng.random((2 * layers, 4 * b)).tolist(),
            "extra_params": rng.random((3, b)).tolist(),
            "state": rng.random((2 * layers, b)).tolist(),
            "sequence": np.eye(b)[rng.integers(0, b, c)].tolist()}


EVAL = Eval(
    name="lstm",
    functions={
        "objective": EvalFunction(adjit.jit(lstm_objective), _arguments, to_float),
        "jacobian": EvalFunction(adjit.grad(lstm_objective, argnums=(0, 1)), _arguments, _jacobian),
    },
    example=example_input,
)
