"""Quality measures for batch linkage, and the plain string-similarity baseline.

Definitions (used by the tests and ``bench/dedup_quality.py``):

* **pairwise** precision / recall / F1: over unordered record pairs. Predicted = the pairs
  the engine returns (at its pair threshold); true = every pair of records of the same
  person (dedupe) or the known matching pairs across the two sets (linkage).
* **cluster** precision / recall / F1: the same pairwise measure over the pairs *implied by
  the clusters* (the transitive closure: every two records in one cluster form a pair).
  This is stricter than B-cubed for over-merging (a wrong link between two clusters of
  five adds 25 wrong pairs) and is what a merge would do.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = [
    "Scores",
    "baseline_pairs",
    "cluster_pairs",
    "entity_pairs",
    "score_pairs",
]


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    true_positives: int
    predicted: int
    actual: int

    def __str__(self) -> str:
        return (
            f"P {self.precision:.4f}  R {self.recall:.4f}  F1 {self.f1:.4f}  "
            f"(TP {self.true_positives:,} / predicted {self.predicted:,} / "
            f"true {self.actual:,})"
        )


def _norm(pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    return {(a, b) if a < b else (b, a) for a, b in pairs if a != b}


def score_pairs(predicted: Iterable[tuple[int, int]], actual: Iterable[tuple[int, int]]) -> Scores:
    """Precision, recall and F1 of ``predicted`` record pairs against ``actual`` ones."""
    p, t = _norm(predicted), _norm(actual)
    tp = len(p & t)
    precision = tp / len(p) if p else 1.0
    recall = tp / len(t) if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, tp, len(p), len(t))


def _group_pairs(groups: Mapping[Any, list[int]]) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for ids in groups.values():
        if len(ids) > 1:
            out.update(itertools.combinations(sorted(ids), 2))
    return out


def entity_pairs(unique_ids: Iterable[int], true_ids: Iterable[Hashable]) -> set[tuple[int, int]]:
    """Every pair of records that belong to the same true entity."""
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for uid, tid in zip(unique_ids, true_ids, strict=True):
        groups[tid].append(int(uid))
    return _group_pairs(groups)


def cluster_pairs(clusters: Mapping[int, int]) -> set[tuple[int, int]]:
    """Every pair of records put into one cluster (the transitive closure of the links)."""
    groups: dict[int, list[int]] = defaultdict(list)
    for uid, cid in clusters.items():
        groups[cid].append(uid)
    return _group_pairs(groups)


def baseline_pairs(
    records: pd.DataFrame,
    threshold: float,
    *,
    name_columns: tuple[str, str] = ("surname", "given_names"),
    dob_column: str = "birth_date",
) -> list[tuple[int, int, float]]:
    """The plain string-similarity baseline: records with the same birth date whose raw full
    names (``name_columns`` joined, lower case, as typed) have a rapidfuzz ``ratio`` of at
    least ``threshold`` (0..100). No transliteration, no identifiers. Returns (a, b, score)."""
    from rapidfuzz import fuzz

    surname, given = name_columns
    frame = pd.DataFrame(
        {
            "uid": records["unique_id"].astype("int64"),
            "name": (
                records[surname].fillna("").astype(str)
                + " "
                + records[given].fillna("").astype(str)
            )
            .str.lower()
            .str.strip(),
            "dob": records[dob_column].astype(str),
        }
    )
    frame = frame[(frame["dob"] != "") & (frame["dob"] != "None") & (frame["dob"] != "NaT")]
    out: list[tuple[int, int, float]] = []
    for _dob, block in frame.groupby("dob", sort=False):
        if len(block) < 2:
            continue
        uids = block["uid"].tolist()
        names = block["name"].tolist()
        for i, j in itertools.combinations(range(len(uids)), 2):
            score = fuzz.ratio(names[i], names[j])
            if score >= threshold:
                a, b = uids[i], uids[j]
                out.append((a, b, score) if a < b else (b, a, score))
    return out
