"""The IR's types: scalars (bool, int64, float64) and arrays of those with a fixed ndim.

Types are immutable and compared by value, so they can be used as dictionary keys
and in the type signatures that key the compiled-function cache.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Scalar:
    name: str  # "bool", "i64" or "f64"

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class Array:
    dtype: Scalar
    ndim: int

    def __str__(self):
        return f"{self.dtype}[{', '.join([':'] * self.ndim)}]"


BOOL = Scalar("bool")
I64 = Scalar("i64")
F64 = Scalar("f64")

# numpy dtype names used in generated code, per scalar type
NUMPY_DTYPE = {BOOL: "np.bool_", I64: "np.int64", F64: "np.float64"}


def is_scalar(t):
    return isinstance(t, Scalar)


def is_array(t):
    return isinstance(t, Array)


def is_float(t):
    """True for types that can carry a derivative: float64 scalars and float64 arrays."""
    return t == F64 or (isinstance(t, Array) and t.dtype == F64)


def is_numeric(t):
    return t in (BOOL, I64, F64)


def promote(*types):
    """The common type of scalar operands, as Python's arithmetic does it (bool < int < float)."""
    if any(t == F64 for t in types):
        return F64
    return I64


def unify(a, b):
    """The type a variable has when it is assigned both a and b, or None if they cannot meet.

    int and float meet at float, as the design asks; bool meets int at int.
    """
    if a == b:
        return a
    if is_scalar(a) and is_scalar(b):
        return promote(a, b)
    return None
