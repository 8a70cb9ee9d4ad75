"""The frontend: Python source -> typed structured SSA IR (see translate.py)."""
from .translate import translate  # noqa: F401
