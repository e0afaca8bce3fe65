"""A real Celery task, sent through the real broker and run by a real `aman worker`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from aman.core.tasks import crisis_summary
from tests.factories import CrisisFactory, country

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(geo: None) -> Iterator[subprocess.Popen[str]]:
    if not settings.CELERY_BROKER_URL:
        pytest.skip("needs a broker: CELERY_BROKER_URL (.ci/run sets it for the PostgreSQL pass)")
    if connection.vendor != "postgresql":
        pytest.skip("the worker process must reach the test database: PostgreSQL only")
    env = {**os.environ, "DATABASE_URL": _database_url()}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "aman"),
            "worker",
            "--concurrency",
            "1",
            "--loglevel",
            "warning",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_a_task_runs_in_a_real_worker_through_the_broker(worker: subprocess.Popen[str]) -> None:
    crisis = CrisisFactory(code="worker-check", affected_countries=[country("IR"), country("AZ")])
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    result = crisis_summary.delay(crisis.pk)
    try:
        summary = result.get(timeout=60)
    except Exception:
        worker.terminate()
        output = worker.communicate(timeout=20)[0]
        raise AssertionError(f"the worker did not answer; its output:\n{output}") from None
    assert summary == {
        "id": crisis.pk,
        "code": "worker-check",
        "status": "open",
        "affected_countries": ["AZ", "IR"],
    }
    assert result.successful()


def test_a_queued_registration_is_registered_by_the_real_worker(
    worker: subprocess.Popen[str], settings: Any
) -> None:
    import time

    from aman.core.roles import Role
    from aman.registry.models import IntakeRecord
    from aman.registry.services import Submission, registration_accept
    from tests.factories import UserFactory

    settings.AMAN_IMPORTS_RUN = "worker"  # the tests' default is inline
    crisis = CrisisFactory(code="worker-intake", affected_countries=[country("IR")])
    operator = UserFactory(username="worker-operator", role=Role.OPERATOR)
    queued = registration_accept(
        crisis=crisis,
        submission=Submission(
            channel="api",
            actor=operator,
            payload={
                "members": [{"surname": "Ли", "given_names": "Анна"}],
                "location": {"country": "IR"},
                "consent": True,
            },
        ),
    )
    assert queued.record.outcome == "pending"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        queued.record.refresh_from_db()
        if queued.record.outcome != "pending":
            break
        time.sleep(0.2)
    else:
        worker.terminate()
        output = worker.communicate(timeout=20)[0]
        raise AssertionError(f"still pending after 60 s; the worker said:\n{output}")
    assert queued.record.outcome == IntakeRecord.Outcome.ACCEPTED
    [person] = queued.record.people.all()
    assert person.reference_code == queued.record.reference_codes[0]


def test_a_legs_passes_are_printed_by_the_real_worker(
    worker: subprocess.Popen[str], world: Any, settings: Any
) -> None:
    import time

    from aman.core.roles import Role
    from aman.transport import pass_prints, services
    from aman.transport.models import PassPrint
    from tests.transport.conftest import make_leg, register_household
    from tests.transport.pdftext import pdf_pages

    settings.AMAN_IMPORTS_RUN = "worker"  # the tests' default is inline
    logistics = world.users[Role.LOGISTICS]
    leg = make_leg(world)
    services.leg_book(actor=logistics, leg=leg, households=[register_household(world, 3)])
    job, created = pass_prints.pass_print_start(actor=logistics, leg=leg, inline=False)
    assert created and job.status == "queued"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in ("done", "failed"):
            break
        time.sleep(0.2)
    else:
        worker.terminate()
        output = worker.communicate(timeout=20)[0]
        raise AssertionError(f"still {job.status} after 90 s; the worker said:\n{output}")
    assert (job.status, job.done, job.error) == ("done", 3, "")
    assert PassPrint.objects.get(pk=job.pk).content  # kept, encrypted, with the print
    file = pass_prints.pass_print_file(actor=logistics, job=job)
    assert pdf_pages(file.content) == 3
