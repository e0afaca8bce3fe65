"""The schema-free core of batch linkage: train a Fellegi–Sunter model with Splink on its
DuckDB backend, score the blocked pairs, and cluster them under constraints.

``run_splink`` is used by ``aman.dedup.linkage.engine.link`` (Aman's registrations) and by
``aman.dedup.linkage.febrl`` (the FEBRL benchmark data sets) with their own comparisons and
blocking rules; ``cluster`` is the constrained connected-components step both share.

Training needs no labelled data:

1. *u* probabilities (how often a level occurs among non-matches) from a random sample of
   record pairs, nearly all of which are non-matches;
2. the prior (the probability that two random records match) from deterministic rules
   (pairs that agree on a strong identifier, divided by an assumed recall);
3. *m* probabilities (how often a level occurs among matches) by expectation maximisation
   over pairs blocked on one rule at a time; the comparisons a training rule uses are not
   estimated from that rule's pairs, so each rule estimates the others.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

__all__ = ["SplinkRun", "cluster", "connect", "run_splink"]

Progress = Callable[[str, float], None]


def connect(threads: int = 2, memory_limit: str = "8GB") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection limited to ``threads`` and ``memory_limit``."""
    con = duckdb.connect(":memory:")
    spill = Path(tempfile.gettempdir()) / "aman-duckdb"  # not the worker's working directory
    con.execute(f"SET temp_directory = '{spill}'")
    con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    return con


@dataclass
class SplinkRun:
    """What ``run_splink`` returns: the scored pairs above the threshold, the model, and how
    long each phase took."""

    predictions: pd.DataFrame
    #: per comparison: its levels in order, each with label, gamma value, m, u, weight.
    model: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)
    blocked_pairs: int = 0


def _quiet_splink() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)


def run_splink(
    tables: pd.DataFrame | Sequence[pd.DataFrame],
    *,
    link_type: str,
    comparisons: list[Any],
    blocking_rules: list[Any],
    training_rules: Iterable[Any],
    deterministic_rules: list[Any],
    deterministic_recall: float,
    threshold_match_probability: float,
    u_max_pairs: float = 2e6,
    em_max_pairs: float = 1e6,
    m_floors: dict[str, tuple[str, float]] | None = None,
    seed: int = 1,
    threads: int = 2,
    memory_limit: str = "8GB",
    progress: Progress | None = None,
    progress_span: tuple[float, float] = (0.0, 1.0),
    train: bool = True,
    prior: float = 1e-4,
) -> SplinkRun:
    """Train (u by random sampling, prior from ``deterministic_rules``, m by EM over each of
    ``training_rules``) and predict over ``blocking_rules``; return the pairs with
    ``match_probability >= threshold_match_probability``, with per comparison its level
    (``gamma_<name>``) and partial match weight (``mw_<name>``, plus ``mw_tf_adj_<name>``
    for a level with a term-frequency adjustment).

    ``tables`` is one frame (``dedupe_only``) or one per source (``link_only``); each has
    a ``unique_id`` column (and ``source_dataset`` when linking). ``progress(phase,
    fraction)`` is called with fractions inside ``progress_span``.

    The ``m_probability``/``u_probability`` given in the comparison levels and ``prior``
    are the starting values: kept as they are with ``train=False`` (too few records to
    estimate anything), and kept for whatever a training step cannot estimate (a step that
    finds no pairs is skipped and listed in ``model["training"]["skipped"]``).
    """
    from splink import DuckDBAPI, Linker, SettingsCreator
    from splink.internals.exceptions import EMTrainingException

    _quiet_splink()
    lo, hi = progress_span
    seconds: dict[str, float] = {}

    def report(phase: str, fraction: float) -> None:
        if progress is not None:
            progress(phase, lo + (hi - lo) * fraction)

    con = connect(threads, memory_limit)
    try:
        db_api = DuckDBAPI(con)
        frames = [tables] if isinstance(tables, pd.DataFrame) else list(tables)
        inputs = [db_api.register(frame, table_name=f"input_{i}") for i, frame in enumerate(frames)]
        settings = SettingsCreator(
            link_type=link_type,  # type: ignore[arg-type]
            comparisons=comparisons,
            blocking_rules_to_generate_predictions=blocking_rules,
            retain_matching_columns=True,
            retain_intermediate_calculation_columns=True,
            max_iterations=25,
            em_convergence=0.0001,
            probability_two_random_records_match=prior,
        )
        linker = Linker(inputs if len(inputs) > 1 else inputs[0], settings, log_level=None)

        t0 = time.perf_counter()
        report("train", 0.0)
        training: dict[str, Any] = {"trained": train, "em_rules": [], "skipped": []}
        if train:
            try:
                linker.training.estimate_probability_two_random_records_match(
                    deterministic_rules, recall=deterministic_recall
                )
            except ValueError as exc:  # more sure matches than the recall allows
                training["skipped"].append(f"prior: {exc}")
            linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
            rules = list(training_rules)
            right = "input_1" if len(inputs) > 1 else "input_0"
            for i, rule in enumerate(rules):
                report("train", 0.2 + 0.4 * i / max(len(rules), 1))
                # A rule without pairs (no IIN in the crisis) is skipped: Splink's failed EM
                # session would leave its prior behind (seen in 5.0.0), so check first.
                found = con.sql(
                    f"SELECT 1 FROM input_0 l JOIN {right} r ON {rule} "  # noqa: S608
                    "AND l.unique_id <> r.unique_id LIMIT 1"
                ).fetchall()
                prior_before = linker._settings_obj._probability_two_random_records_match
                try:
                    if not found:
                        raise EMTrainingException("no pairs")
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        rule, max_pairs=em_max_pairs, record_sample_proportion=1.0
                    )
                    training["em_rules"].append(str(rule))
                except EMTrainingException:
                    training["skipped"].append(f"EM on {rule}: no pairs")
                linker._settings_obj._probability_two_random_records_match = prior_before
            training["reset"] = _reset_degenerate(linker, comparisons, m_floors or {})
        seconds["train"] = time.perf_counter() - t0
        report("predict", 0.6)

        t0 = time.perf_counter()
        predicted = linker.inference.predict(
            threshold_match_probability=threshold_match_probability, warning_mode="never"
        )
        table = predicted.physical_name
        names = con.sql(f"SELECT * FROM {table} LIMIT 0").columns  # noqa: S608
        columns = ", ".join(
            ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]
            + [c for c in names if c.startswith(("gamma_", "mw_"))]
            + (["source_dataset_l", "source_dataset_r"] if link_type == "link_only" else [])
        )
        predictions = con.sql(
            f"SELECT {columns} FROM {table}"  # noqa: S608
        ).df()
        seconds["predict"] = time.perf_counter() - t0
        report("predict", 1.0)
        model = model_parameters(linker)
        model["training"] = training
    finally:
        con.close()
    return SplinkRun(predictions=predictions, model=model, seconds=seconds)


def _reset_degenerate(
    linker: Any, comparisons: list[Any], m_floors: dict[str, tuple[str, float]]
) -> list[str]:
    """Undo what EM got wrong: where the m of a comparison's agreement level (``m_floors``:
    {comparison: (level label, lowest believable m)}) came out below its floor, EM took
    something else for the match class (in blocks of mostly strangers born the same day,
    "born the same day"), and the comparison's m go back to their starting values; u stays
    as estimated. Returns the comparisons reset."""
    start = {
        c["output_column_name"]: {
            level["label_for_charts"]: level.get("m_probability")
            for level in c["comparison_levels"]
        }
        for c in comparisons
        if isinstance(c, dict)
    }
    reset = []
    for comparison in linker._settings_obj.comparisons:
        name = comparison.output_column_name
        if name not in m_floors or name not in start:
            continue
        label, floor = m_floors[name]
        level = next(lv for lv in comparison.comparison_levels if lv.label_for_charts == label)
        if level.m_probability is not None and level.m_probability < floor:
            for lv in comparison.comparison_levels:
                m = start[name].get(lv.label_for_charts)
                if not lv.is_null_level and m is not None:
                    lv.m_probability = m
            reset.append(name)
    return reset


def model_parameters(linker: Any) -> dict[str, Any]:
    """The trained model as plain data: the prior and, per comparison, each level's label,
    gamma value (``-1`` for the null level), m, u and partial match weight (log2 m/u)."""
    settings = linker._settings_obj
    out: dict[str, Any] = {
        "probability_two_random_records_match": settings._probability_two_random_records_match,
        "comparisons": {},
    }
    for comparison in settings.comparisons:
        levels = []
        for level in comparison.comparison_levels:
            m = u = None
            weight = 0.0
            if not level.is_null_level:
                m, u = level.m_probability, level.u_probability
                if m and u:
                    weight = math.log2(m / u)
            levels.append(
                {
                    "label": level.label_for_charts,
                    "gamma": level.comparison_vector_value,
                    "null": bool(level.is_null_level),
                    "m": m,
                    "u": u,
                    "weight": weight,
                }
            )
        out["comparisons"][comparison.output_column_name] = levels
    return out


def cluster(
    a: Sequence[int] | np.ndarray,
    b: Sequence[int] | np.ndarray,
    weight: Sequence[float] | np.ndarray,
    *,
    exclude_pairs: Iterable[tuple[int, int]] = (),
    groups: Mapping[int, Hashable] | None = None,
) -> dict[int, int]:
    """Connected components of the links ``a[i]``–``b[i]`` under cannot-link constraints.

    Links are taken strongest first (by ``weight``, then by ids, for the same result every
    time) and joined with union-find. A link is skipped when it would put into one cluster
    the two records of a pair in ``exclude_pairs``, or two records of one group
    (``groups``: unique_id → group, e.g. the household), so each record stays with the
    records its stronger links lead to. Returns unique_id → cluster id (the smallest
    unique_id in the cluster) for the records in clusters of two or more.
    """
    a = np.asarray(a, dtype="int64")
    b = np.asarray(b, dtype="int64")
    w = np.asarray(weight, dtype="float64")
    order = np.lexsort((b, a, -np.round(w, 9)))
    parent: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    banned: dict[int, set[int]] = {}  # root → records that may not join its cluster
    for x, y in exclude_pairs:
        banned.setdefault(x, set()).add(y)
        banned.setdefault(y, set()).add(x)
    group_of = groups or {}
    group_sets: dict[int, set[Hashable]] = {}  # root → the groups of its members

    def find(x: int) -> int:
        root = x
        while root in parent:
            root = parent[root]
        while x in parent and parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def groups_of(root: int) -> set[Hashable] | None:
        got = group_sets.get(root)
        if got is None and root in group_of:
            got = group_sets[root] = {group_of[root]}
        return got

    for x, y in zip(a[order].tolist(), b[order].tolist(), strict=True):
        ra, rb = find(x), find(y)
        if ra == rb:
            continue
        ban_a, ban_b = banned.get(ra), banned.get(rb)
        if ban_a and any(find(z) == rb for z in ban_a):
            continue
        if ban_b and any(find(z) == ra for z in ban_b):
            continue
        ga, gb = groups_of(ra), groups_of(rb)
        if ga and gb and not ga.isdisjoint(gb):
            continue
        size_a, size_b = len(members.get(ra, ())), len(members.get(rb, ()))
        big, small = (ra, rb) if size_a >= size_b else (rb, ra)
        parent[small] = big
        members.setdefault(big, [big]).extend(members.pop(small, [small]))
        if small in banned:
            banned.setdefault(big, set()).update(banned.pop(small))
        gs = group_sets.pop(small, None)
        if gs:
            if big in group_sets:
                group_sets[big] |= gs
            else:
                group_sets[big] = gs
    clusters: dict[int, int] = {}
    for group in members.values():
        cluster_id = min(group)
        for uid in group:
            clusters[uid] = cluster_id
    return clusters
