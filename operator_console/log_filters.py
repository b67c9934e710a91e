"""Logging filters of the console (settings.LOGGING).

Django logs every 403 on `django.request` with the PermissionDenied's traceback. A permission
refused is an answer, not a fault: its warning line stays, its traceback goes, so a real error's
traceback is not lost among them. (A 404 is logged without one already.)
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied


class RefusalWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info, record.exc_text = None, None
        return True
