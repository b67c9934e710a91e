"""Delivery backends, pluggable like Django's email backends (setting BROADCAST_DELIVERY_BACKEND)."""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import BaseBackend, OutgoingBatch

__all__ = ["BaseBackend", "OutgoingBatch", "get_backend"]


def get_backend(path: str | None = None, **options) -> BaseBackend:
    """An instance of the configured delivery backend (or of `path`)."""
    return import_string(path or settings.BROADCAST_DELIVERY_BACKEND)(**options)
