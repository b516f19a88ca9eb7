"""Gezinslijn's performance benchmark: `python -m bench.run [--quick]` (see bench/README.md).

Not part of `make test`: it takes minutes and measures, it does not check behaviour."""
