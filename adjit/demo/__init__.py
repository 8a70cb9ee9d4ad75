"""The demo run by ``python -m adjit``: a loop with a branch, differentiated and timed."""
