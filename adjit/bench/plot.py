"""The log-log plot of time against problem size: one panel per problem, one line per engine."""
import math

MARKERS = "osD^v<>px*h"


def matplotlib_available():
    try:
        import matplotlib  # noqa: F401 - only asking whether it is installed
    except ImportError:
        return False
    return True


def _series(measurements_by_size):
    """{engine: [(size, seconds, extrapolated), ...]} of the timed rows."""
    series = {}
    for size, measurements in measurements_by_size:
        for m in measurements:
            if m.timed:
                series.setdefault(m.engine, []).append((size, m.seconds, m.extrapolated))
    return series


def plot(problems, results, path, engine_order):
    """Write the PNG to `path`.  Extrapolated times are drawn as hollow markers."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 2 if len(problems) > 1 else 1
    rows = math.ceil((len(problems) + 1) / columns)       # one more panel for the legend
    fig, axes = plt.subplots(rows, columns, figsize=(6.2 * columns, 4.0 * rows), squeeze=False)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    style = {name: (cycle[i % len(cycle)], MARKERS[i % len(MARKERS)]) for i, name in enumerate(engine_order)}
    handles = {}
    for ax, problem in zip(axes.flat, problems):
        for engine, points in _series(results[problem.name]).items():
            colour, marker = style[engine]
            sizes, seconds, _ = zip(*points)
            (line,) = ax.plot(sizes, seconds, color=colour, marker=marker, markersize=6, linewidth=1.4,
                              linestyle="--" if engine == "primal" else "-")
            handles.setdefault(engine, line)
            hollow = [(s, t) for s, t, extrapolated in points if extrapolated]
            if hollow:
                ax.plot(*zip(*hollow), linestyle="none", marker=marker, markersize=6,
                        color=colour, markerfacecolor="white")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{problem.name}: {problem.title}", fontsize=10)
        ax.set_xlabel(problem.size_name)
        ax.set_ylabel("seconds per call")
        ax.grid(True, which="both", alpha=0.25)
    spare = list(axes.flat)[len(problems):]
    for ax in spare:
        ax.set_axis_off()
    names = [name for name in engine_order if name in handles]
    spare[0].legend([handles[n] for n in names], names, loc="center", fontsize=10,
                    title="engine (hollow marker: extrapolated from a smaller size)", title_fontsize=9)
    fig.suptitle("adjit benchmarks: seconds per gradient (primal: per evaluation)", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(path, dpi=100)
    plt.close(fig)
