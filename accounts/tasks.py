"""Celery tasks of the accounts app: thin wrappers around the services, with stable names (beat rows store them)."""

from celery import shared_task

from . import imports, services
from .task_names import IMPORT_FOLLOWERS


@shared_task(name="accounts.tasks.expire_certifications_task")
def expire_certifications_task() -> int:
    """Beat, daily: approved certifications whose validity ended become expired."""
    return services.expire_certifications()


@shared_task(name="accounts.tasks.lift_expired_suspensions_task")
def lift_expired_suspensions_task() -> int:
    """Beat, every 5 minutes: accounts whose suspension ran out are reinstated."""
    return services.lift_expired_suspensions()


@shared_task(name="accounts.tasks.ping_task", ignore_result=False)
def ping_task(value: str) -> str:
    """Round trip used by health checks and tests: proves broker and worker are up."""
    return f"pong:{value}"


@shared_task(name=IMPORT_FOLLOWERS, acks_late=True)
def import_followers_task(import_id: int) -> None:
    """A follower import uploaded in the admin (run once: a redelivery finds it taken)."""
    imports.run_follower_import(import_id)
