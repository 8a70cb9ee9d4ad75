"""Running an unmodified user function with its ``math`` and ``np`` swapped.

Operator-overloading engines (PyTorch on 0-d tensors, HIPS autograd) run the very
function the user wrote.  The function reads ``math`` and ``np`` from its module's
globals, so we rebuild it over a copy of those globals in which both names point at
engine-aware stand-ins.  The module itself is never modified.
"""
import ast
import inspect
import math
import textwrap
import types
from functools import reduce
from operator import mul


class ScalarArray:
    """A list of scalars with NumPy's element indexing, for ``np.zeros(n)`` and friends.

    Neither PyTorch nor autograd lets a traced scalar be written into a NumPy array
    (``a[i] = v`` fails: the array can only hold plain floats), so under those engines
    the arrays a function creates are lists of scalars (under PyTorch its input arrays
    too, see torch_engines).  Indexing by a tuple reads a row-major multi-dimensional
    array.
    """

    __slots__ = ("items", "shape", "_strides")

    def __init__(self, items, shape):
        self.items = items
        self.shape = tuple(shape)
        strides = []
        step = 1
        for dim in reversed(self.shape):
            strides.append(step)
            step *= dim
        self._strides = tuple(reversed(strides))

    @classmethod
    def filled(cls, shape, value=0.0):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return cls([value] * reduce(mul, shape, 1), shape)

    def _flat(self, index):
        if isinstance(index, tuple):
            return sum(int(i) * s for i, s in zip(index, self._strides))
        return int(index)

    def __getitem__(self, index):
        return self.items[self._flat(index)]

    def __setitem__(self, index, value):
        self.items[self._flat(index)] = value

    def __len__(self):
        return self.shape[0]

    @property
    def ndim(self):
        return len(self.shape)


def numpy_array_maker(fill):
    """np.zeros / np.ones / np.empty returning ScalarArrays (the dtype is ignored)."""
    def make(shape, dtype=None):
        return ScalarArray.filled(shape, fill)
    return make


def namespace(name, base, overrides):
    """A module-like object: attributes of `base`, with `overrides` taking precedence."""
    ns = types.SimpleNamespace(**{k: getattr(base, k) for k in dir(base) if not k.startswith("__")})
    for key, value in overrides.items():
        setattr(ns, key, value)
    ns.__name__ = name
    return ns


class _AugmentedToPlain(ast.NodeTransformer):
    """``t op= v`` becomes ``t = t op v``.

    A subscript target's index is then evaluated twice, which is the same thing for the
    side-effect-free index expressions of numeric loops.
    """

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        target_load = ast.fix_missing_locations(
            ast.copy_location(_as_load(node.target), node.target))
        value = ast.copy_location(ast.BinOp(left=target_load, op=node.op, right=node.value), node)
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)


def _as_load(target):
    """A copy of an assignment target, as an expression that reads it."""
    return ast.parse(ast.unparse(target), mode="eval").body


def _without_augmented_assignments(func, new_globals):
    """`func` recompiled from its source with every ``op=`` spelled out.

    On a PyTorch tensor ``acc += v`` is an in-place update: a tensor stored earlier in a
    list (``c[i] = acc``) would silently change with it.  For Python numbers, and for
    every engine that works on immutable values, ``acc += v`` and ``acc = acc + v`` are
    the same statement, so spelling it out keeps the user's meaning.
    """
    source = textwrap.dedent(inspect.getsource(func))
    tree = ast.parse(source)
    tree = ast.fix_missing_locations(_AugmentedToPlain().visit(tree))
    ast.increment_lineno(tree, func.__code__.co_firstlineno - 1)
    namespace_ = {}
    exec(compile(tree, inspect.getsourcefile(func) or "<bench>", "exec"), new_globals, namespace_)
    return namespace_[func.__name__]


def rebind(func, replacements, *, spell_out_augmented=False, _rebound=None):
    """`func` over a copy of its globals with `replacements` applied.

    Other plain functions of the same module that `func` calls are rebound too, over the
    same copy, so helpers see the stand-ins as well; so are plain functions it imported
    from other modules of adjit.bench (the gradbench problems share helpers with the
    other problems), each over a copy of its own module's globals.  With
    `spell_out_augmented`, ``x op= v`` statements are rewritten ``x = x op v`` (see
    `_without_augmented_assignments`).
    """
    rebound = {} if _rebound is None else _rebound     # id(original) -> rebound function
    new_globals = dict(func.__globals__)
    new_globals.update(replacements)
    module = func.__module__

    def rebuilt(f):
        if spell_out_augmented:
            g = _without_augmented_assignments(f, new_globals)
        else:
            g = types.FunctionType(f.__code__, new_globals, f.__name__, f.__defaults__, f.__closure__)
        g.__kwdefaults__ = f.__kwdefaults__
        return g

    rebound[id(func)] = None         # being rebound: a cycle back to it keeps the original
    for key, value in list(new_globals.items()):
        if not isinstance(value, types.FunctionType) or key in replacements:
            continue
        if value.__module__ == module:
            new_globals[key] = rebuilt(value)
        elif (value.__module__ or "").startswith(_SHARED_HELPERS):
            if id(value) not in rebound:
                rebind(value, replacements, spell_out_augmented=spell_out_augmented, _rebound=rebound)
            new_globals[key] = rebound[id(value)] or value
    result = rebuilt(func)
    rebound[id(func)] = result
    return result


_SHARED_HELPERS = "adjit.bench."


MATH_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf, "nan": math.nan}
