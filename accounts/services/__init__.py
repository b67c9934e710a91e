"""Every state change of accounts, followers, certifications and menus, and the audit log.

The only writer of the accounts app's business state: admin actions, tasks, commands, the
intake and the API call these names (a public contract: `accounts.services.suspend_account`,
`follow`, `unfollow`, ...). One module per concern:

    audit           record_event, record_change, describe_changes
    certifications  submit / approve / reject / revoke_certification, expire_certifications (R4)
    status          suspend_account, reinstate_account, lift_expired_suspensions, change_account_kind
    menus           save_menu_item (R6)
    followers       follow, unfollow, apply_follower_events (R8); validate_follower, validate_tag_name
    api_credentials reset_app_secret, issue_access_token (the advanced mass interface, R4)
"""

from .api_credentials import GRANT_TYPE, issue_access_token, reset_app_secret
from .audit import AUDIT_VALUE_MAX, describe_changes, record_change, record_event
from .certifications import (
    approve_certification,
    expire_certifications,
    reject_certification,
    revoke_certification,
    submit_certification,
)
from .followers import (
    APPLIED,
    FOLLOWER_EVENTS_MAX,
    REFUSED,
    UNCHANGED,
    EventResult,
    FollowerEventIn,
    apply_follower_events,
    follow,
    set_following,
    unfollow,
    validate_follower,
    validate_tag_name,
)
from .menus import save_menu_item
from .status import change_account_kind, lift_expired_suspensions, reinstate_account, suspend_account

__all__ = [
    "set_following",
    "APPLIED",
    "AUDIT_VALUE_MAX",
    "FOLLOWER_EVENTS_MAX",
    "GRANT_TYPE",
    "REFUSED",
    "UNCHANGED",
    "EventResult",
    "FollowerEventIn",
    "apply_follower_events",
    "approve_certification",
    "change_account_kind",
    "describe_changes",
    "expire_certifications",
    "follow",
    "issue_access_token",
    "lift_expired_suspensions",
    "record_change",
    "record_event",
    "reinstate_account",
    "reject_certification",
    "reset_app_secret",
    "revoke_certification",
    "save_menu_item",
    "submit_certification",
    "suspend_account",
    "unfollow",
    "validate_follower",
    "validate_tag_name",
]
