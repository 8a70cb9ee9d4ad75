"""Automatic differentiation as IR -> IR transformations (reverse mode: reverse.py)."""
from .reverse import reverse  # noqa: F401
