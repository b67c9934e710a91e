"""The admin of official accounts, followers, tags, certifications, menus and the audit log.

One module per concern; importing them registers the admins. Every state change goes through
accounts.services, via operator_console.admin_actions (confirm page, service call, report); a
refusal (DomainError) is shown to the operator as a message or form error, never as a 500.
"""

from . import accounts, audit, certifications, followers, imports, menus  # noqa: F401  (registration)
