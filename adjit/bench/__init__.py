"""adjit's benchmark harness.

    python -m adjit.bench                    # every problem and engine, default sizes
    python -m adjit.bench --quick            # about a minute: small sizes, few repeats
    python -m adjit.bench --problems rosenbrock,ode --engines hand,adjit,adjit.tape
    python -m adjit.bench --plot             # a size sweep, plus docs/benchmarks.png
    python -m adjit.bench --sizes 1e3,1e4 --out /tmp/results.md
    python -m adjit.bench --list
    python -m adjit.bench --check            # the regression gate CI runs (check.py)
    python -m adjit.bench --cpu-time         # CPU time instead of the wall clock (loaded machines)

Problems (``adjit.bench.problems``) are plain Python functions written the way a user of
adjit would write them (loops with ``x[i]**2``, whole-array slices), each with the
derivative a Numba expert writes by hand (fused loops, forward mode for two inputs, no
tape where none is needed), which is both the reference every engine is checked against
and the speed limit adjit is measured against; where it differs, the mechanical adjoint
(forward sweep, reversed sweep) is a second engine, ``hand-mech``.  Engines
(``adjit.bench.engines``) compute the same gradient: adjit, adjit.tape, the hand-written
code, the compiled primal, and, when installed, PyTorch, JAX and HIPS autograd.

Layout: problem.py (what a problem is), problems/ (one module per problem), engines/ (one
module per engine family), peers/ (the problems rewritten for JAX and PyTorch), timing.py,
compare.py, runner.py (check, then time), report.py (Markdown), check.py (the regression
gate), plot.py, progress.py, cli.py.
"""
