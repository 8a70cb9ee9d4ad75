"""Every example runs, and prints the numbers it promises."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(name):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_quickstart():
    out = run("quickstart.py")
    assert "(-4.0, -4.0, 3.0)" in out
    assert "(-8.0, 6.0, 2.0, 0.0)" in out
    assert "dy/dx = 35.0" in out
    assert "dw = [-0.2  -0.39  0.2 ]" in out and "dx = [ 0.39 -0.59]" in out
    assert "def neuron_grad(w, x):" in out


def test_demo():
    out = subprocess.run([sys.executable, "-m", "adjit"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "[ 1.         -0.54030231  4.        ]" in out.stdout
    assert "GradCheck(ok" in out.stdout
