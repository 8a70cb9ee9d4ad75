"""Activity analysis: which values carry a derivative.

A value is *varied* if it depends on a differentiated input, *useful* if the output
depends on it, and *active* if both and it is a float (scalar or array).  Only active
values get adjoints.  Arrays are tracked as whole values: a store of a varied number
makes the array varied, a useful load makes the array useful.
"""
from ..ir.core import walk_ops
from ..ir.primitives import PRIMITIVES, reads_memory, writes_memory
from ..ir.types import is_float


def _loop_parts(op):
    """(params, inits, yields) of a for/while op, aligned."""
    if op.prim == "for":
        body = op.blocks[0]
        return body.params[1:], op.args[3:], body.yields
    cond, body = op.blocks
    return cond.params, op.args, body.yields




def differentiable_operands(op):
    """The operands of a primitive op that its derivative rule can give an adjoint."""
    p = PRIMITIVES[op.prim]
    if p.partials is not None:
        return [a for a, d in zip(op.args, p.partials) if d is not None]
    return list(op.args) if p.vjp is not None else []


def _flow_forward(op, varied):
    """Update `varied` across one primitive op; True if something changed."""
    before = len(varied)
    if reads_memory(op.prim) or op.prim == "copy":  # result <- the array read
        if op.args[0] in varied:
            varied.add(op.result)
    elif writes_memory(op.prim):  # the array written <- the value
        if op.args[-1] in varied:
            varied.add(op.args[0])
    elif op.results and is_float(op.result.type):
        if any(a in varied for a in differentiable_operands(op)):
            varied.add(op.result)
    return len(varied) != before


def varied_values(fn, wrt):
    varied = set(wrt)
    changed = True
    while changed:
        changed = False
        for op in walk_ops(fn.body):
            if op.prim == "if":
                for k, r in enumerate(op.results):
                    if r not in varied and any(b.yields[k] in varied for b in op.blocks):
                        varied.add(r)
                        changed = True
            elif op.prim in ("for", "while"):
                for p, init, y, r in zip(*_loop_parts(op), op.results):
                    if (init in varied or y in varied) and not (p in varied and r in varied):
                        varied.update((p, r))
                        changed = True
            elif _flow_forward(op, varied):
                changed = True
    return varied


def useful_values(fn):
    useful = set(fn.body.yields)
    changed = True
    ops = list(walk_ops(fn.body))
    while changed:
        changed = False
        n = len(useful)
        for op in reversed(ops):
            if op.prim == "if":
                for k, r in enumerate(op.results):
                    if r in useful:
                        useful.update(b.yields[k] for b in op.blocks)
            elif op.prim in ("for", "while"):
                for p, init, y, r in zip(*_loop_parts(op), op.results):
                    if r in useful or p in useful:
                        useful.update((p, init, y, r))
            elif reads_memory(op.prim) or op.prim == "copy":
                if op.result in useful:
                    useful.add(op.args[0])
            elif writes_memory(op.prim):
                if op.args[0] in useful:
                    useful.add(op.args[-1])
            elif op.results and op.result in useful:
                useful.update(differentiable_operands(op))
        changed = len(useful) != n
    return useful


def active_values(fn, wrt):
    """The set of active values of `fn` when differentiating with respect to params `wrt`."""
    varied = varied_values(fn, wrt)
    useful = useful_values(fn)
    return {v for v in varied & useful if is_float(v.type)}
