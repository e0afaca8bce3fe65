"""Background work of the planner: solving a plan's inputs."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="aman.planning.plan_solve")
def _plan_solve(plan_id: int) -> str:
    from aman.planning.services import plan_solve as solve

    return solve(plan_id).status


class _Dispatch:
    """Solve where background work runs (`aman.registry.tasks.dispatch`): on a worker, on
    a thread of the embedded demo, or inline in tests."""

    @staticmethod
    def dispatch(plan_id: int) -> None:
        from aman.registry.tasks import dispatch

        dispatch(_plan_solve, f"plan {plan_id}", plan_id)


plan_solve = _Dispatch()


@shared_task(name="aman.planning.plan_publish")
def _plan_publish(plan_id: int, actor_id: int | None, language: str | None = None) -> str:
    from aman.planning.services import plan_publish_run

    return plan_publish_run(plan_id, actor_id, language).status


class _PublishDispatch:
    @staticmethod
    def dispatch(plan_id: int, actor_id: int | None, language: str | None = None) -> None:
        from aman.registry.tasks import dispatch

        dispatch(_plan_publish, f"publishing plan {plan_id}", plan_id, actor_id, language)


plan_publish = _PublishDispatch()
