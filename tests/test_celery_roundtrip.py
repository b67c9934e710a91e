import pytest

from accounts.tasks import ping_task

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_task_round_trip_through_real_redis_and_worker(celery_worker_process):
    result = ping_task.delay("hello")
    assert result.get(timeout=60) == "pong:hello"
