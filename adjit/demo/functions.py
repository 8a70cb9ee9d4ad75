"""Functions the demo differentiates (a real module file, as adjit reads source)."""
import math


def loss(x, n):
    s = 0.0
    for i in range(n):
        if x[i] > 0.0:
            s += x[i] * x[i]
        else:
            s -= math.sin(x[i])
    return s
