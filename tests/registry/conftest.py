from __future__ import annotations

import copy
from typing import Any

import pytest

SPECIMEN_TD3 = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]

FAMILY: dict[str, Any] = {
    "members": [
        {
            "surname": "Жұмабек",
            "given_names": "Нұрлан",
            "birth_date": "1954-03-02",
            "sex": "M",
            "documents": [
                {
                    "kind": "passport",
                    "number": "N12345678",
                    "issuing_state": "KAZ",
                    "expiry_date": "2030-01-01",
                }
            ],
            "phones": ["8 701 123 45 67"],
            "medical_need": True,
            "needs_note": "insulin",
        },
        {
            "surname": "Жұмабекова",
            "given_names": "Айгүл",
            "birth_date": "1990-07-15",
            "sex": "F",
            "pregnant": True,
            "documents": [
                {
                    "kind": "passport",
                    "number": "n 0987 6543",
                    "issuing_state": "KAZ",
                    "surname_latin": "ZHUMABEKOVA",
                    "given_names_latin": "AIGUL",
                }
            ],
        },
        {"surname": "Жұмабек", "given_names": "Әлихан", "birth_date": "2019-01-20", "sex": "M"},
    ],
    "contact_index": 1,
    "location": {"country": "IR", "city": "Tehran", "address": "Hotel Azadi, room 512"},
    "intent": "leave",
    "language": "kk",
    "consent": True,
}


@pytest.fixture
def family() -> dict[str, Any]:
    return copy.deepcopy(FAMILY)
