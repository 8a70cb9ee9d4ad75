"""``python -m adjit.fuzz``: a long generated-program campaign, with a summary.

    python -m adjit.fuzz --programs 10000 --seed 1

runs two kinds of chunks, one after the other, each in its own subprocess:

* **interpreted** (``--programs N``): with ``NUMBA_DISABLE_JIT=1``, so ``numba.njit`` is a
  no-op and the Python source adjit generates (forward and reverse sweep) runs in the
  interpreter.  Everything adjit does (frontend, IR, reverse mode, codegen) is the same
  as in a normal run; only Numba's compilation of the generated source is skipped.
  About 0.2 s a program on one core.
* **compiled** (``--compiled K``, default N // 50): as users run adjit, with Numba.
  About 1-3 s a program (Numba compilation); this also checks that Numba accepts and
  types the generated code the way Python runs it.

A chunk is ``--chunk`` (1000) interpreted or ``--compiled-chunk`` (100) compiled programs
(Numba keeps every compiled function alive: 10-15 MB a program).  Chunk k of a run with
seed S uses hypothesis seed S * 1000 + k (interpreted) or S * 1000 + 500 + k (compiled).
``--in-process`` runs one campaign in this process with the seed as given, in whatever
mode NUMBA_DISABLE_JIT selects: that is how a single chunk is re-run.

Each failure is shrunk by hypothesis, then by deleting statements while it fails the same
way, and written to the output directory as ``<kind>-seed<seed>.py``, a runnable
reproducer.  The exit status is 1 if anything failed.
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

COLUMNS = ("generated", "compiled", "checked", "refused", "mismatches", "errors", "points", "fd_checked",
           "fd_skipped")


def _parser():
    p = argparse.ArgumentParser(prog="python -m adjit.fuzz", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--programs", type=int, default=1000,
                   help="programs to check in interpreted mode (NUMBA_DISABLE_JIT=1); default 1000")
    p.add_argument("--compiled", type=int, default=None,
                   help="programs to check compiled by Numba; default programs // 50")
    p.add_argument("--seed", type=int, default=None, help="base seed (default: random, printed)")
    p.add_argument("--points", type=int, default=2, help="random points per program (default 2)")
    p.add_argument("--chunk", type=int, default=1000, help="interpreted programs per subprocess")
    p.add_argument("--compiled-chunk", type=int, default=100, help="compiled programs per subprocess")
    p.add_argument("--out", default=None, help="where reproducers and logs go (default: a new temp dir)")
    p.add_argument("--exclude", default="", help="comma-separated generator features to leave out")
    p.add_argument("--max-failures", type=int, default=10, help="stop a chunk after this many failures")
    p.add_argument("--no-shrink", action="store_true", help="write failures as found, without shrinking")
    p.add_argument("--minimize-seconds", type=float, default=120.0,
                   help="after hypothesis' shrinking, delete statements while the failure stays (default 120 s)")
    p.add_argument("--max-refusal-rate", type=float, default=0.3,
                   help="fail (exit 1) if more than this fraction of the programs is refused (default 0.3)")
    p.add_argument("--in-process", action="store_true",
                   help="one campaign of --programs programs in this process, seed as given")
    p.add_argument("--stats-json", default=None, help=argparse.SUPPRESS)  # for chunks
    return p


def _features(exclude):
    from .generator import ALL_FEATURES, DEFAULT_FEATURES
    names = frozenset(x for x in exclude.split(",") if x)
    unknown = names - ALL_FEATURES
    if unknown:
        sys.exit(f"unknown features: {sorted(unknown)}; known: {sorted(ALL_FEATURES)}")
    return DEFAULT_FEATURES - names


def _mode_name():
    return "interpreted" if os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0") else "compiled"


def run_in_process(args):
    """One campaign here; prints progress, writes --stats-json; returns the Campaign."""
    from .campaign import Campaign
    out = args.out = args.out or tempfile.mkdtemp(prefix="adjit-fuzz-")
    seed = args.seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "little")
    origin = f"python -m adjit.fuzz --in-process --programs {args.programs} --seed {seed} ({_mode_name()})"
    campaign = Campaign(_features(args.exclude), save_dir=out, npoints=args.points, origin=origin,
                        max_failures=args.max_failures, shrink=not args.no_shrink,
                        minimize_seconds=args.minimize_seconds)

    def progress(c):
        print(f"  {c.stats['generated']} programs, {c.stats['passed']} passed, {c.stats['refused']} refused, "
              f"{len(c.failures)} failures, "
              f"{time.time() - start:.0f} s", flush=True)

    start = time.time()
    campaign.run(args.programs, seed, progress)
    if args.stats_json:
        with open(args.stats_json, "w") as fh:
            json.dump({"stats": campaign.stats, "features": campaign.feature_count,
                       "failures": campaign.failures, "elapsed": campaign.elapsed,
                       "refusals": campaign.refusals, "gg_refusals": campaign.gg_refusals}, fh)
    return campaign


def _chunks(total, size, base, mode):
    offset = 0 if mode == "interpreted" else 500
    out, k = [], 0
    while k * size < total:
        out.append((mode, k, base * 1000 + offset + k, min(size, total - k * size)))
        k += 1
    return out


def _run_chunk(mode, k, seed, count, args, out, cache):
    chunk_dir = os.path.join(out, f"{mode}-{k}")
    os.makedirs(chunk_dir, exist_ok=True)
    stats_path = os.path.join(chunk_dir, "stats.json")
    env = dict(os.environ, ADJIT_CACHE_DIR=cache, NUMBA_DISABLE_JIT="1" if mode == "interpreted" else "0")
    cmd = [sys.executable, "-m", "adjit.fuzz", "--in-process", "--programs", str(count), "--seed", str(seed),
           "--max-refusal-rate", "1",
           "--points", str(args.points), "--out", chunk_dir, "--exclude", args.exclude,
           "--max-failures", str(args.max_failures), "--minimize-seconds", str(args.minimize_seconds),
           "--stats-json", stats_path]
    if args.no_shrink:
        cmd.append("--no-shrink")
    limit = 600 + count * (30 if mode == "compiled" else 5)
    with open(os.path.join(chunk_dir, "log.txt"), "w") as log:
        try:
            rc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=limit).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    if not os.path.exists(stats_path):
        return None, f"chunk {mode}-{k} (seed {seed}) ended ({rc}) without statistics; see {chunk_dir}/log.txt"
    with open(stats_path) as fh:
        return json.load(fh), None


def refusal_lines(stats, refusals, gg_refusals, bound):
    """The refusal rate against its bound, and the refusals by reason."""
    rate = stats["refused"] / max(1, stats["generated"])
    lines = [f"  refused: {stats['refused']} of {stats['generated']} programs ({100 * rate:.1f}%; bound "
             f"{100 * bound:.0f}%): a clear AdjitError when adjit compiled them, counted, not failures"]
    lines += [f"    {n:6d}  {key}" for key, n in refusals.most_common()]
    if stats["gg_points"] or stats["gg_refused"]:
        lines.append(f"  adjit.grad(adjit.grad(f)) in x: {stats['gg_checked']} points checked against second "
                     f"differences, {stats['gg_skipped']} not smooth, {stats['gg_refused']} programs refused "
                     f"(a clear error; transformations compose now, so expected 0)")
        lines += [f"    {n:6d}  {key}" for key, n in gg_refusals.most_common()]
    if stats["jac_points"]:
        lines.append(f"  jacfwd/jacrev/hessian in a: {stats['jac_points']} points, {stats['jac_checked']} Jacobians "
                     f"and {stats['hess_checked']} Hessians checked, {stats['jac_fd_checked']} columns against "
                     f"finite differences ({stats['jac_fd_skipped']} not smooth), {stats['jac_refused']} objects "
                     f"refused (counted with the grad(grad) refusals above)")
    if rate > bound:
        lines.append(f"  FAILED: the refusal rate {100 * rate:.1f}% is above the bound {100 * bound:.0f}% "
                     f"(--max-refusal-rate)")
    return lines, rate > bound


def summary(seed, totals, elapsed_by_mode, features, failures, out, elapsed, refusals=None, gg_refusals=None,
            bound=0.3):
    """The summary text, and whether the refusal rate is above `bound`."""
    lines = [f"adjit fuzz summary (seed {seed}, {elapsed:.0f} s wall clock)",
             f"  {'mode':<12}" + "".join(f"{c:>12}" for c in COLUMNS) + f"{'time (s)':>10}"]
    for mode, st in totals.items():
        lines.append(f"  {mode:<12}" + "".join(f"{st[c]:>12}" for c in COLUMNS) + f"{elapsed_by_mode[mode]:>10.0f}")
    all_stats = sum(totals.values(), collections.Counter())
    lines.append(f"  gradient components: {all_stats['grad_components']} ({all_stats['grad_nonzero']} non-zero); "
                 f"points passed: {all_stats['points_ok']} of {all_stats['points']}; "
                 f"tape argnums=0 refusals worked around: {all_stats['tape_fallback']}; "
                 f"hypothesis restarts after failures: {all_stats['restarts']}")
    lines.append("  feature occurrence (programs): " + ", ".join(f"{k} {v}" for k, v in features.most_common()))
    more, too_many = refusal_lines(all_stats, collections.Counter(refusals or {}),
                                   collections.Counter(gg_refusals or {}), bound)
    lines += more
    if failures:
        lines.append(f"  {len(failures)} failure(s), shrunk reproducers in {out}:")
        for f in failures:
            lines.append(f"    [{f['kind']}] {f['path']}")
    else:
        lines.append("  no mismatches, no errors")
    return "\n".join(lines), too_many


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        sys.exit("python -m adjit.fuzz needs hypothesis: pip install 'adjit[test]'")
    if args.in_process:
        campaign = run_in_process(args)
        modes = {_mode_name(): campaign.stats}
        text, too_many = summary(args.seed, modes, {_mode_name(): campaign.elapsed}, campaign.feature_count,
                                 campaign.failures, args.out, campaign.elapsed, campaign.refusals,
                                 campaign.gg_refusals, args.max_refusal_rate)
        print(text)
        return 1 if campaign.failures or too_many else 0

    _features(args.exclude)  # refuse unknown names before starting anything
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "little")
    compiled = args.compiled if args.compiled is not None else args.programs // 50
    out = args.out or tempfile.mkdtemp(prefix=f"adjit-fuzz-{seed}-")
    os.makedirs(out, exist_ok=True)
    cache = tempfile.mkdtemp(prefix="adjit-fuzz-cache-")
    chunks = (_chunks(args.programs, args.chunk, seed, "interpreted") +
              _chunks(compiled, args.compiled_chunk, seed, "compiled"))
    print(f"adjit fuzz: seed {seed}: {args.programs} programs interpreted (NUMBA_DISABLE_JIT=1) in chunks of "
          f"{args.chunk}, {compiled} compiled by Numba in chunks of {args.compiled_chunk}; "
          f"{args.points} points each; output in {out}", flush=True)
    totals = {m: collections.Counter() for m in ("interpreted", "compiled") if any(c[0] == m for c in chunks)}
    elapsed_by_mode = collections.Counter()
    features, failures = collections.Counter(), []
    refusals, gg_refusals = collections.Counter(), collections.Counter()
    start = time.time()
    try:
        for mode, k, chunk_seed, count in chunks:
            t0 = time.time()
            data, problem = _run_chunk(mode, k, chunk_seed, count, args, out, cache)
            elapsed_by_mode[mode] += time.time() - t0
            if problem:
                failures.append({"kind": "chunk-died", "path": problem})
                totals[mode]["errors"] += 1
                print("  " + problem, flush=True)
                continue
            totals[mode].update(data["stats"])
            features.update(data["features"])
            refusals.update(data.get("refusals", {}))
            gg_refusals.update(data.get("gg_refusals", {}))
            failures += data["failures"]
            st = totals[mode]
            print(f"  {mode} chunk {k} (seed {chunk_seed}): {data['stats'].get('generated', 0)} programs, "
                  f"{len(data['failures'])} failure(s), {time.time() - t0:.0f} s; {mode} so far: "
                  f"{st['generated']} generated, {st['checked']} checked, {st['refused']} refused, "
                  f"{st['mismatches']} mismatches, "
                  f"{st['errors']} errors; {time.time() - start:.0f} s", flush=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    text, too_many = summary(seed, totals, elapsed_by_mode, features, failures, out, time.time() - start,
                             refusals, gg_refusals, args.max_refusal_rate)
    print(text)
    return 1 if failures or too_many else 0
