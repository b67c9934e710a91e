"""dispatch_broadcasts: start every approved broadcast whose send time has come (what beat does each minute)."""



from django.utils.translation import ngettext

from broadcasts import services
from operator_console.command import ConsoleCommand


class Command(ConsoleCommand):
    help = (
        "Dispatch the approved broadcasts whose send time has come, once: each goes to sending with its "
        "batches queued for the Celery workers (or to failed when its account may no longer send). "
        "Safe beside beat and other runs."
    )

    def handle(self, *args, **options):
        n = services.dispatch_due_broadcasts()
        self.stdout.write(ngettext("Dispatched %(count)s broadcast.", "Dispatched %(count)s broadcasts.", n) % {"count": n})
