"""A progress bar: tqdm when installed, otherwise one line of text per step."""
import sys


class _TextProgress:
    def __init__(self, total):
        self.total = total
        self.done = 0

    def step(self, description):
        self.done += 1
        print(f"[{self.done}/{self.total}] {description}", file=sys.stderr, flush=True)

    def write(self, text):
        print(text, file=sys.stderr, flush=True)

    def close(self):
        pass


class _TqdmProgress:
    def __init__(self, tqdm, total):
        self._tqdm = tqdm
        self._bar = tqdm(total=total, unit="run", file=sys.stderr, dynamic_ncols=True)

    def step(self, description):
        self._bar.set_postfix_str(description, refresh=False)
        self._bar.update(1)

    def write(self, text):
        self._tqdm.write(text, file=sys.stderr)

    def close(self):
        self._bar.close()


def progress(total, enabled=True):
    """An object with step(description), write(text) and close()."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            return _TextProgress(total)
        return _TqdmProgress(tqdm, total)
    quiet = _TextProgress(total)
    quiet.step = lambda description: None
    return quiet
