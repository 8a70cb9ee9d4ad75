"""``python -m adjit.bench``: run the benchmarks and write the report."""
import argparse
import contextlib
import dataclasses
import os
import shlex
import sys
import tempfile

from . import plot as plotting
from .compare import DEFAULT_RTOL
from .engines import ENGINE_NAMES, make_engines
from .problems import PROBLEMS
from .progress import progress
from .report import render
from .runner import RunSettings, run_all, skip_summary
from .timing import FULL, QUICK, pin_threads

# in the current directory, never a file of the package: the docs' tables are regenerated on
# purpose, with --out docs/benchmarks-results.md (see docs/benchmarks.md)
DEFAULT_OUT = "adjit-bench-results.md"


def _names(text, known, what):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(unknown)}; choose from {', '.join(known)}")
    return names


def _sizes(text):
    try:
        sizes = [int(float(s)) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be numbers like 1000,1e5: {text!r}") from None
    if not sizes or min(sizes) < 2:
        raise argparse.ArgumentTypeError("sizes must be integers >= 2")
    return sizes


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m adjit.bench",
        description="Time adjit's gradients against a hand-written Numba adjoint, adjit.tape, "
                    "PyTorch, JAX and HIPS autograd on the same problems.")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few repeats (about a minute)")
    parser.add_argument("--problems", type=lambda t: _names(t, tuple(PROBLEMS), "problem"),
                        help=f"comma-separated subset of: {', '.join(PROBLEMS)}")
    parser.add_argument("--engines", type=lambda t: _names(t, ENGINE_NAMES, "engine"),
                        help=f"comma-separated subset of: {', '.join(ENGINE_NAMES)}")
    parser.add_argument("--sizes", type=_sizes,
                        help="comma-separated problem sizes (e.g. 1e3,1e4), used for every problem; "
                             "default: each problem's own size")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"Markdown report path (default: {DEFAULT_OUT} in the current directory)")
    parser.add_argument("--plot", nargs="?", const="", default=None, metavar="PNG",
                        help="also draw time against size (log-log) to PNG (default: benchmarks.png "
                             "next to --out); without --sizes, runs each problem's size sweep")
    parser.add_argument("--rtol", type=float, default=DEFAULT_RTOL,
                        help=f"relative error above which a result is a MISMATCH (default {DEFAULT_RTOL:g})")
    parser.add_argument("--seed", type=int, default=0, help="input seed (default 0)")
    parser.add_argument("--no-gc", action="store_true",
                        help="time with the garbage collector disabled, as timeit does "
                             "(flatters engines that allocate Python objects per operation)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with the process's CPU time instead of the wall clock (steadier on a "
                             "loaded machine; every engine runs on one thread by default)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads every engine may use: OpenBLAS/MKL/OpenMP, Numba, PyTorch, XLA "
                             "(default 1, so that engines compare on equal terms; 0 leaves each library's default)")
    parser.add_argument("--warm-cache", action="store_true",
                        help="keep adjit's disk cache of compiled code (default: a fresh, temporary "
                             "ADJIT_CACHE_DIR, so that every engine's first call is a compilation)")
    parser.add_argument("--check", action="store_true",
                        help="the regression gate: a fixed set of problems at small sizes, adjit side by side "
                             "with the hand-written code; exits 1 when a ratio exceeds its threshold "
                             "(see adjit/bench/check.py)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--list", action="store_true", help="list problems and engines, then exit")
    return parser


def _sizes_of(args):
    def sizes_of(problem):
        if args.sizes:
            return args.sizes
        if args.plot is not None:
            if args.quick:
                return [problem.quick_size // 10, problem.quick_size]
            return list(problem.sweep)
        return [problem.quick_size if args.quick else problem.default_size]
    return sizes_of


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.list:
        for p in PROBLEMS.values():
            print(f"{p.name:14s} {p.title} ({p.size_name} = {p.default_size:,})")
        print("engines:", ", ".join(ENGINE_NAMES))
        return 0

    if args.threads < 0:
        raise SystemExit("--threads must be >= 0")
    if args.threads:
        pin_threads(args.threads)
    if args.check:
        from .check import run_check
        return run_check(problems=args.problems, threads=args.threads)
    with _adjit_cache(cold=not args.warm_cache):
        return _run(args, argv)


@contextlib.contextmanager
def _adjit_cache(cold):
    """A fresh ADJIT_CACHE_DIR for the run when `cold`: adjit's first call then compiles, as
    the hand-written references' and JAX's do, instead of loading an earlier run's code."""
    if not cold:
        yield
        return
    saved = os.environ.get("ADJIT_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="adjit-bench-cache-") as path:
        os.environ["ADJIT_CACHE_DIR"] = path
        try:
            yield
        finally:
            if saved is None:
                del os.environ["ADJIT_CACHE_DIR"]
            else:
                os.environ["ADJIT_CACHE_DIR"] = saved


def _run(args, argv):
    problems = [PROBLEMS[n] for n in (args.problems or PROBLEMS)]
    engines = make_engines(args.engines)
    timing = dataclasses.replace(QUICK if args.quick else FULL, disable_gc=args.no_gc, cpu_time=args.cpu_time)
    settings = RunSettings(timing=timing, rtol=args.rtol, seed=args.seed, quick=args.quick, threads=args.threads)
    sizes_of = _sizes_of(args)

    out_dir = os.path.dirname(args.out) or "."
    os.makedirs(out_dir, exist_ok=True)
    plot_path = _plot_path(args, out_dir)

    total = sum(len(sizes_of(p)) for p in problems) * len(engines)
    bar = progress(total, enabled=not args.no_progress)
    skips = []
    try:
        results = run_all(problems, engines, sizes_of, settings, bar, skips)
    finally:
        bar.close()
        for line in skip_summary(skips, [p.name for p in problems]):
            print(line, file=sys.stderr)

    plot_link = None
    if plot_path:
        try:
            plotting.plot(problems, results, plot_path, [e.name for e in engines])
            plot_link = os.path.relpath(plot_path, out_dir)
        except Exception as exc:   # noqa: BLE001 - the tables are worth keeping without it
            print(f"note: the plot failed ({type(exc).__name__}: {exc})", file=sys.stderr)
            plot_path = None
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(["python -m adjit.bench", *(shlex.quote(a) for a in given)])
    report = render(problems, results, [e.name for e in engines], settings, command, args.quick, plot_link)
    print(report)
    with open(args.out, "w") as f:
        f.write(report + "\n")
    print(f"\nwritten: {os.path.abspath(args.out)}" + (f" and {os.path.abspath(plot_path)}" if plot_path else ""),
          file=sys.stderr)
    _warn_about_mismatches(results)
    return 0


def _plot_path(args, out_dir):
    if args.plot is None:
        return None
    if not plotting.matplotlib_available():
        print("note: matplotlib is not installed; no plot", file=sys.stderr)
        return None
    return args.plot or os.path.join(out_dir, "benchmarks.png")


def _warn_about_mismatches(results):
    mismatches = [(problem, m.engine) for problem, per_size in results.items()
                  for _, rows in per_size for m in rows if m.status == "mismatch"]
    if mismatches:
        print("\n!!! MISMATCHES against the hand-written reference: " +
              ", ".join(f"{engine} on {problem}" for problem, engine in mismatches), file=sys.stderr)
