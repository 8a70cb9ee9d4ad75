"""``python -m adjit``: differentiate a loop with a branch, show the generated code,
check the gradient against finite differences and time it against plain Python."""
import argparse
import sys
import time

import numpy as np

import adjit
from adjit.demo.functions import loss


def best_of(fn, repeat=5, number=1):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def build_parser():
    return argparse.ArgumentParser(
        prog="python -m adjit",
        description="adjit's demo: differentiate a plain Python loop with a branch, print the generated "
                    "forward and backward program, check the gradient against finite differences and "
                    "time it against plain Python and adjit.tape (the first call compiles: expect "
                    "several seconds).",
        epilog="Other command-line tools: python -m adjit.bench (benchmarks), python -m adjit.fuzz "
               "(generated-program testing), python -m adjit.gradbench (the gradbench tool). "
               "Documentation: docs/index.md.")


def main(argv=None):
    build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    print("adjit demo: the gradient of a plain Python loop with a branch\n")
    print("    def loss(x, n):\n        s = 0.0\n        for i in range(n):\n            if x[i] > 0.0:\n"
          "                s += x[i] * x[i]\n            else:\n                s -= math.sin(x[i])\n        return s\n")
    x = np.array([0.5, -1.0, 2.0])
    g = adjit.grad(loss)
    t0 = time.perf_counter()
    print("adjit.grad(loss)(np.array([0.5, -1.0, 2.0]), 3) =", g(x, 3))
    print(f"(first call: parse, differentiate, generate and compile: {time.perf_counter() - t0:.2f} s)\n")
    print("The generated forward and backward program (adjit.show):\n")
    adjit.show(g)
    print("Gradient check against central finite differences (adjit.check_grad):")
    print("   ", adjit.check_grad(loss, np.random.default_rng(0).normal(size=6), 6), "\n")
    n = 100_000
    big = np.random.default_rng(1).normal(size=n)
    g(big, n)
    t_python = best_of(lambda: loss(big, n), repeat=3)
    t_grad = best_of(lambda: g(big, n), repeat=5, number=10)
    t_tape = best_of(lambda: adjit.tape.grad(loss)(big[:2000], 2000), repeat=3) * (n / 2000)
    print(f"Speed at n = {n:,} (best of several runs):")
    print(f"    plain Python loss(x, n)       {t_python * 1e3:9.3f} ms")
    print(f"    adjit gradient                {t_grad * 1e3:9.3f} ms   "
          f"({t_python / t_grad:,.0f}x faster than evaluating the plain Python function once)")
    print(f"    adjit.tape gradient (tape)    {t_tape * 1e3:9.3f} ms   (extrapolated from n = 2,000; "
          f"adjit is {t_tape / t_grad:,.0f}x faster)")


if __name__ == "__main__":
    sys.exit(main())
