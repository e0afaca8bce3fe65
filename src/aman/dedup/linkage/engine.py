"""Batch linkage of a crisis's registrations: who among everyone registered may be the same
person, with a probability, the evidence in words, and clusters.

A Fellegi–Sunter model on Splink's DuckDB backend (``aman.dedup.linkage.core``), whose
parameters are estimated from the registrations themselves (no labelled data):

**Matching keys.** Names are compared through ``aman.registry.identity``'s matching keys,
under which Kazakh Cyrillic, Russian Cyrillic, passport Latin and informal Latin spellings
of one name meet (``Жұмабек`` = ``Жумабек`` = ``ZHUMABEK`` = ``Jumabek``). A record's
surname keys are the keys of its native and passport-Latin surnames (the whole surname, so
``Жансүгір ұлы`` = ``Жансүгірұлы``, and for a surname of several words each word but
``ұлы``/``қызы``); its given-name keys are one per word of both given-name fields. The
*canonical* key (for blocking, exact comparison and string similarity) is the passport
Latin's when there is one (printed from a document: rarely mistyped), else the native's.

**Comparisons** (levels, strongest first; ``levels`` in each pair names them):

=============  ===========================================================================
surname        ``exact_key`` (canonical keys equal), ``other_key`` (any key in common),
               ``similar`` (Jaro–Winkler of canonical keys ≥ 0.92), ``somewhat_similar``
               (≥ 0.80), ``different``
given_names    the same levels over the given-name keys
birth_date     ``exact``, ``one_digit`` (one digit differs), ``transposed`` (two adjacent
               digits swapped, or day and month swapped), ``within_year``, ``different``
sex            ``agree``, ``disagree``
iin            ``agree``, ``disagree`` (both have an IIN: a different IIN is strong
               evidence of a different person)
document       ``agree`` (a document number in common), ``disagree``
phone          ``agree`` (a phone number in common), ``disagree``
city           ``agree``, ``disagree``
=============  ===========================================================================

A missing value on either side is the ``null`` level: no evidence either way (weight 0).

**Evidence** (``LinkedPair.evidence``, in this order when they hold): ``iin``, ``document``,
``phone`` (the identifier agrees); ``name_birth_date`` (the surname and a given name meet
under the keys — ``exact_key`` or ``other_key`` both — and the birth date is equal),
``name_approx_birth_date`` (names meet, birth date ``one_digit`` or ``transposed``),
``names`` (names meet, a birth date missing). An empty list: the weight rests on similar
(not equal) names and the other comparisons.

**Blocking** (which pairs are scored at all): the same IIN; a document or a phone number in
common (each number held by at most ``Settings.max_identifier_block`` records: a number
shared by a whole tour group or an agency is not used to find pairs, only to score them);
surname key + birth date; given-name key + birth date; surname key + given-name key + birth
year, or + day and month (a typo in the date); surname key + given-name key when either
birth date is missing.

**Training.** *u* from a seeded random sample of record pairs; the prior from the pairs that
share an IIN or the same names and birth date (recall assumed ``Settings.prior_recall``);
*m* by expectation maximisation over the pairs blocked on the same IIN, then on surname
key + birth date, then on given-name key + birth date. The exact name-key levels are
adjusted by the name's frequency (term frequencies): the same common name weighs less than
the same rare one. Every level starts from ``DEFAULT_PARAMETERS``; a crisis of fewer than
``Settings.min_records_to_train`` records is scored with them as they are (nothing to
estimate from), and a training step that finds no pairs (no IIN in the crisis, say) is
skipped, its parameters kept (``model["training"]`` says what was estimated).

**Thresholds** (``Settings``; probabilities are Splink's ``match_probability``, which
includes the prior: with more records, the same evidence gives a lower probability, as it
should — at a million registrations a name and birth date meet by chance more often):

* ``pair_threshold`` (0.90): a pair is proposed (returned, for an officer to review) at or
  above it, whatever its evidence; ``evidence`` says what it rests on.
* ``cluster_threshold`` (0.95): a link joins two records into one cluster at or above it...
* ``name_only_threshold`` (0.995): ...but a link with neither the same IIN nor a document
  number in common must reach this higher one — whatever else agrees: the names and the
  birth date, exact or approximate, the names alone, or a phone number (families and tour
  groups share one: a shared phone adds its weight, it does not lower the bar). Kazakh
  names are concentrated: name + approximate birth date links strangers, and in clusters
  such links chain them together (A–B and B–C make A and C one person). The threshold
  applies to clusters only: a pair is proposed for review from ``pair_threshold``.

**Never returned, never clustered:** pairs with two different IINs (``Settings.
different_iins_veto``: an IIN belongs to one person and one person has one IIN, checked by
its check digit at registration), pairs in ``exclude_pairs`` (an officer decided they
are not the same person) and pairs in one household (same non-null ``household_id``: a
family shares a phone and a surname). Clusters are built from the strongest link down;
a link that would put the two records of an excluded pair (or two records of one household)
into one cluster is skipped, so the pair stays apart even transitively, and each record
stays with the cluster its stronger links lead to.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aman.dedup.linkage.core import cluster, run_splink
from aman.registry.identity import name_matching_key

__all__ = ["EVIDENCE", "LinkageResult", "LinkedPair", "Settings", "link", "prepare"]

#: Evidence codes of a pair, strongest first.
EVIDENCE = (
    "iin",
    "document",
    "phone",
    "name_birth_date",
    "name_approx_birth_date",
    "names",
)
#: The identifiers that belong to one person: a cluster link holding one of them needs only
#: ``cluster_threshold`` (a phone is shared by families and tour groups).
PERSONAL_IDENTIFIERS = frozenset({"iin", "document"})
_PATRONYMIC_WORDS = frozenset({"uli", "kizi"})  # ұлы / қызы written as a separate word
_WORDS = re.compile(r"[\s,;/]+")  # the word separators of ``name_keys``


@dataclass
class Settings:
    """Thresholds and limits of a batch linkage run (see the module docstring)."""

    #: match probability at or above which a pair is proposed for review.
    pair_threshold: float = 0.90
    #: match probability at or above which a link joins two records into one cluster.
    cluster_threshold: float = 0.95
    #: the (higher) match probability a cluster link needs when its evidence has neither the
    #: same IIN nor a document number in common (a shared phone does not lower it).
    name_only_threshold: float = 0.995
    #: two different IINs mean two people: such a pair is never proposed nor clustered,
    #: whatever else agrees (an IIN passes a check digit at registration, so a typo rarely
    #: gives another valid one; the model's own weight for it is in ``model``).
    different_iins_veto: bool = True
    #: a document or phone number held by more records than this is not used for blocking.
    max_identifier_block: int = 50
    #: below this many records the model is not estimated: ``DEFAULT_PARAMETERS`` score
    #: the pairs, without term-frequency adjustments (too few names to count).
    min_records_to_train: int = 1000
    #: assumed recall of the deterministic rules that estimate the prior.
    prior_recall: float = 0.8
    #: random record pairs sampled to estimate the u probabilities.
    u_max_pairs: float = 1e6
    #: blocked pairs used per EM training rule.
    em_max_pairs: float = 1e6
    seed: int = 1
    threads: int = 2
    memory_limit: str = "12GB"


@dataclass
class LinkedPair:
    """Two records that may be one person (``a < b``).

    ``levels`` (comparison → level label) and ``weights`` (comparison → partial match
    weight, log2 of the Bayes factor) explain ``match_weight``: it is the prior's weight
    plus the sum of ``weights``. The ``levels`` and ``evidence`` objects are shared between
    pairs with the same comparison levels: treat them as read-only.
    """

    a: int
    b: int
    match_weight: float
    match_probability: float
    evidence: list[str]
    levels: dict[str, str]
    weights: dict[str, float]


@dataclass
class LinkageResult:
    pairs: list[LinkedPair]
    #: unique_id → cluster id (the smallest unique_id of the cluster), for clusters of ≥ 2.
    clusters: dict[int, int]
    #: the estimated model: prior and m/u/weight per comparison level (JSON-serialisable).
    model: dict[str, Any]
    thresholds: dict[str, float]
    stats: dict[str, Any] = field(default_factory=dict)


# -- preparation -------------------------------------------------------------------------


def _texts(df: pd.DataFrame, name: str) -> list[str]:
    if name not in df:
        return [""] * len(df)
    # (Not stripped: keys ignore spaces, and a blank text gives an empty key.)
    return df[name].fillna("").astype(str).tolist()


def _hashes(values: Iterable[Any]) -> list[list[str] | None]:
    """Lists of hashes as given (any iterable, ``None`` or NaN for none), empty → ``None``."""
    out: list[list[str] | None] = []
    for value in values:
        if value is None or isinstance(value, float) or value is pd.NA:
            out.append(None)
        elif isinstance(value, list) and len(value) < 2 and all(value):
            out.append(value or None)
        else:
            out.append(sorted({str(v) for v in value if v}) or None)
    return out


def _keys(values: Iterable[str]) -> dict[str, str]:
    """The matching key of each distinct text (a dict: ``name_matching_key``'s own cache
    holds 65,536 and a million registrations have more distinct spellings)."""
    return {text: name_matching_key(text) for text in set(values) if text}


def prepare(records: pd.DataFrame | Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Aman's registrations (the ``link`` input schema) as the model's input: keys,
    birth-date parts, identifier arrays and the blocking copies of them."""
    df = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    n = len(df)
    surname, surname_latin = _texts(df, "surname"), _texts(df, "surname_latin")
    given, given_latin = _texts(df, "given_names"), _texts(df, "given_names_latin")
    whole = _keys(surname + surname_latin)
    texts = set(given) | set(given_latin) | set(surname) | set(surname_latin)
    words = _keys(w for text in texts for w in _WORDS.split(text))

    def surname_keys(native: str, latin: str) -> tuple[str | None, list[str] | None]:
        keys: set[str] = set()
        for text in (native, latin):
            if text:
                keys.add(whole[text])
                parts = _WORDS.split(text.strip())
                if len(parts) > 1:  # each word too, but not ұлы / қызы
                    keys.update(words.get(w, "") for w in parts)
                    keys -= _PATRONYMIC_WORDS
        keys.discard("")
        canonical = (whole[latin] if latin else "") or (whole[native] if native else "")
        return canonical or None, sorted(keys) or None

    def given_keys(native: str, latin: str) -> tuple[str | None, list[str] | None]:
        native_keys = [words.get(w, "") for w in _WORDS.split(native)]
        latin_keys = [words.get(w, "") for w in _WORDS.split(latin)]
        first = next((k for k in latin_keys if k), "") or next((k for k in native_keys if k), "")
        keys = {k for k in native_keys + latin_keys if k}
        return first or None, sorted(keys) or None

    sk, sk_all, gk, gk_all = [], [], [], []
    surname_cache: dict[tuple[str, str], tuple[str | None, list[str] | None]] = {}
    given_cache: dict[tuple[str, str], tuple[str | None, list[str] | None]] = {}
    for s, sl, g, gl in zip(surname, surname_latin, given, given_latin, strict=True):
        got = surname_cache.get((s, sl))
        if got is None:
            got = surname_cache[(s, sl)] = surname_keys(s, sl)
        sk.append(got[0])
        sk_all.append(got[1])
        got = given_cache.get((g, gl))
        if got is None:
            got = given_cache[(g, gl)] = given_keys(g, gl)
        gk.append(got[0])
        gk_all.append(got[1])

    raw = df["birth_date"] if "birth_date" in df else pd.Series([None] * n)
    birth = pd.to_datetime(raw.astype(str), errors="coerce", format="ISO8601")
    day = birth.to_numpy(dtype="datetime64[D]")
    known = ~np.isnat(day)
    iso = day.astype(str).astype(object)
    iso[~known] = None
    bmd = np.array([t[5:] if t else None for t in iso], dtype=object)
    sex = pd.Series(_texts(df, "sex")).str.upper()
    out = pd.DataFrame(
        {
            "unique_id": pd.to_numeric(df["unique_id"]).astype("int64").to_numpy(),
            "hh": pd.array(
                df["household_id"] if "household_id" in df else [None] * n, dtype="Int64"
            ),
            "sk": sk,
            "sk_all": sk_all,
            "gk": gk,
            "gk_all": gk_all,
            "dob": iso,
            "dn": pd.arrays.IntegerArray(np.where(known, day.astype("int64"), 0), ~known),
            "by": pd.array(birth.dt.year, dtype="Int64"),
            "bm": pd.array(birth.dt.month, dtype="Int64"),
            "bd": pd.array(birth.dt.day, dtype="Int64"),
            "bmd": bmd,
            "sex": sex.where(sex.isin(["M", "F"]), None).to_numpy(),
            "iin": [t.strip() or None for t in _texts(df, "iin_hash")],
            "docs": _hashes(df["document_hashes"]) if "document_hashes" in df else None,
            "phones": _hashes(df["phone_hashes"]) if "phone_hashes" in df else None,
            "city": pd.array(df["city_id"] if "city_id" in df else [None] * n, dtype="Int64"),
        }
    )
    if out["unique_id"].duplicated().any():
        raise ValueError("unique_id must be unique")
    return out


def _blocking_copy(values: pd.Series, limit: int) -> list[list[str] | None]:
    """``values`` (lists of hashes) without the hashes held by more than ``limit`` records."""
    counts = values.explode().value_counts()
    common = set(counts[counts > limit].index)
    if not common:
        return values.tolist()
    out: list[list[str] | None] = []
    for v in values.tolist():
        if v is None:
            out.append(None)
        else:
            kept = [h for h in v if h not in common]
            out.append(kept or None)
    return out


# -- the model ---------------------------------------------------------------------------


def _null(*columns: str) -> dict[str, Any]:
    sql = " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in columns)
    return {"sql_condition": sql, "label_for_charts": "null", "is_null_level": True}


def _level(sql: str, label: str, tf: str | None = None) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if tf:
        level |= {"tf_adjustment_column": tf, "tf_adjustment_weight": 1.0}
    return level


def _agree(name: str, column: str, array: bool = False) -> dict[str, Any]:
    sql = (
        f'len(list_intersect("{column}_l", "{column}_r")) >= 1'
        if array
        else f'"{column}_l" = "{column}_r"'
    )
    return {
        "output_column_name": name,
        "comparison_levels": [
            _null(column),
            _level(sql, "agree"),
            _level("ELSE", "disagree"),
        ],
    }


def _name(name: str, key: str, keys: str, tf: bool) -> dict[str, Any]:
    jw = f'jaro_winkler_similarity("{key}_l", "{key}_r")'
    return {
        "output_column_name": name,
        "comparison_levels": [
            _null(key),
            _level(f'"{key}_l" = "{key}_r"', "exact_key", tf=key if tf else None),
            _level(f'len(list_intersect("{keys}_l", "{keys}_r")) >= 1', "other_key"),
            _level(f"{jw} >= 0.92", "similar"),
            _level(f"{jw} >= 0.8", "somewhat_similar"),
            _level("ELSE", "different"),
        ],
    }


#: Starting values (m, u) of every level: what a crisis too small to estimate from
#: (``Settings.min_records_to_train``) is scored with, and what stays for a parameter that
#: training cannot estimate. Estimated by this engine on the synthetic registry of 100,000
#: (``aman.dedup.linkage.synthetic``, seed 7), rounded; identifiers' u set to 10⁻⁶ (an IIN,
#: a passport number shared by strangers is a mistake).
DEFAULT_PARAMETERS: dict[str, dict[str, tuple[float, float]]] = {
    "surname": {
        "exact_key": (0.88, 0.009),
        "other_key": (0.0003, 0.00003),
        "similar": (0.1, 0.01),
        "somewhat_similar": (0.018, 0.024),
        "different": (0.0005, 0.957),
    },
    "given_names": {
        "exact_key": (0.87, 0.0075),
        "other_key": (0.00015, 0.000001),
        "similar": (0.097, 0.002),
        "somewhat_similar": (0.03, 0.025),
        "different": (0.0016, 0.9655),
    },
    "birth_date": {
        "exact": (0.87, 0.000033),
        "one_digit": (0.096, 0.00093),
        "transposed": (0.029, 0.000044),
        "within_year": (0.001, 0.0225),
        "different": (0.004, 0.97665),
    },
    "sex": {"agree": (0.995, 0.5), "disagree": (0.005, 0.5)},
    "iin": {"agree": (0.996, 0.000001), "disagree": (0.004, 0.999999)},
    "document": {"agree": (0.94, 0.000001), "disagree": (0.06, 0.999999)},
    "phone": {"agree": (0.6, 0.0001), "disagree": (0.4, 0.9999)},
    "city": {"agree": (0.81, 0.07), "disagree": (0.19, 0.93)},
}


def comparisons(term_frequencies: bool = True) -> list[dict[str, Any]]:
    """Aman's comparisons (see the module docstring), with ``DEFAULT_PARAMETERS`` as
    starting values; ``term_frequencies``: adjust the exact name-key levels by how common
    the name is (needs enough records to count names: off for small crises)."""
    out = [
        _name("surname", "sk", "sk_all", term_frequencies),
        _name("given_names", "gk", "gk_all", term_frequencies),
        {
            "output_column_name": "birth_date",
            "comparison_levels": [
                _null("dob"),
                _level('"dob_l" = "dob_r"', "exact"),
                _level('levenshtein("dob_l", "dob_r") = 1', "one_digit"),
                _level(
                    'damerau_levenshtein("dob_l", "dob_r") = 1 OR ("by_l" = "by_r" '
                    'AND "bm_l" = "bd_r" AND "bd_l" = "bm_r")',
                    "transposed",
                ),
                _level('abs("dn_l" - "dn_r") <= 365', "within_year"),
                _level("ELSE", "different"),
            ],
        },
        _agree("sex", "sex"),
        _agree("iin", "iin"),
        _agree("document", "docs", array=True),
        _agree("phone", "phones", array=True),
        _agree("city", "city"),
    ]
    for comparison in out:
        defaults = DEFAULT_PARAMETERS[comparison["output_column_name"]]
        for level in comparison["comparison_levels"]:
            if level["label_for_charts"] in defaults:
                m, u = defaults[level["label_for_charts"]]
                level["m_probability"], level["u_probability"] = m, u
    return out


BLOCKING_RULES: list[Any] = [
    "l.iin = r.iin",
    "l.sk = r.sk AND l.dob = r.dob",
    "l.gk = r.gk AND l.dob = r.dob",
    'l.sk = r.sk AND l.gk = r.gk AND l."by" = r."by"',
    "l.sk = r.sk AND l.gk = r.gk AND l.bmd = r.bmd",
    "l.sk = r.sk AND l.gk = r.gk AND (l.dob IS NULL OR r.dob IS NULL)",
]
TRAINING_RULES = [
    "l.iin = r.iin",
    "l.sk = r.sk AND l.dob = r.dob",
    "l.gk = r.gk AND l.dob = r.dob",
]
DETERMINISTIC_RULES = [
    "l.iin = r.iin",
    "l.sk = r.sk AND l.gk = r.gk AND l.dob = r.dob",
]


def _blocking_rules() -> list[Any]:
    from splink import block_on

    return [
        *BLOCKING_RULES,
        block_on("doc_block", arrays_to_explode=["doc_block"]),
        block_on("phone_block", arrays_to_explode=["phone_block"]),
    ]


# -- the run -----------------------------------------------------------------------------


def link(
    records: pd.DataFrame | Iterable[dict[str, Any]],
    *,
    settings: Settings | None = None,
    exclude_pairs: Iterable[tuple[int, int]] = frozenset(),
    progress: Callable[[str, float], None] | None = None,
) -> LinkageResult:
    """Link a crisis's registrations: pairs that may be one person, and clusters.

    ``records`` has the columns ``unique_id``, ``household_id``, ``surname``,
    ``given_names``, ``surname_latin``, ``given_names_latin``, ``birth_date``, ``sex``,
    ``iin_hash``, ``document_hashes``, ``phone_hashes``, ``city_id`` (see the module
    docstring for how each is used). ``progress(phase, fraction)`` is called with phases
    ``prepare``, ``train``, ``predict``, ``cluster`` and ``done`` and the overall fraction.
    """
    s = settings or Settings()
    seconds: dict[str, float] = {}

    def report(phase: str, fraction: float) -> None:
        if progress is not None:
            progress(phase, fraction)

    excluded = {(a, b) if a < b else (b, a) for a, b in exclude_pairs}
    thresholds = {
        "pair_threshold": s.pair_threshold,
        "cluster_threshold": s.cluster_threshold,
        "name_only_threshold": s.name_only_threshold,
    }
    report("prepare", 0.0)
    t0 = time.perf_counter()
    df = prepare(records)
    n = len(df)
    if n < 2:
        return LinkageResult([], {}, {}, thresholds, {"records": n, "seconds": {}})
    df["doc_block"] = _blocking_copy(df["docs"], s.max_identifier_block)
    df["phone_block"] = _blocking_copy(df["phones"], s.max_identifier_block)
    seconds["prepare"] = time.perf_counter() - t0
    report("train", 0.1)

    train = n >= s.min_records_to_train
    run = run_splink(
        df,
        link_type="dedupe_only",
        comparisons=comparisons(term_frequencies=train),
        train=train,
        # Untrained: about one duplicate for every two records (min. 1e-7, max. 1 %).
        prior=min(max(1 / (n - 1), 1e-7), 0.01),
        blocking_rules=_blocking_rules(),
        training_rules=TRAINING_RULES,
        deterministic_rules=DETERMINISTIC_RULES,
        deterministic_recall=s.prior_recall,
        threshold_match_probability=min(s.pair_threshold, s.cluster_threshold),
        u_max_pairs=s.u_max_pairs,
        em_max_pairs=s.em_max_pairs,
        # Two records of one person almost always agree on the name keys; an estimate far
        # below is EM's mistake (see core._reset_degenerate).
        m_floors={"surname": ("exact_key", 0.5), "given_names": ("exact_key", 0.5)},
        seed=s.seed,
        threads=s.threads,
        memory_limit=s.memory_limit,
        progress=progress,
        progress_span=(0.1, 0.85),
    )
    seconds.update(run.seconds)
    report("cluster", 0.85)
    t0 = time.perf_counter()
    pairs, edges, dropped = _explain(run.predictions, run.model, df, excluded, s)
    linked = np.unique(np.concatenate([edges[0], edges[1]]))
    in_household = df.loc[df["unique_id"].isin(linked) & df["hh"].notna(), ["unique_id", "hh"]]
    households = dict(
        zip(in_household["unique_id"].tolist(), in_household["hh"].tolist(), strict=True)
    )
    clusters = cluster(*edges, exclude_pairs=excluded, groups=households)
    seconds["cluster"] = time.perf_counter() - t0
    report("done", 1.0)
    return LinkageResult(
        pairs=pairs,
        clusters=clusters,
        model=run.model,
        thresholds=thresholds,
        stats={
            "records": n,
            "scored_pairs": len(run.predictions),
            "pairs": len(pairs),
            "cluster_links": len(edges[0]),
            "clusters": len(set(clusters.values())),
            "clustered_records": len(clusters),
            **dropped,
            "seconds": seconds,
        },
    )


def _explain(
    predictions: pd.DataFrame,
    model: dict[str, Any],
    df: pd.DataFrame,
    excluded: set[tuple[int, int]],
    s: Settings,
) -> tuple[list[LinkedPair], tuple[np.ndarray, np.ndarray, np.ndarray], dict[str, int]]:
    p = predictions
    a = p["unique_id_l"].to_numpy(dtype="int64")
    b = p["unique_id_r"].to_numpy(dtype="int64")
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    hh = df.set_index("unique_id")["hh"]
    hh_a = hh.reindex(lo).to_numpy(dtype="float64", na_value=np.nan)
    hh_b = hh.reindex(hi).to_numpy(dtype="float64", na_value=np.nan)
    same_household = (hh_a == hh_b) & ~np.isnan(hh_a)
    is_excluded = np.zeros(len(p), dtype=bool)
    if excluded:
        keys = pd.MultiIndex.from_arrays([lo, hi])
        is_excluded = keys.isin(list(excluded))
    keep = ~same_household & ~is_excluded
    dropped = {
        "household_pairs_dropped": int(same_household.sum()),
        "excluded_pairs_dropped": int((is_excluded & ~same_household).sum()),
    }

    names = list(model["comparisons"])
    gamma = p[[f"gamma_{c}" for c in names]].to_numpy(dtype="int64")
    # Partial weights: the level's, plus the term-frequency adjustment (a common name
    # weighs less than a rare one).
    partial = np.column_stack(
        [
            p[f"mw_{c}"].to_numpy(dtype="float64")
            + (p[f"mw_tf_adj_{c}"].to_numpy(dtype="float64") if f"mw_tf_adj_{c}" in p else 0.0)
            for c in names
        ]
    ).round(4)
    # One explanation (evidence, levels) per distinct combination of levels (a few hundred),
    # shared by its pairs; the weights are each pair's own.
    code = np.zeros(len(p), dtype="int64")
    for column in gamma.T:
        code = code * 16 + (column + 1)
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    labels = {
        name: {lv["gamma"]: lv["label"] for lv in model["comparisons"][name]} for name in names
    }
    explanations: list[tuple[list[str], dict[str, str]]] = []
    identifier, conflict = [], []
    for i in first:
        levels = {name: labels[name][int(g)] for name, g in zip(names, gamma[i], strict=True)}
        evidence = _evidence(levels)
        explanations.append((evidence, levels))
        identifier.append(bool(PERSONAL_IDENTIFIERS & set(evidence)))
        conflict.append(levels.get("iin") == "disagree")
    has_identifier = np.array(identifier, dtype=bool)[inverse]
    if s.different_iins_veto:
        vetoed = np.array(conflict, dtype=bool)[inverse] & keep
        dropped["different_iin_pairs_dropped"] = int(vetoed.sum())
        keep = keep & ~vetoed
    prob = p["match_probability"].to_numpy(dtype="float64")
    weight = p["match_weight"].to_numpy(dtype="float64")
    as_pair = keep & (prob >= s.pair_threshold)
    as_edge = keep & (prob >= s.cluster_threshold)
    as_edge &= has_identifier | (prob >= s.name_only_threshold)

    order = np.lexsort((hi, lo, -np.round(weight, 6)))
    chosen = order[as_pair[order]]
    pairs = [
        LinkedPair(
            x, y, w, q, explanations[e][0], explanations[e][1], dict(zip(names, parts, strict=True))
        )
        for x, y, w, q, e, parts in zip(
            lo[chosen].tolist(),
            hi[chosen].tolist(),
            weight[chosen].tolist(),
            prob[chosen].tolist(),
            inverse[chosen].tolist(),
            partial[chosen].tolist(),
            strict=True,
        )
    ]
    return pairs, (lo[as_edge], hi[as_edge], weight[as_edge]), dropped


def _evidence(levels: dict[str, str]) -> list[str]:
    evidence = [code for code in ("iin", "document", "phone") if levels.get(code) == "agree"]
    names_meet = levels.get("surname") in ("exact_key", "other_key") and levels.get(
        "given_names"
    ) in ("exact_key", "other_key")
    if names_meet:
        birth = levels.get("birth_date")
        if birth == "exact":
            evidence.append("name_birth_date")
        elif birth in ("one_digit", "transposed"):
            evidence.append("name_approx_birth_date")
        elif birth == "null":
            evidence.append("names")
    return evidence
