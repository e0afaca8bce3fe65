from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aman.core import access, selectors
from aman.core.models import User
from aman.core.roles import Cap

# (url name, label, capability (or any of several) needed, or None for every signed-in user)
NAVIGATION = [
    ("home", _("Situation"), None),
    ("crisis_list", _("Crises"), None),
    ("person_list", _("People"), Cap.PERSONAL_DATA),
    ("import_list", _("Imports"), Cap.REGISTER),
    ("intake_list", _("Submissions"), Cap.PERSONAL_DATA),
    ("candidate_list", _("Duplicates"), Cap.PERSONAL_DATA),
    ("leg_list", _("Transport"), (Cap.TRANSPORT, Cap.BOARDING)),
    ("hotel_list", _("Shelter"), Cap.SHELTER),
    ("plan_list", _("Planning"), Cap.PLAN),
    ("mission_list", _("Missions"), None),
    ("crossing_list", _("Crossings"), None),
    ("place_list", _("Places"), None),
    ("audit_list", _("Audit log"), Cap.AUDIT_VIEW),
]


def aman(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    current = access.current_crisis(user)
    nav: list[dict[str, Any]] = []
    for name, label, cap in NAVIGATION:
        caps = (cap,) if isinstance(cap, str) else cap
        if caps is None or any(user.has_cap(c) for c in caps):
            url = reverse(name)
            active = request.path == url if name == "home" else request.path.startswith(url)
            nav.append({"url": url, "label": label, "active": active})
    # Only the most specific entry is active (/people/imports/ is Imports, not People).
    longest = max((len(n["url"]) for n in nav if n["active"]), default=0)
    for n in nav:
        n["active"] = n["active"] and len(n["url"]) == longest
    return {
        "current_crisis": current,
        "switchable_crises": selectors.crises_switchable(user=user),
        "navigation": nav,
        "role_label": user.get_role_display(),
        "can_tokens": user.has_cap(Cap.API_TOKENS),
    }
