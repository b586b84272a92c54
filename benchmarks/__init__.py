"""Reproducible benchmarks (``make bench``): each prints one table row; results go to results.json."""
