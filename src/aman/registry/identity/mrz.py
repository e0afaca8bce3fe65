"""Machine-readable zones of travel documents, after ICAO Doc 9303 (8th edition).

Part 3 gives the character set and the check digit (weights 7-3-1, ``<`` = 0, ``A`` = 10 …
``Z`` = 35), part 4 the passport zone TD3 (2 lines × 44), part 5 the ID-card zone TD1
(3 lines × 30) and part 6 the TD2 zone (2 lines × 36). Visa zones (MRV-A, MRV-B) are refused.

``parse_mrz`` reads what a scanner or an operator typed and validates every check digit; the
first failing field is named in ``MrzError.field``, the problem in ``MrzError.code`` and
``MrzError.params`` (``MESSAGES`` words each code in English; an interface in another
language words the code itself). Nothing is silently corrected: a character that OCR
commonly confuses (``O``/``0``, ``I``/``1``, ``B``/``8``, ``S``/``5``, ``Z``/``2``, ``G``/``6``)
is only mentioned in the error as a likely cause.

``build_td3`` and ``build_td1`` write valid zones, for tests and demo data.

Pure Python, no Django: used by the API, importers, the gate scanner and benchmarks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

__all__ = [
    "MESSAGES",
    "CheckResult",
    "MrzError",
    "MrzFormat",
    "MrzResult",
    "build_td1",
    "build_td3",
    "check_digit",
    "parse_mrz",
]

MrzFormat = Literal["TD1", "TD2", "TD3"]
Sex = Literal["M", "F", "X"]

#: (lines, length) of each supported format.
_SHAPES: dict[tuple[int, int], MrzFormat] = {(2, 44): "TD3", (3, 30): "TD1", (2, 36): "TD2"}

_VALID_CHAR = re.compile(r"[A-Z0-9<]")
_WHITESPACE = re.compile(r"\s+")
_DIGIT = re.compile(r"[0-9]")

#: Letter ↔ digit pairs that OCR engines and tired eyes swap; used only to word the errors.
_OCR_LETTER_FOR_DIGIT = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"}
_OCR_DIGIT_FOR_LETTER = {v: k for k, v in _OCR_LETTER_FOR_DIGIT.items()} | {"D": "0", "Q": "0"}


#: The English sentence of each problem (``MrzError.code``), filled in with its
#: ``MrzError.params``. The optional params add a likely cause: ``confusions`` (pairs
#: [typed, meant] of characters OCR swaps), ``meant`` (the digit a letter in a check-digit
#: position resembles), ``fix`` ({char, position, digit}: the swap that would make a check
#: agree).
MESSAGES: dict[str, str] = {
    "empty": "no machine-readable zone was given",
    "line_count": "{lines} line(s) given; a zone has 2 lines (passport, TD2) or 3 (ID card)",
    "line_length": "line {line} has {length} characters; expected {expected}",
    "character": "line {line}, position {position}: {char!r} is not allowed in a zone"
    " (only A-Z, 0-9 and <)",
    "character_cyrillic": "line {line}, position {position}: {char!r} is not allowed in a zone"
    " (only A-Z, 0-9 and <) (Cyrillic: is the scanner typing with a Russian/Kazakh keyboard"
    " layout?)",
    "character_filler": "line {line}, position {position}: {char!r} is not allowed in a zone"
    " (only A-Z, 0-9 and <) (looks like the filler '<' read wrongly)",
    "visa": "visa zones (MRV) are not supported",
    "document_code_passport": "{value!r} is not a TD3 document code: a passport (TD3) code"
    " starts with P",
    "document_code_card": "{value!r} is not a {format} document code: it must start with I, A or C",
    "letters": "{value!r} contains a digit; it must be letters",
    "name_letters": "{value!r} contains a digit; names are letters",
    "sex": "{value!r} is not a sex marker (M, F, X or <)",
    "date_format": "{value!r} is not a date YYMMDD",
    "date_invalid": "{value!r} is not a valid calendar date YYMMDD",
    "check_not_digit": "check digit of the {label} is {found!r}, not a digit",
    "check_mismatch": "check digit of the {label} is {found}, computed {expected} from {data!r}",
}


def _english(field: str, code: str, params: dict[str, Any]) -> str:
    text = MESSAGES[code].format(label=field.replace("_", " "), **params)
    confusions = params.get("confusions")
    if confusions:
        text += f" (OCR confusion? {', '.join(f'{a!r} for {b!r}' for a, b in confusions)})"
    if params.get("meant"):
        text += f" (OCR confusion for {params['meant']!r}?)"
    fix = params.get("fix")
    if fix:
        text += (
            f"; it would agree if {fix['char']!r} at position {fix['position']} were"
            f" {fix['digit']!r} (OCR?)"
        )
    return text


class MrzError(ValueError):
    """The zone cannot be read or a check fails.

    ``field`` names what failed: ``format``, ``length`` or ``characters`` for the shape of
    the input; ``document_code``, ``issuing_state``, ``nationality``, ``name``, ``sex``;
    ``document_number``, ``birth_date``, ``expiry_date``, ``optional_data`` (its check digit,
    TD3 only) or ``composite`` for a check digit or a value that is not what the standard
    allows. ``code`` names the problem (a key of ``MESSAGES``) and ``params`` its values
    (numbers, the characters concerned: JSON-friendly); ``message`` is the problem in one
    English sentence for an operator.
    """

    def __init__(self, field: str, code: str, params: dict[str, Any] | None = None) -> None:
        self.field = field
        self.code = code
        self.params: dict[str, Any] = dict(params or {})
        self.message = _english(field, code, self.params)
        super().__init__(f"{field}: {self.message}")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check digit: the characters it covers, the digit printed and the digit computed.

    ``found`` is the printed character (a digit, or ``<`` where the standard allows an empty
    optional field's check digit to be filler); ``valid`` is whether they agree.
    """

    field: str
    data: str
    found: str
    expected: str
    valid: bool


@dataclass(frozen=True, slots=True)
class MrzResult:
    """A parsed zone. Text fields have filler ``<`` removed; names use spaces between parts.

    ``birth_date`` / ``expiry_date`` are ``None`` when the document leaves day or month
    unknown (filler in the date) or, in non-strict mode, when the date cannot be read; the
    six printed characters are always in ``birth_date_raw`` / ``expiry_date_raw``.
    ``optional_data`` is the TD3 personal number (Kazakh passports carry the IIN there), the
    TD2 optional data, or the first TD1 optional field; ``optional_data_2`` is the second TD1
    optional field (empty for TD2/TD3). ``checks`` maps each checked field to its result.
    """

    format: MrzFormat
    document_code: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: date | None
    birth_date_raw: str
    sex: Sex
    expiry_date: date | None
    expiry_date_raw: str
    optional_data: str
    optional_data_2: str
    lines: tuple[str, ...]
    checks: dict[str, CheckResult] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """Every check digit agrees (always true for a result of strict parsing)."""
        return all(c.valid for c in self.checks.values())

    @property
    def failed_checks(self) -> list[str]:
        """Names of the fields whose check digit disagrees, in the standard's order."""
        return [name for name, c in self.checks.items() if not c.valid]


# --- check digit --------------------------------------------------------------------------


def _char_value(char: str) -> int:
    if "0" <= char <= "9":
        return ord(char) - ord("0")
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == "<":
        return 0
    raise ValueError(f"{char!r} is not an MRZ character")


def check_digit(data: str) -> str:
    """The Doc 9303 part 3 check digit of ``data`` (characters ``0-9``, ``A-Z``, ``<``)."""
    weights = (7, 3, 1)
    return str(sum(_char_value(c) * weights[i % 3] for i, c in enumerate(data)) % 10)


# --- input normalisation -------------------------------------------------------------------


def _normalise(lines: Sequence[str] | str) -> list[str]:
    """Lines of the zone: whitespace removed inside lines, upper case, empty lines dropped.

    Scanners in keyboard-wedge mode type the zone as one string with CR and/or LF between the
    lines, and some send no separator at all; an input of exactly 88, 72 or 90 characters is
    split into the lines of TD3, TD2 or TD1.
    """
    chunks = [lines] if isinstance(lines, str) else list(lines)
    out: list[str] = []
    for chunk in chunks:
        for line in chunk.splitlines():
            cleaned = _WHITESPACE.sub("", line).upper()
            if cleaned:
                out.append(cleaned)
    if len(out) == 1:
        joined = out[0]
        for (count, length), _fmt in _SHAPES.items():
            if len(joined) == count * length:
                return [joined[i * length : (i + 1) * length] for i in range(count)]
    return out


def _shape(lines: list[str]) -> MrzFormat:
    if not lines:
        raise MrzError("format", "empty")
    lengths = [len(line) for line in lines]
    fmt = _SHAPES.get((len(lines), lengths[0]))
    if fmt is not None and all(n == lengths[0] for n in lengths):
        return fmt
    candidates = [n for (count, n) in _SHAPES if count == len(lines)]
    if not candidates:
        raise MrzError("format", "line_count", {"lines": len(lines)})
    # The line count fits a format: measure against the length nearest to what was typed.
    target = min(candidates, key=lambda n: min(abs(n - k) for k in lengths))
    number, length = next((i, n) for i, n in enumerate(lengths, start=1) if n != target)
    raise MrzError("length", "line_length", {"line": number, "length": length, "expected": target})


def _check_characters(lines: list[str]) -> None:
    for number, line in enumerate(lines, start=1):
        for position, char in enumerate(line, start=1):
            if _VALID_CHAR.fullmatch(char):
                continue
            code = "character"
            if "\u0400" <= char <= "\u04ff":
                # A keyboard-wedge scanner "types" keys: with a Cyrillic layout active the
                # zone arrives in Cyrillic.
                code = "character_cyrillic"
            elif char in "«‹":
                code = "character_filler"
            raise MrzError("characters", code, {"line": number, "position": position, "char": char})


# --- field readers --------------------------------------------------------------------------


def _ocr_hint_digits(value: str) -> dict[str, Any]:
    """Letters in a field of digits that OCR may have read for digits: {confusions}."""
    suspects = [[c, _OCR_DIGIT_FOR_LETTER[c]] for c in value if c in _OCR_DIGIT_FOR_LETTER]
    return {"confusions": suspects} if suspects else {}


def _ocr_hint_letters(value: str) -> dict[str, Any]:
    """Digits in a field of letters that OCR may have read for letters: {confusions}."""
    suspects = [[c, _OCR_LETTER_FOR_DIGIT[c]] for c in value if c in _OCR_LETTER_FOR_DIGIT]
    return {"confusions": suspects} if suspects else {}


def _ocr_fix_hint(data: str, found: str) -> dict[str, Any]:
    """Name a letter that, read as the digit it resembles, would make the check agree.

    Only words the error: the zone is never changed, because a swap that happens to satisfy
    a 1-in-10 check is no proof. Digit-to-letter swaps are not suggested: letters are rarer
    in document numbers, and the hint would mostly be noise.
    """
    for i, char in enumerate(data):
        digit = _OCR_DIGIT_FOR_LETTER.get(char)
        if digit is not None and check_digit(data[:i] + digit + data[i + 1 :]) == found:
            return {"fix": {"char": char, "position": i + 1, "digit": digit}}
    return {}


def _check(
    checks: dict[str, CheckResult],
    name: str,
    data: str,
    found: str,
    *,
    filler_allowed: bool = False,
) -> None:
    if filler_allowed and found == "<" and set(data) <= {"<"}:
        checks[name] = CheckResult(name, data, found, "<", True)
        return
    expected = check_digit(data)
    checks[name] = CheckResult(name, data, found, expected, found == expected)


def _alpha_code(value: str, field_name: str) -> str:
    if _DIGIT.search(value):
        raise MrzError(field_name, "letters", {"value": value, **_ocr_hint_letters(value)})
    return value.replace("<", "")


def _name(value: str) -> tuple[str, str]:
    if _DIGIT.search(value):
        raise MrzError("name", "name_letters", {"value": value, **_ocr_hint_letters(value)})
    surname, _sep, given = value.strip("<").partition("<<")
    return _words(surname), _words(given)


def _words(value: str) -> str:
    return " ".join(part for part in value.split("<") if part)


def _sex(value: str) -> Sex:
    if value == "M":
        return "M"
    if value == "F":
        return "F"
    if value in ("<", "X"):
        return "X"
    raise MrzError("sex", "sex", {"value": value})


def _today() -> date:
    return datetime.now(UTC).date()


def _date_digits(raw: str, field_name: str, strict: bool) -> tuple[int, int, int] | None:
    """(YY, MM, DD) of a six-character date, or None when the document leaves part unknown."""
    if raw.isdigit():
        return int(raw[:2]), int(raw[2:4]), int(raw[4:])
    if set(raw) <= set("0123456789<"):
        # Doc 9303 part 3: an unknown day or month is written as filler.
        return None
    if strict:
        raise MrzError(field_name, "date_format", {"value": raw, **_ocr_hint_digits(raw)})
    return None


def _birth_date(raw: str, today: date, strict: bool) -> date | None:
    parts = _date_digits(raw, "birth_date", strict)
    if parts is None:
        return None
    yy, mm, dd = parts
    # The zone has two-digit years. A birth year is in this century unless that would put the
    # birth in the future; then it is the previous century (a YY above today's → 19YY).
    century = today.year // 100 * 100
    try:
        candidate = date(century + yy, mm, dd)
        return candidate if candidate <= today else date(century - 100 + yy, mm, dd)
    except ValueError:
        if strict:
            raise _invalid_date(raw, "birth_date") from None
        return None


def _expiry_date(raw: str, strict: bool) -> date | None:
    parts = _date_digits(raw, "expiry_date", strict)
    if parts is None:
        return None
    yy, mm, dd = parts
    # Expiry dates are always read as 20YY: documents expired before 2000 are not in use, and
    # a ten-year validity never reaches 2100 from now.
    try:
        return date(2000 + yy, mm, dd)
    except ValueError:
        if strict:
            raise _invalid_date(raw, "expiry_date") from None
        return None


def _invalid_date(raw: str, field_name: str) -> MrzError:
    return MrzError(field_name, "date_invalid", {"value": raw})


def _document_number(
    number: str, check: str, optional: str, fmt: MrzFormat
) -> tuple[str, str, str]:
    """(number, its check digit, optional data left) for TD1/TD2.

    Doc 9303 parts 5-6: a number longer than nine characters puts ``<`` in the check digit
    position and continues in the optional data, followed by its check digit and a filler;
    the check digit covers the whole number.
    """
    if fmt == "TD3" or check != "<":
        return number, check, optional
    continuation, _sep, after = optional.partition("<")
    if len(continuation) < 2:
        return number, check, optional
    return number + continuation[:-1], continuation[-1], after


# --- parser ---------------------------------------------------------------------------------


def parse_mrz(
    lines: Sequence[str] | str, *, strict: bool = True, today: date | None = None
) -> MrzResult:
    """Parse and validate a TD3, TD1 or TD2 machine-readable zone.

    ``lines``: the zone as a list of lines, or as one string with line breaks (or none, when
    its length is exactly that of a zone). Whitespace is removed and letters upper-cased;
    nothing else is changed.

    Strict (the default): raises ``MrzError`` naming the first problem — the shape
    (``format``, ``length``, ``characters``), a coded field, then the check digits in the
    order ``document_number``, ``birth_date``, ``expiry_date``, ``optional_data``,
    ``composite``. A wrong character inside one field fails that field's check and the
    composite; the field is named. Non-strict: shape, document code, names and sex still
    raise, but check-digit failures are only recorded in ``checks`` and unreadable dates
    become ``None``, so a gate can show what it read next to what failed.

    ``today`` (default: today in UTC) decides the birth century.
    """
    rows = _normalise(lines)
    fmt = _shape(rows)
    _check_characters(rows)
    today = today or _today()
    checks: dict[str, CheckResult] = {}

    document_code = rows[0][0:2]
    if document_code[0] == "V":
        raise MrzError("document_code", "visa")
    allowed_first = "P" if fmt == "TD3" else "IAC"
    if document_code[0] not in allowed_first:
        code = "document_code_passport" if fmt == "TD3" else "document_code_card"
        raise MrzError("document_code", code, {"value": document_code, "format": fmt})
    issuing_state = _alpha_code(rows[0][2:5], "issuing_state")

    optional_2 = ""
    if fmt == "TD1":
        line1, line2, line3 = rows
        number_raw, number_check, optional_raw = line1[5:14], line1[14], line1[15:30]
        birth_raw, birth_check = line2[0:6], line2[6]
        sex_raw, expiry_raw, expiry_check = line2[7], line2[8:14], line2[14]
        nationality_raw, optional_2 = line2[15:18], line2[18:29]
        composite_data = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
        composite_check = line2[29]
        name_raw = line3
    else:
        line1, line2 = rows
        width = len(line2)
        name_raw = line1[5:]
        number_raw, number_check = line2[0:9], line2[9]
        nationality_raw = line2[10:13]
        birth_raw, birth_check = line2[13:19], line2[19]
        sex_raw, expiry_raw, expiry_check = line2[20], line2[21:27], line2[27]
        optional_raw = line2[28 : width - (2 if fmt == "TD3" else 1)]
        composite_data = line2[0:10] + line2[13:20] + line2[21 : width - 1]
        composite_check = line2[width - 1]

    surname, given_names = _name(name_raw)
    nationality = _alpha_code(nationality_raw, "nationality")
    sex = _sex(sex_raw)

    number, number_check, optional_left = _document_number(
        number_raw, number_check, optional_raw, fmt
    )
    _check(checks, "document_number", number, number_check)
    _check(checks, "birth_date", birth_raw, birth_check)
    _check(checks, "expiry_date", expiry_raw, expiry_check)
    if fmt == "TD3":
        # The personal number's check digit may be filler when the field is empty.
        _check(checks, "optional_data", optional_raw, rows[1][42], filler_allowed=True)
    _check(checks, "composite", composite_data, composite_check)

    if strict:
        for result in checks.values():
            if not result.valid:
                raise _check_error(result)

    return MrzResult(
        format=fmt,
        document_code=document_code.replace("<", ""),
        issuing_state=issuing_state,
        surname=surname,
        given_names=given_names,
        document_number=number.replace("<", ""),
        nationality=nationality,
        birth_date=_birth_date(birth_raw, today, strict),
        birth_date_raw=birth_raw,
        sex=sex,
        expiry_date=_expiry_date(expiry_raw, strict),
        expiry_date_raw=expiry_raw,
        optional_data=optional_left.rstrip("<"),
        optional_data_2=optional_2.rstrip("<"),
        lines=tuple(rows),
        checks=checks,
    )


def _check_error(result: CheckResult) -> MrzError:
    if not result.found.isdigit():
        meant = _OCR_DIGIT_FOR_LETTER.get(result.found)
        return MrzError(
            result.field,
            "check_not_digit",
            {"found": result.found, **({"meant": meant} if meant else {})},
        )
    return MrzError(
        result.field,
        "check_mismatch",
        {
            "found": result.found,
            "expected": result.expected,
            "data": result.data,
            **({} if result.field == "composite" else _ocr_fix_hint(result.data, result.found)),
        },
    )


# --- builders -------------------------------------------------------------------------------

_NAME_OK = re.compile(r"[A-Z<]*")


def _mrz_text(value: str, what: str) -> str:
    text = re.sub(r"[ \-]+", "<", value.strip().upper()).replace("'", "")
    if not _NAME_OK.fullmatch(text):
        raise ValueError(f"{what} {value!r}: only Latin letters, spaces, hyphens and apostrophes")
    return text


def _code(value: str, what: str, length: int) -> str:
    text = value.upper()
    if not re.fullmatch(r"[A-Z0-9<]*", text) or len(text) > length:
        raise ValueError(f"{what} {value!r}: at most {length} of A-Z, 0-9, <")
    return text.ljust(length, "<")


def _yymmdd(value: date | str) -> str:
    if isinstance(value, date):
        return value.strftime("%y%m%d")
    if not re.fullmatch(r"[0-9<]{6}", value):
        raise ValueError(f"date {value!r}: a date or six characters YYMMDD")
    return value


def _name_field(surname: str, given_names: str, length: int) -> str:
    # Doc 9303 truncates long names; cutting at the field's end is the simplest allowed form.
    name = _mrz_text(surname, "surname")
    given = _mrz_text(given_names, "given names")
    if given:
        name += "<<" + given
    return name[:length].ljust(length, "<")


def build_td3(
    *,
    surname: str,
    given_names: str,
    document_number: str,
    birth_date: date | str,
    sex: str,
    expiry_date: date | str,
    issuing_state: str = "KAZ",
    nationality: str | None = None,
    personal_number: str = "",
    document_code: str = "P",
) -> list[str]:
    """The two lines of a valid passport zone (TD3) with every check digit computed.

    Names are Latin letters with spaces or hyphens between parts (written ``<``); long names
    are cut at the field's end. Dates are ``date`` objects or six characters ``YYMMDD`` (which
    may hold ``<`` for an unknown part). ``nationality`` defaults to ``issuing_state``.
    Raises ``ValueError`` for a value the zone cannot hold.
    """
    line1 = _code(document_code, "document code", 2) + _code(issuing_state, "issuing state", 3)
    line1 += _name_field(surname, given_names, 39)
    number = _code(document_number, "document number", 9)
    personal = _code(personal_number, "personal number", 14)
    personal_check = "<" if set(personal) == {"<"} else check_digit(personal)
    birth, expiry = _yymmdd(birth_date), _yymmdd(expiry_date)
    line2 = number + check_digit(number)
    line2 += _code(nationality or issuing_state, "nationality", 3)
    line2 += birth + check_digit(birth) + _code(sex, "sex", 1)
    line2 += expiry + check_digit(expiry) + personal + personal_check
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return [line1, line2 + check_digit(composite)]


def build_td1(
    *,
    surname: str,
    given_names: str,
    document_number: str,
    birth_date: date | str,
    sex: str,
    expiry_date: date | str,
    issuing_state: str = "KAZ",
    nationality: str | None = None,
    optional_data: str = "",
    optional_data_2: str = "",
    document_code: str = "I",
) -> list[str]:
    """The three lines of a valid ID-card zone (TD1); the conventions of ``build_td3``.

    Document numbers longer than nine characters continue in the first optional field, as
    Doc 9303 part 5 prescribes (then ``optional_data`` must leave room for them).
    """
    number = document_number.upper()
    if len(number) > 9:
        head, tail = number[:9], number[9:]
        number_field = _code(head, "document number", 9) + "<"
        optional = _code(tail + check_digit(head + tail) + "<" + optional_data, "optional", 15)
    else:
        padded = _code(number, "document number", 9)
        number_field = padded + check_digit(padded)
        optional = _code(optional_data, "optional data", 15)
    line1 = _code(document_code, "document code", 2) + _code(issuing_state, "issuing state", 3)
    line1 += number_field + optional
    birth, expiry = _yymmdd(birth_date), _yymmdd(expiry_date)
    line2 = birth + check_digit(birth) + _code(sex, "sex", 1) + expiry + check_digit(expiry)
    line2 += _code(nationality or issuing_state, "nationality", 3)
    line2 += _code(optional_data_2, "optional data 2", 11)
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    line2 += check_digit(composite)
    return [line1, line2, _name_field(surname, given_names, 30)]
