"""`make bench-shop`: the shop under open-loop load, its footprint, its start-up
time, and the registry with 10,000 instances; the report is
docs/benchmarks/shop.md. `__main__.py` runs the phases in order."""
