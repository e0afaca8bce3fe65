"""ICAO Doc 9303 machine-readable zones: the standard's specimens, every check digit, input
as scanners type it, and a round trip through ``build_td3``."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aman.registry.identity.mrz import (
    MrzError,
    build_td1,
    build_td3,
    check_digit,
    parse_mrz,
)

# Doc 9303 part 4, appendix A: the specimen passport of Anna Maria Eriksson of Utopia.
TD3_LINE1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
TD3_LINE2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
# Doc 9303 part 5: the specimen ID card (TD1); part 6: the TD2 specimen.
TD1 = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
]
TD2 = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"]

TODAY = date(2026, 6, 30)


def _replace(line: str, index: int, char: str) -> str:
    return line[:index] + char + line[index + 1 :]


def _recheck_td3(line2: str) -> str:
    """``line2`` with every check digit recomputed, to test what lies beyond the checks."""
    line2 = _replace(line2, 9, check_digit(line2[0:9]))
    line2 = _replace(line2, 19, check_digit(line2[13:19]))
    line2 = _replace(line2, 27, check_digit(line2[21:27]))
    line2 = _replace(line2, 42, check_digit(line2[28:42]))
    return line2[:43] + check_digit(line2[0:10] + line2[13:20] + line2[21:43])


def _other_digit(char: str) -> str:
    return str((int(char) + 1) % 10)


def test_check_digit_of_the_standards_worked_example() -> None:
    # Doc 9303 part 3, 4.9: 9 May 1951 → 510509, weights 7 3 1 → 82 → 2.
    assert check_digit("510509") == "2"
    assert check_digit("L898902C3") == "6"
    assert check_digit("<<<<<<") == "0"


def test_td3_specimen() -> None:
    result = parse_mrz([TD3_LINE1, TD3_LINE2])
    assert result.format == "TD3"
    assert result.document_code == "P"
    assert result.issuing_state == "UTO"
    assert result.surname == "ERIKSSON"
    assert result.given_names == "ANNA MARIA"
    assert result.document_number == "L898902C3"
    assert result.nationality == "UTO"
    assert result.birth_date == date(1974, 8, 12)
    assert result.birth_date_raw == "740812"
    assert result.sex == "F"
    assert result.expiry_date == date(2012, 4, 15)
    assert result.expiry_date_raw == "120415"
    assert result.optional_data == "ZE184226B"
    assert result.optional_data_2 == ""
    assert list(result.checks) == [
        "document_number",
        "birth_date",
        "expiry_date",
        "optional_data",
        "composite",
    ]
    assert result.valid
    assert result.checks["composite"].found == "0"


# (first and last index in line 2, field named when a digit there changes)
TD3_FIELDS = [
    (0, 9, "document_number"),
    (13, 19, "birth_date"),
    (21, 27, "expiry_date"),
    (28, 42, "optional_data"),
    (43, 43, "composite"),
]


@pytest.mark.parametrize(
    ("index", "field"),
    [
        (i, field)
        for first, last, field in TD3_FIELDS
        for i in range(first, last + 1)
        if TD3_LINE2[i].isdigit()
    ],
)
def test_td3_any_changed_digit_names_its_field(index: int, field: str) -> None:
    line2 = _replace(TD3_LINE2, index, _other_digit(TD3_LINE2[index]))
    with pytest.raises(MrzError) as excinfo:
        parse_mrz([TD3_LINE1, line2])
    assert excinfo.value.field == field
    assert field.replace("_", " ") in excinfo.value.message


def test_td3_a_changed_digit_is_recorded_in_non_strict_mode() -> None:
    line2 = _replace(TD3_LINE2, 14, "5")  # birth 750812
    result = parse_mrz([TD3_LINE1, line2], strict=False)
    assert not result.valid
    assert result.failed_checks == ["birth_date", "composite"]
    assert result.checks["birth_date"].found == "2"
    assert result.surname == "ERIKSSON"
    assert result.birth_date == date(1975, 8, 12)


def test_td1_specimen() -> None:
    result = parse_mrz(TD1)
    assert result.format == "TD1"
    assert (result.document_code, result.issuing_state) == ("I", "UTO")
    assert result.document_number == "D23145890"
    assert (result.surname, result.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert result.birth_date == date(1974, 8, 12)
    assert result.sex == "F"
    assert result.expiry_date == date(2012, 4, 15)
    assert result.nationality == "UTO"
    assert list(result.checks) == ["document_number", "birth_date", "expiry_date", "composite"]


@pytest.mark.parametrize(
    ("line", "index", "field"),
    [
        (0, 8, "document_number"),
        (0, 14, "document_number"),
        (1, 3, "birth_date"),
        (1, 6, "birth_date"),
        (1, 10, "expiry_date"),
        (1, 14, "expiry_date"),
        (1, 29, "composite"),
    ],
)
def test_td1_changed_digit_names_its_field(line: int, index: int, field: str) -> None:
    lines = list(TD1)
    lines[line] = _replace(lines[line], index, _other_digit(lines[line][index]))
    with pytest.raises(MrzError) as excinfo:
        parse_mrz(lines)
    assert excinfo.value.field == field


def test_td1_optional_data_is_covered_by_the_composite() -> None:
    lines = list(TD1)
    lines[0] = _replace(lines[0], 20, "7")
    with pytest.raises(MrzError) as excinfo:
        parse_mrz(lines)
    assert excinfo.value.field == "composite"


def test_td2_specimen() -> None:
    result = parse_mrz(TD2)
    assert result.format == "TD2"
    assert result.document_number == "D23145890"
    assert (result.surname, result.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert result.birth_date == date(1974, 8, 12)
    assert result.expiry_date == date(2012, 4, 15)


@pytest.mark.parametrize(
    "typed",
    [
        f"{TD3_LINE1}\n{TD3_LINE2}",
        f"{TD3_LINE1}\r\n{TD3_LINE2}\r\n",
        f"{TD3_LINE1}\r{TD3_LINE2}",
        f"\n  {TD3_LINE1.lower()}  \n\n{TD3_LINE2}\n",
        TD3_LINE1 + TD3_LINE2,  # a scanner that sends no line break
        f"{TD3_LINE1[:20]} {TD3_LINE1[20:]}\n{TD3_LINE2}",
    ],
    ids=["lf", "crlf", "cr", "blank-lines-lowercase", "no-break", "space-inside"],
)
def test_input_as_scanners_type_it(typed: str) -> None:
    assert parse_mrz(typed).document_number == "L898902C3"


def test_input_as_a_list_with_line_breaks_inside() -> None:
    assert parse_mrz([f"{TD3_LINE1}\n{TD3_LINE2}"]).surname == "ERIKSSON"
    assert parse_mrz(["\n".join(TD1)]).format == "TD1"
    assert parse_mrz("".join(TD1)).format == "TD1"


@pytest.mark.parametrize(
    ("lines", "field", "words"),
    [
        ([], "format", "no machine-readable zone"),
        ([TD3_LINE1], "format", "1 line(s)"),
        ([*TD1, TD1[0]], "format", "4 line(s)"),
        ([TD3_LINE1, TD3_LINE2[:-1]], "length", "line 2 has 43 characters; expected 44"),
        ([TD1[0], TD1[1] + "<", TD1[2]], "length", "line 2 has 31 characters; expected 30"),
        ([TD3_LINE1, _replace(TD3_LINE2, 30, "-")], "characters", "line 2, position 31"),
        ([TD3_LINE1, _replace(TD3_LINE2, 40, "«")], "characters", "filler"),
        # A keyboard-wedge scanner with a Russian layout active types З (the P key) for P.
        (["З" + TD3_LINE1[1:], TD3_LINE2], "characters", "keyboard layout"),
        (["I" + TD3_LINE1[1:], TD3_LINE2], "document_code", "starts with P"),
        (["V" + TD3_LINE1[1:], TD3_LINE2], "document_code", "visa"),
        (["P<UT0" + TD3_LINE1[5:], TD3_LINE2], "issuing_state", "'0' for 'O'"),
        (["P<UTOERIKSS0N" + TD3_LINE1[13:], TD3_LINE2], "name", "'0' for 'O'"),
        ([TD3_LINE1, _replace(TD3_LINE2, 20, "Q")], "sex", "'Q'"),
    ],
)
def test_unreadable_zones_name_the_problem(lines: list[str], field: str, words: str) -> None:
    with pytest.raises(MrzError) as excinfo:
        parse_mrz(lines)
    assert excinfo.value.field == field
    assert words in excinfo.value.message
    assert str(excinfo.value).startswith(f"{field}: ")


def test_ocr_confusion_is_reported_not_corrected() -> None:
    # 'O' typed for '0' in the document number: the check fails and the message says why.
    line2 = _replace(TD3_LINE2, 5, "O")
    with pytest.raises(MrzError) as excinfo:
        parse_mrz([TD3_LINE1, line2])
    assert excinfo.value.field == "document_number"
    assert "'O' at position 6 were '0'" in excinfo.value.message
    # In a date the letter itself is the error.
    with pytest.raises(MrzError) as excinfo:
        parse_mrz([TD3_LINE1, _replace(TD3_LINE2, 16, "O")], strict=True)
    assert excinfo.value.field == "birth_date"


def test_letter_in_a_date_is_named_even_when_check_digits_agree() -> None:
    line2 = _recheck_td3(_replace(TD3_LINE2, 15, "O"))  # birth 74O812
    with pytest.raises(MrzError) as excinfo:
        parse_mrz([TD3_LINE1, line2])
    assert excinfo.value.field == "birth_date"
    assert "'O' for '0'" in excinfo.value.message
    assert parse_mrz([TD3_LINE1, line2], strict=False).birth_date is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("740812", date(1974, 8, 12)),
        ("250101", date(2025, 1, 1)),
        ("260630", date(2026, 6, 30)),  # today
        ("260701", date(1926, 7, 1)),  # tomorrow's date in this century would be the future
        ("270101", date(1927, 1, 1)),  # YY above this year's
        ("000229", date(2000, 2, 29)),
    ],
)
def test_birth_century(raw: str, expected: date) -> None:
    lines = build_td3(
        surname="A",
        given_names="B",
        document_number="1",
        birth_date=raw,
        sex="M",
        expiry_date="300101",
    )
    assert parse_mrz(lines, today=TODAY).birth_date == expected


def test_expiry_is_always_this_century() -> None:
    lines = build_td3(
        surname="A",
        given_names="B",
        document_number="1",
        birth_date="900101",
        sex="M",
        expiry_date="991231",
    )
    assert parse_mrz(lines, today=TODAY).expiry_date == date(2099, 12, 31)


def test_unknown_day_and_month_of_birth() -> None:
    lines = build_td3(
        surname="A",
        given_names="B",
        document_number="1",
        birth_date="74<<<<",
        sex="<",
        expiry_date="300101",
    )
    result = parse_mrz(lines)
    assert result.birth_date is None
    assert result.birth_date_raw == "74<<<<"
    assert result.sex == "X"


def test_invalid_calendar_date_is_named() -> None:
    lines = build_td3(
        surname="A",
        given_names="B",
        document_number="1",
        birth_date="740230",
        sex="M",
        expiry_date="300101",
    )
    with pytest.raises(MrzError) as excinfo:
        parse_mrz(lines)
    assert excinfo.value.field == "birth_date"
    assert "calendar date" in excinfo.value.message


def test_empty_personal_number_may_have_filler_or_zero_check_digit() -> None:
    lines = build_td3(
        surname="Nurlanuly",
        given_names="Zhumabek",
        document_number="N1234567",
        birth_date=date(1990, 5, 17),
        sex="M",
        expiry_date=date(2031, 5, 16),
    )
    assert lines[1][42] == "<"
    assert parse_mrz(lines).optional_data == ""
    zero = _recheck_td3(lines[1])
    assert zero[42] == "0"
    assert parse_mrz([lines[0], zero]).checks["optional_data"].valid


def test_kazakh_passport_carries_the_iin_as_personal_number() -> None:
    lines = build_td3(
        surname="Sarsenbayeva",
        given_names="Aigul",
        document_number="N12345678",
        birth_date=date(1979, 10, 28),
        sex="F",
        expiry_date=date(2029, 3, 1),
        personal_number="791028402727",
    )
    result = parse_mrz(lines)
    assert result.optional_data == "791028402727"
    assert result.issuing_state == result.nationality == "KAZ"


def test_td1_long_document_number_continues_in_optional_data() -> None:
    lines = build_td1(
        surname="Smith",
        given_names="John Paul",
        document_number="AB123456789012",
        birth_date=date(1990, 1, 2),
        sex="M",
        expiry_date=date(2030, 1, 1),
        optional_data="XY",
        optional_data_2="Z9",
    )
    assert lines[0][14] == "<"
    result = parse_mrz(lines)
    assert result.document_number == "AB123456789012"
    assert (result.optional_data, result.optional_data_2) == ("XY", "Z9")
    assert result.given_names == "JOHN PAUL"
    broken = list(lines)
    broken[0] = _replace(lines[0], 17, _other_digit(lines[0][17]))
    with pytest.raises(MrzError) as excinfo:
        parse_mrz(broken)
    assert excinfo.value.field == "document_number"


def test_builders_refuse_what_a_zone_cannot_hold() -> None:
    with pytest.raises(ValueError, match="surname"):
        build_td3(
            surname="Жумабек",
            given_names="",
            document_number="1",
            birth_date="900101",
            sex="M",
            expiry_date="300101",
        )
    with pytest.raises(ValueError, match="document number"):
        build_td3(
            surname="A",
            given_names="",
            document_number="1234567890",
            birth_date="900101",
            sex="M",
            expiry_date="300101",
        )


def test_surname_only_and_long_names_are_cut() -> None:
    lines = build_td3(
        surname="Abdurakhmanov-Saparbekov",
        given_names="Nursultan Abdurakhmanuly",
        document_number="1",
        birth_date="900101",
        sex="M",
        expiry_date="300101",
    )
    result = parse_mrz(lines)
    assert result.surname == "ABDURAKHMANOV SAPARBEKOV"
    assert result.given_names == "NURSULTAN ABD"  # cut at the 39th character
    only = build_td3(
        surname="Madonna",
        given_names="",
        document_number="1",
        birth_date="900101",
        sex="F",
        expiry_date="300101",
    )
    assert (parse_mrz(only).surname, parse_mrz(only).given_names) == ("MADONNA", "")


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_word = st.text(alphabet=_LETTERS, min_size=1, max_size=8)


@given(
    surname=st.lists(_word, min_size=1, max_size=2).map(" ".join),
    given_names=st.lists(_word, min_size=0, max_size=2).map(" ".join),
    document_number=st.text(alphabet=_LETTERS + "0123456789", min_size=1, max_size=9),
    issuing_state=st.text(alphabet=_LETTERS, min_size=3, max_size=3),
    nationality=st.text(alphabet=_LETTERS, min_size=3, max_size=3),
    birth_date=st.dates(min_value=date(1926, 7, 1), max_value=TODAY),
    sex=st.sampled_from(["M", "F", "X"]),
    expiry_date=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    personal_number=st.text(alphabet=_LETTERS + "0123456789", max_size=14),
)
def test_td3_round_trip(
    surname: str,
    given_names: str,
    document_number: str,
    issuing_state: str,
    nationality: str,
    birth_date: date,
    sex: str,
    expiry_date: date,
    personal_number: str,
) -> None:
    lines = build_td3(
        surname=surname,
        given_names=given_names,
        document_number=document_number,
        issuing_state=issuing_state,
        nationality=nationality,
        birth_date=birth_date,
        sex=sex,
        expiry_date=expiry_date,
        personal_number=personal_number,
    )
    assert [len(line) for line in lines] == [44, 44]
    result = parse_mrz(lines, today=TODAY)
    assert result.valid
    assert (result.surname, result.given_names) == (surname, given_names)
    assert result.document_number == document_number
    assert (result.issuing_state, result.nationality) == (issuing_state, nationality)
    assert (result.birth_date, result.sex, result.expiry_date) == (birth_date, sex, expiry_date)
    assert result.optional_data == personal_number


@given(
    document_number=st.text(alphabet=_LETTERS + "0123456789", min_size=1, max_size=14),
    birth_date=st.dates(min_value=date(1926, 7, 1), max_value=TODAY),
    position=st.integers(min_value=0, max_value=43),
)
def test_td3_any_single_digit_change_is_caught_or_harmless(
    document_number: str, birth_date: date, position: int
) -> None:
    lines = build_td3(
        surname="Test",
        given_names="Case",
        document_number=document_number[:9],
        birth_date=birth_date,
        sex="M",
        expiry_date=date(2030, 1, 1),
    )
    char = lines[1][position]
    if not char.isdigit() or 10 <= position <= 12 or position == 20:
        return  # nationality and sex carry no check digit
    changed = _replace(lines[1], position, _other_digit(char))
    with pytest.raises(MrzError):
        parse_mrz([lines[0], changed], today=TODAY)
