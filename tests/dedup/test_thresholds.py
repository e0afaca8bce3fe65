"""The thresholds of the whole-crisis search are the crisis's policy: set on the queue page,
through the API and for one run on the command line, refused with a clear reason when a
run could not use them, and used by the next run."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.dedup.linkage import Settings
from aman.dedup.models import DEFAULT_THRESHOLDS, CandidatePair, LinkagePolicy, LinkageRun
from tests.conftest import World

DEFAULTS = {"pair_threshold": 0.9, "cluster_threshold": 0.95, "name_only_threshold": 0.995}


def policy(world: World) -> dict[str, Any]:
    found = LinkagePolicy.objects.filter(crisis=world.crisis).values().first()
    return found or {}


def post_policy(world: World, **data: str) -> str:
    """The policy form posted by the crisis manager; the page shown after it."""
    form = {
        "auto_merge_probability": "0.999",
        "pair_threshold": "0.9",
        "cluster_threshold": "0.95",
        "name_only_threshold": "0.995",
        **data,
    }
    response = world.client(Role.CRISIS_MANAGER).post(
        "/people/duplicates/policy/", form, follow=True
    )
    assert response.redirect_chain == [("/people/duplicates/", 302)]
    return response.content.decode()


def test_the_defaults_are_the_engines() -> None:
    settings = Settings()
    assert DEFAULT_THRESHOLDS == DEFAULTS == {name: getattr(settings, name) for name in DEFAULTS}
    assert {name: LinkagePolicy._meta.get_field(name).default for name in DEFAULTS} == DEFAULTS


def test_a_crisis_manager_sets_the_thresholds_on_the_queue_page(world: World) -> None:
    page = world.client(Role.CRISIS_MANAGER).get("/people/duplicates/").content.decode()
    form = page.split('id="linkage-policy"', 1)[1].split("</form>", 1)[0]
    for name, value in DEFAULTS.items():
        assert f'name="{name}" id="{name}" value="{value}"' in form
    assert "Propose a pair for review from" in form
    # Others see no form.
    assert (
        'id="linkage-policy"'
        not in world.client(Role.OPERATOR).get("/people/duplicates/").content.decode()
    )

    html = post_policy(
        world, pair_threshold="0,97", cluster_threshold="0.98", name_only_threshold="0.999"
    )
    assert "The duplicates policy is saved." in html
    saved = policy(world)
    assert (saved["pair_threshold"], saved["cluster_threshold"], saved["name_only_threshold"]) == (
        0.97,
        0.98,
        0.999,
    )
    form = html.split('id="linkage-policy"', 1)[1].split("</form>", 1)[0]
    assert 'name="pair_threshold" id="pair_threshold" value="0.97"' in form
    entry = AuditEntry.objects.filter(verb="linkage_policy_set").latest("id")
    assert entry.actor == world.users[Role.CRISIS_MANAGER] and entry.via == "web"
    assert entry.changes["pair_threshold"] == [None, 0.97]
    assert entry.changes["name_only_threshold"] == [None, 0.999]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"pair_threshold": "1.2"},
            "The pair threshold must be a probability above 0 and below 1, such as 0.95 (not 1.2).",
        ),
        (
            {"name_only_threshold": "0"},
            "The name-only threshold must be a probability above 0 and below 1",
        ),
        (
            {"cluster_threshold": "lots"},
            "The cluster threshold must be a number, such as 0.95 (not “lots”).",
        ),
        (
            {"pair_threshold": "0.96"},
            "The cluster threshold (0.95) must be at least the pair threshold (0.96): a link "
            "that joins two records in a cluster is also proposed for review.",
        ),
        (
            {"name_only_threshold": "0.9"},
            "The name-only threshold (0.9) must be at least the cluster threshold (0.95)",
        ),
    ],
)
def test_thresholds_a_run_cannot_use_are_refused_on_the_page_with_the_reason(
    world: World, data: dict[str, str], message: str
) -> None:
    post_policy(world, pair_threshold="0.92")
    before = policy(world)
    entries = AuditEntry.objects.filter(verb="linkage_policy_set").count()
    html = post_policy(world, **data)
    assert message in html
    assert "The duplicates policy is saved." not in html
    assert policy(world) == before, "nothing of the refused form is saved"
    assert AuditEntry.objects.filter(verb="linkage_policy_set").count() == entries


def test_the_automatic_merge_setting_on_the_page(world: World) -> None:
    html = post_policy(world, auto_merge="on", auto_merge_probability="0,995")
    assert "The duplicates policy is saved." in html
    saved = policy(world)
    assert (saved["auto_merge"], saved["auto_merge_probability"]) == (True, 0.995)
    form = html.split('id="linkage-policy"', 1)[1].split("</form>", 1)[0]
    assert 'name="auto_merge" id="auto_merge" checked' in form
    assert 'value="0.995"' in form
    entry = AuditEntry.objects.filter(verb="linkage_policy_set").latest("id")
    assert entry.changes["auto_merge"] == [None, True]
    assert entry.changes["auto_merge_probability"] == [None, 0.995]

    html = post_policy(world, auto_merge="on", auto_merge_probability="0.5")
    assert "The probability must be between 0.9 and 1." in html
    html = post_policy(world, auto_merge="on", auto_merge_probability="sure")
    assert "The probability needed to merge automatically must be a number" in html
    assert policy(world)["auto_merge_probability"] == 0.995
    # Switched off again: the box unticked.
    html = post_policy(world, auto_merge_probability="0.995")
    assert policy(world)["auto_merge"] is False
    assert AuditEntry.objects.filter(verb="linkage_policy_set").latest("id").changes == {
        "auto_merge": [True, False]
    }


def test_the_thresholds_through_the_api(world: World) -> None:
    url = f"/api/duplicates/policy?crisis={world.crisis.pk}"
    manager = world.api(Role.CRISIS_MANAGER)
    got = world.api(Role.OPERATOR).get(url)
    assert got.status_code == 200
    assert got.json() == {"auto_merge": False, "auto_merge_probability": 0.999, **DEFAULTS}

    def put(body: dict[str, Any]) -> Any:
        return manager.put(url, data=json.dumps(body), content_type="application/json")

    response = put({"pair_threshold": 0.93, "name_only_threshold": 0.998})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "auto_merge": False,
        "auto_merge_probability": 0.999,
        "pair_threshold": 0.93,
        "cluster_threshold": 0.95,
        "name_only_threshold": 0.998,
    }
    entry = AuditEntry.objects.filter(verb="linkage_policy_set").latest("id")
    assert entry.via == "api"
    assert entry.changes == {
        "auto_merge": [None, False],
        "auto_merge_probability": [None, 0.999],
        "pair_threshold": [None, 0.93],
        "cluster_threshold": [None, 0.95],
        "name_only_threshold": [None, 0.998],
    }, "the policy as made"
    # Left out: unchanged; the audit entry says what changed.
    response = put({"auto_merge": True, "pair_threshold": 0.93})
    assert response.json()["pair_threshold"] == 0.93 and response.json()["auto_merge"] is True
    entry = AuditEntry.objects.filter(verb="linkage_policy_set").latest("id")
    assert entry.changes == {"auto_merge": [False, True]}
    put({"auto_merge": True})
    assert AuditEntry.objects.filter(verb="linkage_policy_set").latest("id") == entry, (
        "nothing changed, nothing written"
    )

    refused = put({"cluster_threshold": 1})
    assert refused.status_code == 400
    assert refused.json() == {
        "message": "The cluster threshold must be a probability above 0 and below 1, such as "
        "0.95 (not 1.0).",
        "extra": {"cluster_threshold": [1.0]},
    }
    refused = put({"pair_threshold": 0.97})
    assert refused.status_code == 400
    assert refused.json()["message"].startswith(
        "The cluster threshold (0.95) must be at least the pair threshold (0.97)"
    )
    assert refused.json()["extra"] == {"cluster_threshold": [0.95], "pair_threshold": [0.97]}
    wrong = put({"pair_threshold": "high"})
    assert wrong.status_code == 422 and "pair_threshold" in wrong.json()["message"]
    assert put({"auto_merge_probability": 0.5}).status_code == 422
    assert (
        world.api(Role.OPERATOR).put(url, data="{}", content_type="application/json").status_code
        == 403
    )
    assert policy(world)["pair_threshold"] == 0.93


def test_a_run_uses_the_crisis_thresholds_and_the_cli_may_set_them_for_one_run(
    world: World, crowd: dict[str, Any]
) -> None:
    crisis = str(world.crisis.pk)
    call_command("dedup", "run", "--crisis", crisis, stdout=io.StringIO(), stderr=io.StringIO())
    default = LinkageRun.objects.get()
    assert default.thresholds == DEFAULTS
    assert default.pairs_found == 4, "the three planted pairs and the world's Сейітов Марат"
    names = CandidatePair.objects.get(person_a=crowd["names"][0])
    assert names.run == default and names.explanation["probability"] < 0.99999

    # The crisis manager raises the bar: the pair on names and a swapped birth date (and
    # nothing that strong) is no longer proposed by the next run.
    response = world.api(Role.CRISIS_MANAGER).put(
        f"/api/duplicates/policy?crisis={crisis}",
        data=json.dumps(
            {
                "pair_threshold": 0.99999,
                "cluster_threshold": 0.99999,
                "name_only_threshold": 0.9999999,
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    err = io.StringIO()
    call_command("dedup", "run", "--crisis", crisis, stdout=io.StringIO(), stderr=err)
    strict = LinkageRun.objects.latest("id")
    assert "Thresholds: pair 0.99999, cluster 0.99999, name-only 0.9999999." in err.getvalue()
    assert strict.thresholds == {
        "pair_threshold": 0.99999,
        "cluster_threshold": 0.99999,
        "name_only_threshold": 0.9999999,
    }
    assert strict.status == "done" and 0 < strict.pairs_found < default.pairs_found
    found = set(CandidatePair.objects.filter(run=strict).values_list("person_a", "person_b"))
    assert tuple(crowd["passport"]) in found and tuple(crowd["names"]) not in found
    names.refresh_from_db()
    assert names.run == default, "not found again by the stricter run"
    start = AuditEntry.objects.filter(verb="linkage_run_start").latest("id")
    assert start.changes["thresholds"] == [None, strict.thresholds]

    # For one run only, from the command line: the policy stays.
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "dedup", "run", "--crisis", crisis, "--pair-threshold", "0.9",
        "--cluster-threshold", "0,95", "--name-only-threshold", "0.995", stdout=out, stderr=err,
    )  # fmt: skip
    again = LinkageRun.objects.latest("id")
    assert again.thresholds == DEFAULTS and again.pairs_found == default.pairs_found
    assert "Thresholds: pair 0.9, cluster 0.95, name-only 0.995." in err.getvalue()
    assert policy(world)["pair_threshold"] == 0.99999
    start = AuditEntry.objects.filter(verb="linkage_run_start").latest("id")
    assert start.changes["thresholds_given"] == [None, sorted(DEFAULTS)]
    page = world.client(Role.OPERATOR).get("/people/duplicates/").content.decode()
    assert "thresholds: pair 0.9, cluster 0.95, name-only 0.995" in page
    body = world.api(Role.OPERATOR).get(f"/api/duplicates/runs/{again.pk}").json()
    assert body["thresholds"] == DEFAULTS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--pair-threshold", "1.5"],
            r"The pair threshold must be a probability above 0 and below 1, such as 0\.95 "
            r"\(not 1\.5\)\. \(pair_threshold: 1\.5\)",
        ),
        (
            ["--cluster-threshold", "0.8"],
            r"The cluster threshold \(0\.8\) must be at least the pair threshold \(0\.9\)",
        ),
        (
            ["--pair-threshold", "0.96"],
            r"The cluster threshold \(0\.95\) must be at least the pair threshold \(0\.96\)",
        ),
        (
            ["--name-only-threshold", "high"],
            r"argument --name-only-threshold: not a number: 'high' \(a probability such as 0\.95\)",
        ),
    ],
)
def test_the_cli_refuses_thresholds_a_run_cannot_use(
    world: World, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("dedup", "run", "--crisis", str(world.crisis.pk), *args, stderr=io.StringIO())
    assert not LinkageRun.objects.exists(), "no run started"
