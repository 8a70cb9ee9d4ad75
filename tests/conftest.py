"""Test-wide settings.

Generated code is compiled at LLVM -O1 in the tests (``ADJIT_OPT``, see
adjit.codegen.compile.llvm_opt_level): the tests check values, not speed, and -O3's loop
passes cost minutes of compilation on the broadcasting array cases.  Examples run as
subprocesses inherit the setting.  The benchmark harness and users get Numba's default.
"""
import os

os.environ.setdefault("ADJIT_OPT", "1")
