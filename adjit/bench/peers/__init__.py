"""The problems rewritten for peer frameworks (JAX, PyTorch), one module per framework.

Each module is imported only when its framework is installed.  Each maps a problem
name to a function with the same arguments as the problem's user function.
"""
