"""Speed and accuracy benchmarks (``make bench`` runs ``python -m benchmarks``)."""
