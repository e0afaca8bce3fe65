"""`aman plan solve` and `aman plan check` on files, as an officer or a script runs them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from aman.planning.optimizer import generate
from tests.planning.build import base, household


def _run(*args: str) -> str:
    out = StringIO()
    call_command("plan", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_solve_writes_a_plan_that_check_accepts(tmp_path: Path) -> None:
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(generate.generate(400, seed=7)))
    text = _run("solve", "--scenario", str(scenario_file), "--out", str(tmp_path / "run"))
    data = json.loads((tmp_path / "run" / "plan.json").read_text())
    assert data["format"] == "aman.plan/1"
    assert f"{data['summary']['people_safe']} of {data['summary']['people']} people safe" in text
    assert data["scenario"]["name"] == "synthetic 400 people, seed 7"
    checked = _run(
        "check", "--scenario", str(scenario_file), "--plan", str(tmp_path / "run" / "plan.json")
    )
    assert checked.startswith(f"The plan is valid: {len(data['itineraries'])} itineraries")


def test_solve_with_price_says_what_keeping_the_promises_costs(tmp_path: Path) -> None:
    from tests.planning.test_replan import _promise

    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(_promise(10.0)))
    text = _run("solve", "--scenario", str(scenario_file), "--out", str(tmp_path), "--price")
    data = json.loads((tmp_path / "plan.json").read_text())
    share = data["stability"]["without_promises"]["share"]
    assert share > 0
    assert f"Keeping the promises costs {share * 100:.2f}% of the evacuation's value" in text
    assert "owing nobody anything, 2 people safe." in text
    plain = _run("solve", "--scenario", str(scenario_file), "--out", str(tmp_path))
    assert "Keeping the promises" not in plain


def test_check_prints_violations_and_fails(tmp_path: Path) -> None:
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(base(households=[household("a", 4, 1)])))
    _run("solve", "--scenario", str(scenario_file), "--out", str(tmp_path))
    plan_file = tmp_path / "plan.json"
    data = json.loads(plan_file.read_text())
    data["itineraries"][0]["size"] = 3
    plan_file.write_text(json.dumps(data))
    out = StringIO()
    with pytest.raises(CommandError, match=r"1 violation of the scenario"):
        call_command(
            "plan", "check", "--scenario", str(scenario_file), "--plan", str(plan_file), stdout=out
        )
    assert "household a travels with 3 people, not all 4" in out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"format": "aman.scenario/1"}', r"\$\.start: is required"),
        (
            json.dumps(base(households=[household("a", 0)])),
            r"\$\.households\[0\]\.size: must be from 1 to 60, not 0",
        ),
        (
            json.dumps(base(households=[{"id": "a", "location": "XXX", "size": 2}])),
            r"\$\.households\[0\]\.location: names no place: 'XXX'",
        ),
        (
            json.dumps({**base(), "prices": [{"kind": "seat", "ref": "F1", "price": 1}]}),
            r"\$\.prices\[0\]\.kind: must be one of leg, crossing, night, pool_trip",
        ),
        (
            json.dumps({**base(), "prices": [{"kind": "night", "ref": "GYD", "price": 0.5}]}),
            r"\$\.prices\[0\]\.day: ",
        ),
        (
            json.dumps({**base(), "prices": [{"kind": "leg", "ref": "F1", "price": -1}]}),
            r"\$\.prices\[0\]\.price: ",
        ),
    ],
)
def test_a_bad_scenario_is_named_precisely(tmp_path: Path, content: str, message: str) -> None:
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(content)
    with pytest.raises(CommandError, match=message):
        _run("solve", "--scenario", str(scenario_file), "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out" / "plan.json").exists()


def test_missing_files_and_a_file_for_a_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read the scenario"):
        _run("solve", "--scenario", str(tmp_path / "nope.json"), "--out", str(tmp_path))
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(base()))
    with pytest.raises(CommandError, match="is a file: give a directory"):
        _run("solve", "--scenario", str(scenario_file), "--out", str(scenario_file))


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            lambda d: d["itineraries"][0].update(steps="abc"),
            "itineraries[0].steps: expected a list",
        ),
        (lambda d: d["itineraries"].append("hh9"), "itineraries[1]: expected an object, not str"),
        (
            lambda d: d["itineraries"][0]["steps"].insert(1, 7),
            "itineraries[0].steps[1]: expected an",
        ),
        (
            lambda d: d["itineraries"][0]["steps"][0].pop("leg"),
            "itineraries[0].steps[0].leg: is required",
        ),
        (lambda d: d.update(itineraries={"a": 1}), "itineraries: expected a list, not dict"),
        (lambda d: d.update(unassigned=[None]), "unassigned[0]: expected an object"),
    ],
)
def test_check_names_what_is_malformed_in_a_plan(tmp_path: Path, tamper, expected: str) -> None:
    """A plan not of the plan format's shape is reported by path, never a traceback."""
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(base(households=[household("a", 4, 1)])))
    _run("solve", "--scenario", str(scenario_file), "--out", str(tmp_path))
    plan_file = tmp_path / "plan.json"
    data = json.loads(plan_file.read_text())
    assert data["itineraries"][0]["steps"][0]["type"] == "leg"
    tamper(data)
    plan_file.write_text(json.dumps(data))
    out = StringIO()
    with pytest.raises(CommandError, match=r"violations? of the scenario"):
        call_command(
            "plan", "check", "--scenario", str(scenario_file), "--plan", str(plan_file), stdout=out
        )
    assert expected in out.getvalue()


@pytest.fixture
def russian() -> Iterator[Callable[[str, str], None]]:
    """Give a msgid its Russian words in the ru catalogue for the test (as the lead's
    translation will): what the command prints is then seen to pass through it."""
    from django.utils.translation import trans_real

    catalog = trans_real.translation("ru")._catalog
    added: dict[str, Any] = {}

    def give(msgid: str, words: str) -> None:
        added.setdefault(msgid, catalog.get(msgid))
        catalog[msgid] = words

    yield give
    for msgid, before in added.items():
        if before is None:
            catalog._catalogs[0].pop(msgid, None)
        else:
            catalog[msgid] = before


def test_check_says_the_violations_in_the_cli_language(tmp_path: Path, russian) -> None:
    """The optimizer gives a code and its parameters (and its English words for headless
    use); the command says them in AMAN_LANGUAGE."""
    from aman.planning.messages import CHECK_PROBLEMS

    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(base(households=[household("a", 4, 1)])))
    _run("solve", "--scenario", str(scenario_file), "--out", str(tmp_path))
    plan_file = tmp_path / "plan.json"
    data = json.loads(plan_file.read_text())
    data["itineraries"][0]["size"] = 3
    plan_file.write_text(json.dumps(data))
    msgid = "household %(household)s travels with %(n)s people, not all %(size)s"
    assert str(CHECK_PROBLEMS["split"]) == msgid  # the msgid the optimizer's code names
    russian(
        msgid, "домохозяйство %(household)s едет не в полном составе: %(n)s человек из %(size)s"
    )
    out = StringIO()
    with override_settings(LANGUAGE_CODE="ru"), pytest.raises(CommandError) as caught:
        call_command(
            "plan", "check", "--scenario", str(scenario_file), "--plan", str(plan_file), stdout=out
        )
    assert out.getvalue().strip() == "домохозяйство a едет не в полном составе: 3 человек из 4"
    assert "1 нарушение сценария" in str(caught.value)
    # In English (the default here) the command's words are the optimizer's own.
    out = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "plan", "check", "--scenario", str(scenario_file), "--plan", str(plan_file), stdout=out
        )
    assert out.getvalue().strip() == "household a travels with 3 people, not all 4"


def test_a_bad_scenario_is_named_in_the_cli_language(tmp_path: Path, russian) -> None:
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(base(households=[household("a", 0)])))
    russian(
        "must be from %(low)s to %(high)s, not %(value)s", "от %(low)s до %(high)s, а не %(value)s"
    )
    with override_settings(LANGUAGE_CODE="ru"), pytest.raises(CommandError) as caught:
        _run("solve", "--scenario", str(scenario_file), "--out", str(tmp_path / "out"))
    assert str(caught.value) == (
        f"Сценарий {scenario_file} недействителен: $.households[0].size: от 1 до 60, а не 0."
    )


def test_every_code_of_the_optimizer_has_its_words_for_translation() -> None:
    """The translatable words are the optimizer's English ones, code by code, with the
    same parameters."""
    from aman.planning.messages import CHECK_PROBLEMS, SCENARIO_ERRORS
    from aman.planning.optimizer import check, scenario

    assert {k: str(v) for k, v in SCENARIO_ERRORS.items()} == scenario.ERRORS
    assert {k: str(v) for k, v in CHECK_PROBLEMS.items()} == check.PROBLEMS
