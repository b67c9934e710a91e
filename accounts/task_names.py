"""The stable names of the accounts app's Celery tasks: services queue work by name (so no service
imports tasks.py); never change one."""

IMPORT_FOLLOWERS = "accounts.tasks.import_followers_task"
