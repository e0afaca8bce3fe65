"""One application error type. Interfaces map it to their own shape: a form error in the
UI, `{"message", "extra"}` with a 4xx in the API, a message and exit status in the CLI."""

from typing import Any


class ApplicationError(Exception):
    status_code = 400

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotAllowed(ApplicationError):
    status_code = 403


class Conflict(ApplicationError):
    status_code = 409


class NotFound(ApplicationError):
    """An object named in the input that is not there (or not for this user), said with the
    field that named it — where a bare 404 would leave the caller guessing which."""

    status_code = 404
