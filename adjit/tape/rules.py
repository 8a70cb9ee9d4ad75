"""The primitive table of ``adjit.tape``: every elementwise differentiable function, one line each.

A derivative is a Python expression.  For one-argument functions it is written in ``x``
(the argument) and ``y`` (the result, so ``exp`` can reuse it); for two-argument functions
in ``x1``, ``x2`` and ``y``.  Each expression is compiled twice: once with the names bound
to :mod:`math` (for tape scalars, inlined into a generated function) and once with the names
bound to NumPy (for tape arrays, applied elementwise).  Adding a primitive is adding a line.

Non-smooth convention (shared with adjit's compiled engine): ``abs'(0) = 0`` and
``sign' = floor' = ceil' = 0``; ``max``/``min``/``maximum``/``minimum``/``clip`` route the
gradient to the selected argument, ties to the first.
"""

import math

import numpy as np

#            NumPy name:  (math name,  derivative dy/dx)
UNARY = {
    'sin':        ('sin',     'cos(x)'),
    'cos':        ('cos',     '-sin(x)'),
    'tan':        ('tan',     '1.0 + y * y'),
    'arcsin':     ('asin',    '1.0 / sqrt(1.0 - x * x)'),
    'arccos':     ('acos',    '-1.0 / sqrt(1.0 - x * x)'),
    'arctan':     ('atan',    '1.0 / (1.0 + x * x)'),
    'sinh':       ('sinh',    'cosh(x)'),
    'cosh':       ('cosh',    'sinh(x)'),
    'tanh':       ('tanh',    '1.0 - y * y'),
    'arcsinh':    ('asinh',   '1.0 / sqrt(x * x + 1.0)'),
    'arccosh':    ('acosh',   '1.0 / sqrt(x * x - 1.0)'),
    'arctanh':    ('atanh',   '1.0 / (1.0 - x * x)'),
    'exp':        ('exp',     'y'),
    'expm1':      ('expm1',   'y + 1.0'),
    'exp2':       ('exp2',    'y * LN2'),
    'log':        ('log',     '1.0 / x'),
    'log1p':      ('log1p',   '1.0 / (1.0 + x)'),
    'log2':       ('log2',    '1.0 / (x * LN2)'),
    'log10':      ('log10',   '1.0 / (x * LN10)'),
    'sqrt':       ('sqrt',    '0.5 / y'),
    'cbrt':       ('cbrt',    '1.0 / (3.0 * y * y)'),
    'square':     (None,      '2.0 * x'),
    'reciprocal': (None,      '-y * y'),
    'absolute':   ('fabs',    'sgn(x)'),
    'fabs':       (None,      'sgn(x)'),
    'negative':   (None,      '-1.0'),
    'deg2rad':    ('radians', 'DEG2RAD'),
    'rad2deg':    ('degrees', 'RAD2DEG'),
    'erf':        ('erf',     'TWO_OVER_SQRT_PI * exp(-x * x)'),
    'erfc':       ('erfc',    '-TWO_OVER_SQRT_PI * exp(-x * x)'),
    'sinc':       (None,      'sincd(x, y)'),
}

#            NumPy name:  (math name,   d/dx1,                          d/dx2)
BINARY = {
    'add':        (None,        '1.0',                          '1.0'),
    'subtract':   (None,        '1.0',                          '-1.0'),
    'multiply':   (None,        'x2',                           'x1'),
    'divide':     (None,        '1.0 / x2',                     '-y / x2'),
    'power':      ('pow',       'powdx(x1, x2)',                'powdy(x1, y)'),
    'arctan2':    ('atan2',     'x2 / (x1 * x1 + x2 * x2)',     '-x1 / (x1 * x1 + x2 * x2)'),
    'hypot':      ('hypot',     'safediv(x1, y)',               'safediv(x2, y)'),
    'copysign':   ('copysign',  'sgn(x1) * copysign(1.0, x2)',  '0.0'),
    'fmod':       ('fmod',      '1.0',                          '-trunc(x1 / x2)'),
    'mod':        (None,        '1.0',                          '-floor(x1 / x2)'),
    'ieee_remainder': ('remainder', '1.0',                      '-rint(x1 / x2)'),   # math only
    'logaddexp':  (None,        'exp(x1 - y)',                  'exp(x2 - y)'),
    'logaddexp2': (None,        'exp((x1 - y) * LN2)',          'exp((x2 - y) * LN2)'),
}

# Primitives that only the math stand-in has (NumPy has no erf, and np.remainder is mod).
MATH_ONLY = ('erf', 'erfc', 'ieee_remainder')

# Functions with derivative zero everywhere it exists (piecewise constant).
ZERO_DERIVATIVE = ('floor', 'ceil', 'trunc', 'rint', 'fix', 'sign', 'floor_divide')

# Other NumPy spellings of the same primitives.
ALIASES = {
    'abs': 'absolute', 'asin': 'arcsin', 'acos': 'arccos', 'atan': 'arctan', 'asinh': 'arcsinh',
    'acosh': 'arccosh', 'atanh': 'arctanh', 'atan2': 'arctan2', 'pow': 'power',
    'float_power': 'power', 'true_divide': 'divide', 'remainder': 'mod', 'radians': 'deg2rad',
    'degrees': 'rad2deg',
}


# -- the two namespaces the derivative expressions are compiled in -------------------------

def _sgn(x):
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _powdx(x1, x2):
    return 0.0 if x2 == 0 else x2 * x1 ** (x2 - 1.0)


def _powdy(x1, y):
    if x1 > 0:
        return y * math.log(x1)
    return 0.0 if x1 == 0 else math.nan


def _sincd(x, y):
    """d/dx sinc(x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0."""
    return 0.0 if x == 0 else (math.cos(math.pi * x) - y) / x


def _np_sincd(x, y):
    x = np.asarray(x, float)
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 0.0, (np.cos(np.pi * x) - y) / safe)


def _safediv(a, b):
    return a / b if b != 0 else 0.0


def _np_powdx(x1, x2):
    return np.where(x2 == 0, 0.0, x2 * np.power(x1, x2 - 1.0))


def _np_powdy(x1, y):
    return np.where(x1 > 0, y * np.log(np.where(x1 > 0, x1, 1.0)), np.where(x1 == 0, 0.0, np.nan))


def _np_safediv(a, b):
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    return np.divide(a, b, out=np.zeros(a.shape), where=b != 0)


_CONSTANTS = {
    'LN2': math.log(2.0), 'LN10': math.log(10.0), 'DEG2RAD': math.pi / 180.0,
    'RAD2DEG': 180.0 / math.pi, 'TWO_OVER_SQRT_PI': 2.0 / math.sqrt(math.pi), 'nan': math.nan,
}

SCALAR_NS = dict(_CONSTANTS, sin=math.sin, cos=math.cos, sinh=math.sinh, cosh=math.cosh,
                 sqrt=math.sqrt, exp=math.exp, log=math.log, sgn=_sgn, copysign=math.copysign,
                 trunc=math.trunc, floor=math.floor, rint=round, powdx=_powdx, powdy=_powdy,
                 safediv=_safediv, sincd=_sincd)

ARRAY_NS = dict(_CONSTANTS, sin=np.sin, cos=np.cos, sinh=np.sinh, cosh=np.cosh, sqrt=np.sqrt,
                exp=np.exp, log=np.log, sgn=np.sign, copysign=np.copysign, trunc=np.trunc,
                floor=np.floor, rint=np.rint, powdx=_np_powdx, powdy=_np_powdy,
                safediv=_np_safediv, sincd=_np_sincd)
