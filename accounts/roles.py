"""The console's roles as Django groups: operator, reviewer, auditor.

Permissions are named as strings so this module needs no other app's code. The auth
models are looked up through the app registry when the roles are synced, so apps.py can
import this module before the registry is ready.
"""

from django.apps import apps

VIEW_ALL = [
    "accounts.view_officialaccount",
    "accounts.view_follower",
    "accounts.view_tag",
    "accounts.view_certification",
    "accounts.view_menuitem",
    "accounts.view_auditevent",
    "accounts.view_followerimport",
    "broadcasts.view_broadcast",
    "broadcasts.view_quotapolicy",
    "broadcasts.view_quotareservation",
    "broadcasts.view_contentrule",
    "broadcasts.view_violation",
    "broadcasts.view_delivery",
    "broadcasts.view_inboxmessage",
    "broadcasts.view_deliverybatch",
    "broadcasts.view_pushattempt",
    "broadcasts.view_previewmessage",
    "broadcasts.view_unfollowflag",
]

ROLES = {
    # Prepares broadcasts and looks after followers, tags and menus.
    "operator": VIEW_ALL
    + [
        "accounts.add_follower",
        "accounts.change_follower",
        "accounts.add_followerimport",
        "accounts.add_tag",
        "accounts.change_tag",
        "accounts.add_menuitem",
        "accounts.change_menuitem",
        "accounts.delete_menuitem",
        "accounts.add_certification",
        "broadcasts.add_broadcast",
        "broadcasts.change_broadcast",
        "broadcasts.submit_broadcast",
    ],
    # Decides: approves or rejects broadcasts and certifications, suspends accounts.
    "reviewer": VIEW_ALL
    + [
        "accounts.change_officialaccount",
        "accounts.change_certification",
        "accounts.review_certification",
        "accounts.suspend_account",
        "accounts.change_account_kind",
        "accounts.reset_app_secret",
        "broadcasts.change_broadcast",
        "broadcasts.approve_broadcast",
        "broadcasts.control_delivery",
        "broadcasts.change_contentrule",
        "broadcasts.add_contentrule",
    ],
    # Reads everything, changes nothing.
    "auditor": VIEW_ALL,
}


def sync_roles() -> None:
    """Create the groups and grant the permissions that exist so far (idempotent)."""
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")  # noqa: N806
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.add(*wanted)
