"""The broadcasts admin: drafts, the review queue, delivery control and the big delivery tables.

One module per concern; importing them registers the admins. Every state change goes through
broadcasts.services, via operator_console.admin_actions (confirm page, service call, report);
refusals are DomainErrors shown as messages or form errors, never as a 500. Permissions are
checked on the server for every button and action, not only by hiding them.
"""

from . import broadcasts, delivery, insight, policies, previews, queue  # noqa: F401  (registration)
