"""Sign-ins and sign-outs go to the audit log."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from aman.core.audit import audit_write
from aman.core.models import AuditEntry, User


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    audit_write(actor=user, verb="login", action=AuditEntry.Action.LOGIN, obj=user)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit_write(actor=user, verb="logout", action=AuditEntry.Action.LOGOUT, obj=user)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # The username typed is kept (it may be someone's name mistyped); never the password.
    audit_write(
        actor=None,
        verb="login_failed",
        action=AuditEntry.Action.LOGIN_FAILED,
        object_type="core.user",
        changes={"username": str(credentials.get("username", ""))[:150]},
    )
