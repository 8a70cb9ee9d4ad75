"""AST-level facts and rewrites the translator relies on.

* `tailify` moves the statements after ``if c: ...; return`` into the ``else`` branch, so
  the common early-return pattern becomes an ordinary ``if`` with no exit flags.
* `always_exits` / `may_exit` tell the translator where ``break``, ``continue`` and
  ``return`` can leave a statement list, which is where it guards the rest with flags.
"""
import ast
import copy

_EXITS = (ast.Return, ast.Break, ast.Continue, ast.Raise)


def always_exits(stmts):
    """True if control never falls off the end of `stmts`."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, _EXITS):
        return True
    if isinstance(last, ast.If):
        return always_exits(last.body) and always_exits(last.orelse)
    return False


def always_returns(stmts):
    """True if every path through `stmts` ends in a ``return``."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, ast.Return):
        return True
    if isinstance(last, ast.If):
        return always_returns(last.body) and always_returns(last.orelse)
    if isinstance(last, ast.While) and isinstance(last.test, ast.Constant) and last.test.value is True:
        return not has_break(last, returns=False)  # `while True` left only by return
    return False


def falls_off_at(stmts):
    """The last statement of a path through `stmts` that can fall off its end without a
    ``return`` (for the error message); `stmts` must not always return."""
    last = stmts[-1]
    if isinstance(last, ast.If):
        for branch in (last.orelse, last.body):
            if branch and not always_returns(branch):
                return falls_off_at(branch)
    return last


def may_exit(stmt, in_loop=True):
    """True if `stmt` may return, or break/continue the loop that contains it."""
    for node in _walk_same_loop(stmt):
        if isinstance(node, ast.Return):
            return True
        if isinstance(node, (ast.Break, ast.Continue)) and in_loop:
            return True
    return any(isinstance(n, ast.Return) for n in ast.walk(stmt))


def has_break(loop, returns=True):
    """True if a ``break`` (or, with `returns`, a ``return``) in `loop`'s body can leave it early."""
    for s in loop.body:
        for node in _walk_same_loop(s):
            if isinstance(node, ast.Break):
                return True
        if returns and any(isinstance(n, ast.Return) for n in ast.walk(s)):
            return True
    return False


def _walk_same_loop(node):
    """Nodes of `node` that are not inside a nested loop (a nested loop's break is its own)."""
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.For, ast.While)):
            # the loop's own else-branch belongs to the enclosing loop
            for s in child.orelse:
                yield from _walk_same_loop(s)
            continue
        yield from _walk_same_loop(child)


def tailify(stmts):
    """Rewrite ``if c: A (exits); B`` into ``if c: A else: B``, recursively."""
    out = []
    for k, s in enumerate(stmts):
        if isinstance(s, (ast.If, ast.For, ast.While)):
            # a copy: the parsed tree is cached per function and translated once per signature
            # (jit and grad, each helper call); rewritten in place, a second pass would append
            # the rest to branches that already hold it, and the tree would come to contain itself
            s = copy.copy(s)
            s.body, s.orelse = tailify(s.body), tailify(s.orelse)
        rest = stmts[k + 1:]
        if isinstance(s, ast.If) and rest:
            if always_exits(s.body) and not always_exits(s.orelse):
                s.orelse = tailify(s.orelse + rest)
                out.append(s)
                return out
            if always_exits(s.orelse) and not always_exits(s.body):
                s.body = tailify(s.body + rest)
                out.append(s)
                return out
        out.append(s)
    return out
