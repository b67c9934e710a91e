"""The stable names of the broadcasts app's Celery tasks.

Beat rows (django-celery-beat, seeded by migrations) store these names, and services queue
work by name (so no service imports tasks.py). They are the names the tasks had when they
were named after their module: never change one; a task can move file, its name stays.
"""

DELIVER_BATCH = "broadcasts.tasks.deliver_batch_task"
DISPATCH_DUE_BROADCASTS = "broadcasts.tasks.dispatch_due_broadcasts_task"
REQUEUE_STALE_BATCHES = "broadcasts.tasks.requeue_stale_batches_task"
PUSH_JOB_FINISHED = "broadcasts.tasks.push_job_finished_task"
MEASURE_UNFOLLOWS = "broadcasts.tasks.measure_unfollows_task"
