"""The IR verifier: SSA, dominance, yields that match results, types that agree.

It runs after every stage in the tests; a failure is a bug in adjit, never the user's.
"""
from .primitives import PRIMITIVES
from .types import BOOL, I64


class VerifyError(Exception):
    pass


def verify(fn):
    if fn.body.params != fn.params:
        raise VerifyError("the body's params are not the function's params")
    _verify_block(fn.body, set(), set())
    return True


def _define(v, defined):
    if v in defined:
        raise VerifyError(f"{v} is defined twice")
    defined.add(v)


def _check_use(v, visible, op):
    if v not in visible:
        raise VerifyError(f"{v} is used by {op.prim} where its definition does not dominate")


def _verify_block(block, visible, defined):
    visible = set(visible)
    for p in block.params:
        _define(p, defined)
        visible.add(p)
    for op in block.ops:
        for a in op.args:
            _check_use(a, visible, op)
        if op.prim == "if":
            if op.args[0].type != BOOL:
                raise VerifyError("if condition is not a bool")
            for b in op.blocks:
                _verify_block(b, visible, defined)
                _match(b.yields, op.results, op)
        elif op.prim == "for":
            body = op.blocks[0]
            if any(a.type != I64 for a in op.args[:3]) or body.params[0].type != I64:
                raise VerifyError("for bounds and induction variable must be i64")
            _match(op.args[3:], body.params[1:], op)
            _verify_block(body, visible, defined)
            _match(body.yields, op.results, op)
        elif op.prim == "while":
            cond, body = op.blocks
            _match(op.args, cond.params, op)
            _verify_block(cond, visible, defined)
            if len(cond.yields) != 1 or cond.yields[0].type != BOOL:
                raise VerifyError("while condition must yield one bool")
            _verify_block(body, visible | set(cond.params), defined)
            _match(body.yields, op.results, op)
        else:
            p = PRIMITIVES.get(op.prim)
            if p is None:
                raise VerifyError(f"unknown primitive {op.prim}")
            ts = [a.type for a in op.args]
            if p.args(ts, op.attrs) != ts:
                raise VerifyError(f"{op.prim} operands {ts} are not of the types it takes")
            rt = p.result(ts, op.attrs)
            if [r.type for r in op.results] != ([] if rt is None else [rt]):
                raise VerifyError(f"{op.prim} result type disagrees with its rule")
        for r in op.results:
            _define(r, defined)
            visible.add(r)
    for y in block.yields:
        if y not in visible:
            raise VerifyError(f"yield of {y} that is not visible")


def _match(values, targets, op):
    if len(values) != len(targets) or any(v.type != t.type for v, t in zip(values, targets)):
        raise VerifyError(f"{op.prim}: yields/carried values do not match in number or type")
