"""The code blocks of README.md and docs/tutorial.md run as scripts, as a reader runs them:
every ```python block of a page, in order, appended to one file (the tutorial's snippets
build on each other), run in a fresh process from a temporary directory.

A block that shows a refusal (a comment line ``# adjit.errors.SomeError: ...``) must raise
that error; the rest of the page goes on after it.  Each ``print(...)  # out`` must print
a line that is ``out``, or its start before a comment on it (``# 0.0770037537313969, by
hand`` is printed as ``0.0770037537313969``)."""
import os
import re
import subprocess
import sys
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
REFUSAL = re.compile(r"^# adjit\.errors\.(\w+):", re.M)
PRINTED = re.compile(r"^print\(.*\)\s+# (.+)$", re.M)


def blocks(page):
    with open(os.path.join(REPO, page), encoding="utf-8") as f:
        return BLOCK.findall(f.read())


def script(page):
    parts = []
    for number, block in enumerate(blocks(page), 1):
        refusal = REFUSAL.search(block)
        if refusal is None:
            parts.append(block)
            continue
        parts.append(f"try:\n{textwrap.indent(block, '    ')}\n"
                     f"except adjit.errors.{refusal.group(1)}:\n    pass\n"
                     f"else:\n    raise AssertionError('block {number} of {page} did not raise {refusal.group(1)}')\n")
    return "\n".join(parts)


def run(page, tmp_path):
    path = tmp_path / (os.path.basename(page).replace(".md", "") + "_snippets.py")
    path.write_text(script(page), encoding="utf-8")
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=900, env={**os.environ, "ADJIT_COMPILE_NOTICE": "off",
                                            "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")})
    assert done.returncode == 0, f"{page}'s code blocks, run as {path}, failed:\n{done.stderr[-3000:]}"
    return done.stdout


def check_printed(page, out):
    lines = {line.strip() for line in out.splitlines() if line.strip()}
    for comment in PRINTED.findall("\n".join(blocks(page))):
        comment = comment.strip()
        assert any(comment == line or (comment.startswith(line) and comment[len(line)] in ",:; (")
                   for line in lines), f"{page} shows {comment!r}, which was not printed:\n{out[:3000]}"


def test_readme_code_runs_and_prints_what_the_page_shows(tmp_path):
    assert PRINTED.findall("\n".join(blocks("README.md"))), "README.md shows no printed value"
    check_printed("README.md", run("README.md", tmp_path))


def test_tutorial_snippets_run_in_order_and_print_what_the_page_shows(tmp_path):
    assert len(blocks("docs/tutorial.md")) > 10
    check_printed("docs/tutorial.md", run("docs/tutorial.md", tmp_path))
