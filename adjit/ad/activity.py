"""Activity analysis: which values carry a derivative.

A value is *varied* if it depends on a differentiated input, *useful* if the output
depends on it, and *active* if both and it is a float (scalar or array).  Only active
values get adjoints.  Arrays are tracked by their memory (`adjit.ir.alias`): a store of a
varied number into any view makes every array sharing that memory varied, and a useful
load from any view makes all of them useful.
"""
from ..ir.alias import MemoryModel
from ..ir.core import loop_parts, walk_ops
from ..ir.primitives import PRIMITIVES, reads_memory, writes_memory
from ..ir.types import is_float




def differentiable_operands(op):
    """The operands of a primitive op that its derivative rule can give an adjoint."""
    p = PRIMITIVES[op.prim]
    if p.partials is not None:
        return [a for a, d in zip(op.args, p.partials) if d is not None]
    return list(op.args) if p.vjp is not None or p.jvp is not None else []


class _ByMemory:
    """A set of values in which an array is a member when any array that may share its
    memory was added: what one name of some memory carries, every name of it carries."""

    def __init__(self, mem, values=()):
        self.mem, self.values, self.roots = mem, set(), set()
        for v in values:
            self.add(v)

    def add(self, v):
        self.values.add(v)
        self.roots.update(self.mem.roots(v))

    def update(self, vs):
        for v in vs:
            self.add(v)

    def __contains__(self, v):
        return v in self.values or any(r in self.roots for r in self.mem.roots(v))

    def __len__(self):
        return len(self.values) + len(self.roots)


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


def varied_values(fn, wrt, mem):
    varied = _ByMemory(mem, wrt)
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
                for p, init, y, r in zip(*loop_parts(op), op.results):
                    if (init in varied or y in varied) and not (p in varied and r in varied):
                        varied.update((p, r))
                        changed = True
            elif _flow_forward(op, varied):
                changed = True
    return varied


def useful_values(fn, mem):
    useful = _ByMemory(mem, fn.body.yields)
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
                for p, init, y, r in zip(*loop_parts(op), op.results):
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
    mem = MemoryModel(fn)
    varied = varied_values(fn, wrt, mem)
    useful = useful_values(fn, mem)
    return {v for v in _values(fn) if is_float(v.type) and v in varied and v in useful}


def _values(fn):
    yield from fn.params
    for op in walk_ops(fn.body):
        yield from op.results
        for b in op.blocks:
            yield from b.params
