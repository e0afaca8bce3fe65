"""Batch record linkage over a whole crisis (issue 4): blocking plus a Fellegi–Sunter model
estimated from the data itself, with Splink on its DuckDB backend. Plain Python: nothing
here imports Django, so the engine runs in a worker, a benchmark or a test alike.

* ``engine``: ``link(records, settings=, exclude_pairs=, progress=)`` for Aman's
  registrations (the matching keys, comparisons, blocking rules, thresholds, evidence).
* ``core``: the schema-free train → predict → cluster steps both schemas share.
* ``febrl``: the same core on the FEBRL benchmark data sets.
* ``synthetic``: a seeded synthetic Kazakh registry (mimesis names) for tests and benches.
* ``evaluate``: pairwise and cluster precision/recall/F1, and the string-similarity baseline.
"""

from aman.dedup.linkage.engine import EVIDENCE, LinkageResult, LinkedPair, Settings, link

__all__ = ["EVIDENCE", "LinkageResult", "LinkedPair", "Settings", "link"]
