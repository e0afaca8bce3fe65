"""Where the current request came from, for the audit log.

The request middleware (web and API), Celery's task signals (aman/celery.py) and
management commands (AmanCommand) set it; services never take an IP address as an argument.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    via: str = ""


_NOWHERE = Origin()
_origin: ContextVar[Origin] = ContextVar("aman_origin", default=_NOWHERE)


def current_origin() -> Origin:
    return _origin.get()


def set_origin(value: Origin) -> Token[Origin]:
    return _origin.set(value)


def reset_origin(token: Token[Origin]) -> None:
    _origin.reset(token)


@contextlib.contextmanager
def origin(*, ip: str | None = None, via: str) -> Iterator[None]:
    token = _origin.set(Origin(ip=ip, via=via))
    try:
        yield
    finally:
        _origin.reset(token)
