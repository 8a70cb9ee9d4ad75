"""Dead-code elimination: drop pure operations whose results nobody uses, and the
results of if/loops that nobody uses (with the yields that only fed them)."""
from ..ir.core import count_uses, walk_ops
from ..ir.primitives import PRIMITIVES


def dce(fn):
    """Remove dead code from `fn` in place; returns `fn`."""
    while _sweep(fn):
        pass
    return fn


def _used_values(fn):
    used = set(fn.body.yields)
    for op in walk_ops(fn.body):
        used.update(op.args)
        for b in op.blocks:
            used.update(b.yields)
    return used


def _sweep(fn):
    used = _used_values(fn)
    changed = [False]

    def block(b):
        kept = []
        for op in b.ops:
            if op.prim in ("if", "for", "while"):
                _prune_results(op, used, changed)
                for inner in op.blocks:
                    block(inner)
                if op.prim == "if" and not op.results and not any(inner.ops for inner in op.blocks):
                    changed[0] = True
                    continue
                kept.append(op)
                continue
            prim = PRIMITIVES[op.prim]
            if op.results and prim.effect in ("pure", "alloc") and not any(r in used for r in op.results):
                changed[0] = True
                continue
            kept.append(op)
        b.ops = kept

    block(fn.body)
    return changed[0]


def _prune_results(op, used, changed):
    """Drop unused results of an if, and unused carried values of a loop that feed nothing else."""
    if op.prim == "if":
        keep = [k for k, r in enumerate(op.results) if r in used]
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
    # A carried value can go when its result is unused and its param is used by nothing but its own yield.
    inner_uses = {}
    for blk in op.blocks:
        for v, n in count_uses(blk).items():
            inner_uses[v] = inner_uses.get(v, 0) + n
    drop = []
    for k, (p, r) in enumerate(zip(params, op.results)):
        if r in used:
            continue
        own_yield = body.yields[k]
        uses_of_p = inner_uses.get(p, 0) - (1 if own_yield is p else 0)
        if uses_of_p == 0:
            drop.append(k)
    if not drop:
        return
    changed[0] = True
    keep = [k for k in range(len(params)) if k not in drop]
    new_params = [params[k] for k in keep]
    body.yields = [body.yields[k] for k in keep]
    op.results = [op.results[k] for k in keep]
    op.args = op.args[:ninit] + [op.args[ninit + k] for k in keep]
    if op.prim == "for":
        body.params = body.params[:1] + new_params
    else:
        op.blocks[0].params = new_params
