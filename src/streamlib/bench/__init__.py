"""Benchmarks: ``python -m streamlib.bench <name>`` (``--help`` lists them).

Benchmarks print numbers and ratios against baselines measured in the same run;
they are commands, not tests."""
