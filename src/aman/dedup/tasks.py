"""Background work of the duplicates: a linkage run over a whole crisis."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="aman.dedup.linkage_run")
def _linkage_run(run_id: int) -> dict[str, int]:
    from aman.dedup.batch import linkage_run_execute

    run = linkage_run_execute(run_id)
    return {"pairs_new": run.pairs_new, "auto_merged": run.auto_merged}


class _Dispatch:
    """Queue a linkage run where background work runs (`aman.registry.tasks.dispatch`)."""

    @staticmethod
    def dispatch(run_id: int) -> None:
        from aman.registry.tasks import dispatch

        dispatch(_linkage_run, f"linkage run {run_id}", run_id)


linkage_run = _Dispatch()
