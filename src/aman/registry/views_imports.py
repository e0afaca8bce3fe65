"""Operator pages for imported lists: upload, map columns with a preview, follow the run,
download the rejected rows."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.geo.models import Country
from aman.registry import imports
from aman.registry.forms import ImportUploadForm, mapping_form
from aman.registry.models import ImportBatch
from aman.registry.services import crisis_country_ids


def _context(request: HttpRequest) -> tuple[User, Crisis | None]:
    user = request.user
    assert isinstance(user, User)
    access.require(user, Cap.REGISTER)
    return user, access.current_crisis(user)


def _batch(user: User, crisis: Crisis | None, pk: int) -> ImportBatch:
    if crisis is None:
        raise Http404
    try:
        return _batches(user, crisis).select_related("source", "country").get(pk=pk)
    except ImportBatch.DoesNotExist:
        raise Http404 from None


def _batches(user: User, crisis: Crisis) -> QuerySet[ImportBatch]:
    """A consul sees the lists of their mission's countries only (they hold personal data)."""
    qs = ImportBatch.objects.filter(crisis=crisis)
    scope = access.country_scope(user)
    return qs if scope is None else qs.filter(country__in=scope)


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    user, crisis = _context(request)
    if crisis is None:
        return TemplateResponse(request, "registry/import_list.html", {"crisis": None})
    # The crisis's countries, as on every other channel (`services.country_allowed`): an
    # embassy in a transit state imports the list of the people waiting there.
    countries = Country.objects.filter(pk__in=crisis_country_ids(crisis)).in_local_order()
    scope = access.country_scope(user)
    if scope is not None:
        countries = countries.filter(pk__in=scope)
    form = ImportUploadForm(request.POST or None, request.FILES or None, countries=countries)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = imports.batch_create(
                actor=user,
                crisis=crisis,
                source_name=form.cleaned_data["source"],
                file_name=upload.name,
                data=upload.read(),
                country=form.cleaned_data["country"],
                kind=form.cleaned_data["kind"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("import_detail", pk=batch.pk)
    batches = _batches(user, crisis).select_related("source", "created_by")[:100]
    return TemplateResponse(
        request, "registry/import_list.html", {"crisis": crisis, "form": form, "batches": batches}
    )


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _context(request)
    batch = _batch(user, crisis, pk)
    context: dict[str, object] = {"batch": batch}
    if batch.status == ImportBatch.Status.DONE:
        from aman.dedup.selectors import import_pairs_count

        context["possible_duplicates"] = import_pairs_count(batch.pk)
    if batch.status == ImportBatch.Status.UPLOADED:
        headers, _rows = imports.batch_table(batch)
        form = mapping_form(headers, batch.mapping, request.POST or None)
        mapping = batch.mapping
        if request.method == "POST" and form.is_valid():
            mapping = {k: v for k, v in form.cleaned_data.items() if v}
            try:
                if "start" in request.POST:
                    imports.batch_start(actor=user, batch=batch, mapping=mapping)
                    messages.success(request, _("The import has started."))
                    return redirect("import_detail", pk=batch.pk)
                context["preview"] = imports.batch_preview(batch, mapping)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        else:
            try:
                context["preview"] = imports.batch_preview(batch, mapping)
            except ApplicationError as exc:
                context["preview_error"] = exc.message
        context.update({"form": form, "headers": headers, "mapping": mapping})
        if context.get("preview"):
            # The preview shows the list's first rows (names, birth dates, documents): a
            # read of personal data like any other.
            audit_read(actor=user, verb="import_preview", obj=batch, crisis=crisis)
    if request.htmx and batch.status in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING):  # type: ignore[attr-defined]
        return TemplateResponse(request, "registry/_import_progress.html", context)
    return TemplateResponse(request, "registry/import_detail.html", context)


@login_required
@require_GET
def import_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _context(request)
    batch = _batch(user, crisis, pk)
    audit_read(actor=user, verb="import_rejected_download", obj=batch, crisis=crisis, export=True)
    response = HttpResponse(imports.rejected_csv(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-rejected.csv"'
    return response
