"""A leg's boarding passes printed in the background: ~50–90 ms a page in WeasyPrint, half a
minute for a 300-seat leg and minutes for a train — too long for a web request.

`pass_print_start` records a print (`PassPrint`) and queues it (`tasks.pass_print`: a
Celery worker, a thread of the embedded demo, or inline in tests); a leg of at most
`settings.AMAN_PASSES_INLINE_MAX` passes may be printed at once instead (the page does: the
file is ready before the answer, as for a single pass). `pass_print_run` lays the passes out
`boarding_passes.CHUNK` at a time, saving the pages done after each part, and keeps the PDF
encrypted with the print. `pass_print_file` hands it out, audited as every boarding pass is
(`boarding_pass`).

The file is kept until the next print of the leg is ready (it replaces it) or for
`PassPrint.KEEP` (24 hours) after it was made: `pass_prints_tidy` deletes the files past
their time — every hour on the worker (the beat schedule), and whenever a print is asked
for or looked at, so that the embedded demo, which has no worker, does it too. A print
whose worker died (nothing written for `STALLED`), or that no worker took for `LOST`, is
marked failed with that reason.
"""

from __future__ import annotations

import base64
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from aman.core.audit import audit_write
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import User
from aman.transport import boarding_passes
from aman.transport.models import HOLDS_SEAT, Booking, Leg, PassPrint

log = logging.getLogger(__name__)

S = PassPrint.Status
ACTIVE = (S.QUEUED, S.RUNNING)
# A print that wrote nothing for this long lost its worker (a restart, a crash); one that
# no worker took for this long was lost from the queue (a busy queue takes minutes, not hours).
STALLED = timedelta(minutes=10)
LOST = timedelta(hours=1)


class Gone(ApplicationError):
    status_code = 410


def _seats_held(leg: Leg) -> int:
    return Booking.objects.filter(leg=leg, status__in=HOLDS_SEAT).count()


def pass_prints_tidy(*, leg: Leg | None = None) -> int:
    """Delete the files kept past `PassPrint.KEEP` and fail the prints whose worker died or
    that no worker took (of one leg, or everywhere); returns how many rows changed."""
    now = timezone.now()
    prints = PassPrint.objects.all() if leg is None else PassPrint.objects.filter(leg=leg)
    expired = prints.filter(status=S.DONE, cleared="", finished_at__lt=now - PassPrint.KEEP).update(
        content="", cleared=PassPrint.Cleared.EXPIRED, cleared_at=now
    )
    stalled = prints.filter(status=S.RUNNING, heartbeat_at__lt=now - STALLED).update(
        status=S.FAILED,
        error=_("The print stopped before it finished (its worker was stopped); print again."),
        finished_at=now,
    )
    lost = prints.filter(status=S.QUEUED, requested_at__lt=now - LOST).update(
        status=S.FAILED,
        error=_("The print never started (no worker took it); print again."),
        finished_at=now,
    )
    return expired + stalled + lost


def pass_print_start(
    *, actor: User | None, leg: Leg, inline: bool | None = None
) -> tuple[PassPrint, bool]:
    """Record a print of the leg's passes and queue it — or run it here and now when `now`
    (None: when the leg has at most `AMAN_PASSES_INLINE_MAX` passes). A print of the leg
    already waiting or running is returned instead of a second one: (print, created)."""
    with transaction.atomic():
        Leg.objects.select_for_update().filter(pk=leg.pk).first()  # one print at a time
        pass_prints_tidy(leg=leg)
        running = PassPrint.objects.filter(leg=leg, status__in=ACTIVE).defer("content").first()
        if running is not None:
            return running, False
        count = _seats_held(leg)
        if not count:
            raise boarding_passes.nobody_holds_a_seat()
        job = PassPrint.objects.create(
            crisis_id=leg.crisis_id, leg=leg, total=count, requested_by=actor
        )
        audit_write(
            actor=actor,
            verb="pass_print_start",
            obj=job,
            action="create",
            crisis=leg.crisis,
            changes={"leg": leg.pk, "passes": count},
        )
        if inline is None:
            inline = count <= settings.AMAN_PASSES_INLINE_MAX
        if not inline:
            from aman.transport.tasks import pass_print

            transaction.on_commit(lambda: pass_print.dispatch(job.pk))
    if inline:
        pass_print_run(job.pk)
    job = PassPrint.objects.defer("content").select_related("requested_by").get(pk=job.pk)
    return job, True


def pass_print_run(print_id: int) -> PassPrint:
    """Lay out a queued print's passes and keep the PDF (the background task's body). The
    passes are those holding a seat when it starts; a failure is kept with its reason."""
    now = timezone.now()
    claimed = PassPrint.objects.filter(
        Q(status=S.QUEUED) | Q(status=S.RUNNING, heartbeat_at__lt=now - STALLED), pk=print_id
    ).update(status=S.RUNNING, started_at=now, heartbeat_at=now, done=0)
    job = (
        PassPrint.objects.defer("content")
        .select_related(
            "requested_by",
            "leg__crisis",
            "leg__origin__country",
            "leg__destination__country",
        )
        .get(pk=print_id)
    )
    if not claimed:  # done, failed, or running elsewhere
        return job
    leg = job.leg
    mine = PassPrint.objects.filter(pk=print_id, status=S.RUNNING)

    def progress(done: int) -> None:
        mine.update(done=done, heartbeat_at=timezone.now())

    try:
        passes = boarding_passes.leg_passes(leg)
        if not passes:
            raise boarding_passes.nobody_holds_a_seat()
        mine.update(total=len(passes))
        content = boarding_passes.render_passes_pdf(passes, progress)
    except Exception as exc:  # kept where the officer sees it
        if isinstance(exc, ApplicationError):
            reason = exc.message
        else:
            log.exception("printing the passes of leg %s failed", leg.pk)
            reason = f"{type(exc).__name__}: {exc}"
        mine.update(status=S.FAILED, error=reason[:2000], finished_at=timezone.now())
        _audit_finish(job, S.FAILED, 0, reason)
        job.refresh_from_db()
        return job
    finished = timezone.now()
    with transaction.atomic():
        stored = mine.update(
            status=S.DONE,
            done=len(passes),
            total=len(passes),
            content=base64.b64encode(content).decode(),
            size=len(content),
            finished_at=finished,
            heartbeat_at=finished,
        )
        if stored:
            # The newest file of the leg replaces the older ones.
            PassPrint.objects.filter(leg=leg, status=S.DONE, cleared="").exclude(
                pk=print_id
            ).update(content="", cleared=PassPrint.Cleared.REPLACED, cleared_at=finished)
            _audit_finish(job, S.DONE, len(passes), "")
    job.refresh_from_db()
    return job


def _audit_finish(job: PassPrint, status: str, count: int, error: str) -> None:
    audit_write(
        actor=job.requested_by,
        verb="pass_print_finish",
        obj=job,
        crisis=job.leg.crisis,
        changes={"status": [S.RUNNING, status], "passes": count, "error": error},
    )


def pass_print_file(*, actor: User | None, job: PassPrint) -> boarding_passes.PassFile:
    """A finished print's PDF, audited as a leg's boarding passes are (`boarding_pass`).
    Refused (409) while it is printing or when it failed, gone (410) once deleted."""
    if job.status in ACTIVE:
        raise Conflict(
            _("The passes are still being printed: %(done)d of %(total)d pages done.")
            % {"done": job.done, "total": job.total},
            {"status": job.status, "done": job.done, "total": job.total},
        )
    if job.status == S.FAILED:
        raise Conflict(
            _("This print failed: %(error)s") % {"error": job.error},
            {"status": job.status, "error": job.error},
        )
    if not job.available:
        pass_prints_tidy(leg=job.leg)
        raise Gone(
            _("This print's file was deleted (%(why)s): print the passes again.")
            % {"why": PassPrint.Cleared(job.cleared or PassPrint.Cleared.EXPIRED).label},
            {"status": job.status, "cleared": job.cleared or PassPrint.Cleared.EXPIRED},
        )
    stored = PassPrint.objects.filter(pk=job.pk).values_list("content", flat=True).first()
    if not stored:  # deleted since it was read
        raise Gone(
            _("This print's file was deleted (%(why)s): print the passes again.")
            % {"why": PassPrint.Cleared.REPLACED.label},
            {"status": job.status, "cleared": PassPrint.Cleared.REPLACED},
        )
    leg = job.leg
    boarding_passes.audit_passes(actor, leg, leg, "pdf", job.total, print=job.pk)
    return boarding_passes.PassFile(
        content=base64.b64decode(stored),
        content_type="application/pdf",
        filename=f"boarding-passes-leg{leg.pk}.pdf",
        count=job.total,
    )


def pass_prints_of(leg: Leg) -> QuerySet[PassPrint]:
    """A leg's prints, newest first, without their files."""
    return PassPrint.objects.filter(leg=leg).defer("content").select_related("requested_by")


def changed_since(job: PassPrint) -> bool:
    """Whether a booking of the leg changed (booked, released, checked in with a seat...)
    after the print read them: its passes may be out of date."""
    since = job.started_at or job.requested_at
    return Booking.objects.filter(leg_id=job.leg_id, changed_at__gt=since).exists()
