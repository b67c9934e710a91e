from celery import shared_task

from . import services


@shared_task
def expire_certifications_task() -> int:
    return services.expire_certifications()


@shared_task
def lift_expired_suspensions_task() -> int:
    return services.lift_expired_suspensions()


@shared_task(ignore_result=False)
def ping_task(value: str) -> str:
    """Round trip used by health checks and tests: proves broker and worker are up."""
    return f"pong:{value}"
