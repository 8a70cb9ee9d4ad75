"""gradbench's ``hello`` eval: ``square(x) = x * x`` and ``double``, its derivative."""
import adjit

from . import Eval, EvalFunction, to_float


def square(x):
    return x * x


def _number(value):
    return (float(value),)


EVAL = Eval(
    name="hello",
    functions={
        "square": EvalFunction(adjit.jit(square), _number, to_float),
        "double": EvalFunction(adjit.grad(square), _number, to_float),
    },
    example=lambda: 1.0,
)
