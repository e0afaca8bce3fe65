"""Kazakhstan's individual identification number (IIN, ЖСН / ИИН).

Structure, per Government Decree No. 565 of 11 June 2003 and the 2007 law on national
registers of identification numbers: twelve digits

* 1-6: date of birth ``YYMMDD``;
* 7: century and sex — 1/2 born in the 19th century (read as 18YY), 3/4 in the 20th
  (19YY), 5/6 in the 21st (20YY); odd is male, even female;
* 8-11: serial number among people registered with the same birth date;
* 12: check digit: the sum of the first eleven digits weighted 1, 2, … 11, modulo 11; when
  that is 10, the sum weighted 3, 4, … 11, 1, 2, modulo 11; when that is 10 again the number
  is never issued, so such an IIN is invalid.

The check is weaker than it looks: the first weights give the 11th digit weight 11 ≡ 0
(mod 11), so a mistyped last serial digit goes unnoticed unless the second weights are used;
and a mistyped digit that turns the first remainder into 10 passes whenever the second
weights happen to agree. A valid IIN is no proof that it was typed correctly: compare the
encoded birth date and sex with what the person says (``check_iin_matches``).

Digit 7 = 0 (used in some legacy numbers for foreigners) is refused; business numbers (BIN)
are out of scope.

Pure Python, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = [
    "IinConflict",
    "IinError",
    "IinResult",
    "check_iin_matches",
    "iin_check_digit",
    "make_iin",
    "parse_iin",
]

IinProblem = Literal["length", "digits", "century", "date", "checksum"]
Sex = Literal["M", "F"]

_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
#: Century-and-sex digit → (first year of the century as the IIN counts it, sex).
_CENTURY: dict[str, tuple[int, Sex]] = {
    "1": (1800, "M"),
    "2": (1800, "F"),
    "3": (1900, "M"),
    "4": (1900, "F"),
    "5": (2000, "M"),
    "6": (2000, "F"),
}


class IinError(ValueError):
    """The value is not a valid IIN. ``problem`` is one of ``length``, ``digits``,
    ``century``, ``date``, ``checksum``; ``message`` says what is wrong, for an operator."""

    def __init__(self, problem: IinProblem, message: str) -> None:
        super().__init__(message)
        self.problem: IinProblem = problem
        self.message = message


@dataclass(frozen=True, slots=True)
class IinResult:
    """A valid IIN and what it encodes."""

    iin: str
    birth_date: date
    sex: Sex
    serial: str


@dataclass(frozen=True, slots=True)
class IinConflict:
    """What a person stated that the IIN contradicts."""

    field: Literal["birth_date", "sex"]
    stated: str
    in_iin: str

    @property
    def message(self) -> str:
        label = "birth date" if self.field == "birth_date" else "sex"
        return f"the IIN encodes {label} {self.in_iin}, the person stated {self.stated}"


def iin_check_digit(first_eleven: str) -> int | None:
    """The check digit of the first eleven digits, or ``None`` when both sums give 10
    (such a number is never issued)."""
    digits = [int(c) for c in first_eleven]
    for weights in (_WEIGHTS_1, _WEIGHTS_2):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def parse_iin(value: str) -> IinResult:
    """Validate an IIN and decode birth date and sex.

    Spaces and hyphens that people type between digit groups are ignored. Raises
    ``IinError`` naming the first problem, checked in the order length, digits, century
    digit, date, checksum.
    """
    iin = "".join(value.split()).replace("-", "")
    if iin and not (iin.isascii() and iin.isdigit()):
        # The value is never repeated in a message: messages are kept with rejected input.
        raise IinError("digits", "an IIN has only digits; this one has other characters")
    if len(iin) != 12:
        raise IinError("length", f"an IIN has 12 digits; this one has {len(iin)}")
    century = _CENTURY.get(iin[6])
    if century is None:
        raise IinError(
            "century",
            f"the 7th digit (century and sex) is {iin[6]}; it must be 1 to 6",
        )
    first_year, sex = century
    try:
        birth = date(first_year + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        raise IinError(
            "date",
            "the first six digits are not a date of birth YYMMDD",
        ) from None
    expected = iin_check_digit(iin[:11])
    if expected is None:
        raise IinError("checksum", "no check digit exists for these eleven digits: not an IIN")
    if int(iin[11]) != expected:
        raise IinError(
            "checksum", f"the check digit is {iin[11]}, computed {expected}: a digit is wrong"
        )
    return IinResult(iin=iin, birth_date=birth, sex=sex, serial=iin[7:11])


def check_iin_matches(
    iin: str, birth_date: date | None = None, sex: str | None = None
) -> list[IinConflict]:
    """Conflicts between a valid IIN and what the person stated (empty when they agree).

    ``None`` means not stated and is not compared; a ``sex`` other than ``M``/``F`` (such as
    ``X``) is not compared either. Raises ``IinError`` when the IIN itself is invalid.
    """
    parsed = parse_iin(iin)
    conflicts: list[IinConflict] = []
    if birth_date is not None and birth_date != parsed.birth_date:
        conflicts.append(
            IinConflict("birth_date", birth_date.isoformat(), parsed.birth_date.isoformat())
        )
    stated_sex = sex.upper() if sex else None
    if stated_sex in ("M", "F") and stated_sex != parsed.sex:
        conflicts.append(IinConflict("sex", stated_sex, parsed.sex))
    return conflicts


def make_iin(birth_date: date, sex: str, serial: int) -> str:
    """A valid IIN for ``birth_date`` (1800-2099), ``sex`` (``M``/``F``) and ``serial``
    (0-9999), for tests and demo data.

    Raises ``ValueError`` when the date, sex or serial cannot be encoded, or when these
    digits have no check digit (about one serial in 121): take the next serial.
    """
    if not 1800 <= birth_date.year <= 2099:
        raise ValueError(f"an IIN encodes birth years 1800-2099, not {birth_date.year}")
    if sex not in ("M", "F"):
        raise ValueError(f"sex is M or F, not {sex!r}")
    if not 0 <= serial <= 9999:
        raise ValueError(f"the serial is 0-9999, not {serial}")
    century_digit = (birth_date.year // 100 - 18) * 2 + (1 if sex == "M" else 2)
    first_eleven = f"{birth_date:%y%m%d}{century_digit}{serial:04d}"
    check = iin_check_digit(first_eleven)
    if check is None:
        raise ValueError(f"{first_eleven} has no check digit; use another serial")
    return first_eleven + str(check)
