"""Derivative/primal time ratios of adjit's gradbench tool, per workload and per eval.

    python -m adjit.gradbench.ratios                       # the recorded sessions' workloads
    python -m adjit.gradbench.ratios --default-workloads   # gradbench's default workloads

Each workload runs through the tool (``Tool.handle``, the code path of
``python -m adjit.gradbench``) with ``min_runs``/``min_seconds`` as gradbench would
send them; a function's time is the median of its ``evaluate`` timings, and the ratio
is derivative over primal.  gradbench's summary ratio for an eval is the median over its
workloads, as printed last.  With recorded sessions every output is also checked.
"""
import argparse
import statistics
import sys
from pathlib import Path

from .replay import read_session, replay
from .tool import Tool, keep_freed_memory
from .workloads import FUNCTIONS, workloads

EVALS = ("lse", "llsq", "ode", "gmm", "lstm", "kmeans", "ba", "ht", "det")
# recorded sessions of an eval under another name (ht's simple variant), timed with --recorded only
SESSIONS = {"ht_simple": "ht"}
# particle and saddle have no primal function, so no ratio: gradbench reports their times only
# the recorded sessions and ADBench's lstm files: tests/data of a clone of the repository
# (tests/data/README.md), else the project's shared data folder beside it
_REPO = Path(__file__).resolve().parents[2]
SHARED = next((p for p in (_REPO / "tests" / "data", _REPO.parent / "shared" / "data") if p.is_dir()),
              _REPO / "tests" / "data")


def _median_seconds(answer):
    runs = [t["nanoseconds"] for t in answer["timings"] if t["name"] == "evaluate"]
    return statistics.median(runs) * 1e-9


def recorded(name, data, min_runs, min_seconds):
    """{description: (primal seconds, derivative seconds)} from the recorded session."""
    results = replay(read_session(Path(data) / "gradbench" / f"{name}.jsonl"), min_runs, min_seconds)
    bad = [p for r in results for p in r.problems]
    if bad:
        raise AssertionError(f"{name}: {bad[:3]}")
    primal, derivative = FUNCTIONS[name]
    table = {}
    for r in results:
        table.setdefault(r.description, [None, None])[r.function == derivative] = r.seconds
    return table


def generated(name, data, min_runs, min_seconds, max_work, evals=None):
    tool = Tool()
    tool.handle({"id": 0, "kind": "start", "eval": name})
    defined = tool.handle({"id": 1, "kind": "define", "module": name})
    if not defined["success"]:
        raise RuntimeError(f"{name}: define failed: {defined['error']}")
    table = {}
    for inp, description in workloads(name, Path(data) / "adbench", max_work, evals):
        for slot, function in enumerate(FUNCTIONS[name]):
            answer = tool.handle({"id": 2, "kind": "evaluate", "module": name, "function": function,
                                  "input": dict(inp, min_runs=min_runs, min_seconds=min_seconds),
                                  "description": description})
            if not answer["success"]:
                raise RuntimeError(f"{name} {function} {description}: {answer['error']}")
            table.setdefault(description, [None, None])[slot] = _median_seconds(answer)
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m adjit.gradbench.ratios", description=__doc__.splitlines()[0])
    parser.add_argument("evals", nargs="*", default=list(EVALS),
                        help=f"evals (default: {' '.join(EVALS)}; also {' '.join(SESSIONS)} for recorded sessions)")
    parser.add_argument("--data", default=str(SHARED), help="the folder of gradbench/EVAL.jsonl and adbench/ (default: the repository's tests/data)")
    parser.add_argument("--default-workloads", action="store_true", help="gradbench's default workloads")
    parser.add_argument("--gradbench-evals", default=None,
                        help="with --default-workloads: the evals/ folder of a gradbench checkout, for ba's and "
                             "ht's data files (without it those evals have no default workloads)")
    parser.add_argument("--max-work", type=float, default=None,
                        help="with --default-workloads: skip workloads larger than this size product")
    parser.add_argument("--min-runs", type=int, default=10)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--system-malloc", action="store_true", help="as for python -m adjit.gradbench")
    options = parser.parse_args(argv)
    unknown = [name for name in options.evals if name not in EVALS
               and (options.default_workloads or name not in SESSIONS)]
    if unknown:
        parser.error(f"unknown eval {', '.join(unknown)}; choose from {' '.join(EVALS)}")
    if not options.default_workloads:
        folder = Path(options.data) / "gradbench"
        missing = [f"{name}.jsonl" for name in options.evals if not (folder / f"{name}.jsonl").is_file()]
        if missing:
            parser.error(f"no recorded gradbench session {', '.join(missing)} in {folder}. The recordings are in "
                         "the repository's tests/data, not in an installed package: pass --data FOLDER (a folder holding gradbench/EVAL.jsonl), "
                         "or --default-workloads to run gradbench's default workloads generated here "
                         "(lstm's also need ADBench's data in FOLDER/adbench)")
    if not options.system_malloc:
        keep_freed_memory()
    summary = {}
    for name in options.evals:
        if options.default_workloads:
            table = generated(name, options.data, options.min_runs, options.min_seconds, options.max_work,
                              options.gradbench_evals)
        else:
            table = recorded(name, options.data, options.min_runs, options.min_seconds)
        if not table:
            print(f"note: {name}: no workloads to run (lstm's default workloads are ADBench's files, "
                  f"looked for in {Path(options.data) / 'adbench' / 'data' / 'lstm'}; ba's and ht's are "
                  "gradbench's, read with --gradbench-evals)", file=sys.stderr)
            continue
        ratios = []
        for description, (primal, derivative) in table.items():
            ratios.append(derivative / primal)
            print(f"| {name} | {description} | {primal * 1e6:,.1f} µs | {derivative * 1e6:,.1f} µs "
                  f"| {ratios[-1]:.2f} |", flush=True)
        summary[name] = statistics.median(ratios)
    print()
    for name, ratio in summary.items():
        print(f"| {name} | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
