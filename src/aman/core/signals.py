"""Sign-ins and sign-outs go to the audit log."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from aman.core import login_throttle
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
    # What was typed as a username is kept only when it names an account: people type
    # passwords into the wrong field, and the log is append-only.
    typed = str(credentials.get("username", ""))[:150]
    user = User.objects.filter(username=typed).first()
    audit_write(
        actor=None,
        verb="login_failed",
        action=AuditEntry.Action.LOGIN_FAILED,
        object_type="core.user",
        object_id=user.pk if user else None,
        changes={"username": typed if user else "(no such account)"},
    )
    if request is not None:
        login_throttle.record_failure(request, typed)
