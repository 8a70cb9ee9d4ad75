"""Dead-code elimination: drop pure operations whose results nobody uses, and the
results of if/loops that nobody uses (with the yields that only fed them)."""
from ..ir.primitives import PRIMITIVES


def dce(fn):
    """Remove dead code from `fn` in place; returns `fn`."""
    while _sweep(fn):
        pass
    return fn


_REMOVABLE = ("pure", "alloc", "read")  # an unused result of these is dead (a load without use too)


def _live_values(fn):
    """Values something needs: the function's yields, the operands of ops with an effect
    (writes, control-flow heads), and, backwards to a fixpoint, the operands of the ops that
    compute live values.  A loop's carried slot is live when its result or its param is:
    then its init and its yield are.  So an accumulator whose result nobody reads (``s +=
    ...`` in a gradient that does not return the value) is dead with everything that only
    fed it, although its param is used in the body (by its own update)."""
    live = set(fn.body.yields)
    changed = [True]

    def need(vs):
        for v in vs:
            if v not in live:
                live.add(v)
                changed[0] = True

    def block(b):
        for op in reversed(b.ops):
            if op.prim == "if":
                need(op.args)
                for k, r in enumerate(op.results):
                    if r in live:
                        need(blk.yields[k] for blk in op.blocks)
            elif op.prim in ("for", "while"):
                if op.prim == "for":
                    body = op.blocks[0]
                    params, inits, head = body.params[1:], op.args[3:], op.args[:3]
                else:
                    cond, body = op.blocks
                    params, inits, head = cond.params, op.args, []
                    need(cond.yields)
                need(head)
                for p, init, y, r in zip(params, inits, body.yields, op.results):
                    if r in live or p in live:
                        need([init, y, p])
            elif op.prim in PRIMITIVES and PRIMITIVES[op.prim].effect in _REMOVABLE and op.results:
                if any(r in live for r in op.results):
                    need(op.args)
            else:
                need(op.args)
            for inner in op.blocks:
                block(inner)

    while changed[0]:
        changed[0] = False
        block(fn.body)
    return live


def _sweep(fn):
    live = _live_values(fn)
    changed = [False]

    def block(b):
        kept = []
        for op in b.ops:
            if op.prim in ("if", "for", "while"):
                _prune_results(op, live, changed)
                for inner in op.blocks:
                    block(inner)
                if op.prim in ("if", "for") and not op.results and not any(inner.ops for inner in op.blocks):
                    changed[0] = True  # (a while may not terminate: kept)
                    continue
                kept.append(op)
                continue
            prim = PRIMITIVES[op.prim]
            if op.results and prim.effect in _REMOVABLE and not any(r in live for r in op.results):
                changed[0] = True
                continue
            kept.append(op)
        b.ops = kept

    block(fn.body)
    return changed[0]


def _prune_results(op, live, changed):
    """Drop the dead results of an if, and the dead carried slots of a loop."""
    if op.prim == "if":
        keep = [k for k, r in enumerate(op.results) if r in live]
        if len(keep) != len(op.results):
            changed[0] = True
            op.results = [op.results[k] for k in keep]
            for b in op.blocks:
                b.yields = [b.yields[k] for k in keep]
        return
    if op.prim == "for":
        body = op.blocks[0]
        params, ninit = body.params[1:], 3
    else:
        body = op.blocks[1]
        params, ninit = op.blocks[0].params, 0
    keep = [k for k, (p, r) in enumerate(zip(params, op.results)) if r in live or p in live]
    if len(keep) == len(params):
        return
    changed[0] = True
    new_params = [params[k] for k in keep]
    body.yields = [body.yields[k] for k in keep]
    op.results = [op.results[k] for k in keep]
    op.args = op.args[:ninit] + [op.args[ninit + k] for k in keep]
    if op.prim == "for":
        body.params = body.params[:1] + new_params
    else:
        op.blocks[0].params = new_params
