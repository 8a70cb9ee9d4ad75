"""Generated-program testing of adjit: ``python -m adjit.fuzz --programs N --seed S``.

- `generator`: a hypothesis strategy for random programs of adjit's supported subset;
- `oracles`: the checks made on each program (jit against Python, grad against the tape
  engine, both against finite differences where the program is smooth);
- `campaign`: a campaign in one process, with shrinking and reproducer files;
- `cli`: the command line, which runs campaigns in subprocess chunks and sums them up.

Needs hypothesis (``pip install 'adjit[test]'``); importing ``adjit`` does not import this
package.  See docs/testing.md.
"""
