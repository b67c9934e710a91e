import shutil
import subprocess
import time
from urllib.parse import urlparse

import redis
from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from operator_console.command import ConsoleCommand

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Command(ConsoleCommand):
    help = "Check that a Redis answers at CELERY_BROKER_URL; start a local one when it is local and down."

    def add_arguments(self, parser):
        parser.add_argument("--no-start", action="store_true", help="Only check; never start a local Redis.")

    def handle(self, *args, no_start=False, **options):
        url = settings.CELERY_BROKER_URL
        if self._answers(url):
            self.stdout.write(_("Redis answers at %(url)s.") % {"url": self._safe(url)})
            return
        parsed = urlparse(url)
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
        if not no_start and host in LOCAL_HOSTS and shutil.which("redis-server"):
            self.stdout.write(
                _("No Redis answers at %(url)s; starting a local one on port %(port)s…") % {"url": self._safe(url), "port": port}
            )
            subprocess.run(
                ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port),
                 "--save", "", "--appendonly", "no"],
                check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            for _attempt in range(40):
                if self._answers(url):
                    self.stdout.write(_("Redis started and answers at %(url)s.") % {"url": self._safe(url)})
                    return
                time.sleep(0.25)
        raise CommandError(
            _(
                "No Redis answers at %(url)s (CELERY_BROKER_URL); the worker and beat need it. "
                "Start one with `redis-server --daemonize yes --bind 127.0.0.1 --port %(port)s --save '' --appendonly no` "
                "(Debian: apt-get install redis-server), or point CELERY_BROKER_URL at a running Redis."
            )
            % {"url": self._safe(url), "port": port}
        )

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
        except (redis.RedisError, OSError, ValueError):
            return False

    @staticmethod
    def _safe(url: str) -> str:
        parsed = urlparse(url)
        if parsed.password:
            return url.replace(f":{parsed.password}@", ":***@")
        return url
