"""Background work of transport: printing a leg's boarding passes. Thin: load ids, call
`pass_prints`."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="aman.transport.pass_print")
def _pass_print(print_id: int) -> str:
    from aman.transport.pass_prints import pass_print_run

    return pass_print_run(print_id).status


class _Dispatch:
    """Print where background work runs (`aman.registry.tasks.dispatch`): on a worker, on a
    thread of the embedded demo, or inline in tests."""

    @staticmethod
    def dispatch(print_id: int) -> None:
        from aman.registry.tasks import dispatch

        dispatch(_pass_print, f"boarding passes print {print_id}", print_id)


pass_print = _Dispatch()


@shared_task(name="aman.transport.pass_prints_tidy")
def pass_prints_tidy() -> int:
    """Delete the boarding-pass files kept past their time (the worker's beat, hourly)."""
    from aman.transport.pass_prints import pass_prints_tidy as tidy

    return tidy()
