"""The accounts app's data: `accounts` (official accounts, tags, followers and their follow history,
certifications), `menus` (the custom menu, R6) and `records` (the audit log, follower imports).
`from accounts.models import X` is the one import path of every name."""

from .accounts import (
    CERTIFICATION_VALIDITY,
    ENCODING_AES_KEY_PATTERN,
    SERVER_TOKEN_PATTERN,
    Certification,
    CertificationQuerySet,
    Follower,
    FollowerEvent,
    OfficialAccount,
    OfficialAccountQuerySet,
    Tag,
    generate_app_id,
    one_year_later,
)
from .menus import (
    MENU_CHILD_NAME_MAX_BYTES,
    MENU_KEY_MAX_BYTES,
    MENU_MAX_CHILDREN,
    MENU_MAX_TOP_LEVEL,
    MENU_TOP_NAME_MAX_BYTES,
    MENU_URL_MAX_BYTES,
    MenuItem,
)
from .records import AuditEvent, FollowerImport

__all__ = [
    "CERTIFICATION_VALIDITY",
    "ENCODING_AES_KEY_PATTERN",
    "MENU_CHILD_NAME_MAX_BYTES",
    "MENU_KEY_MAX_BYTES",
    "MENU_MAX_CHILDREN",
    "MENU_MAX_TOP_LEVEL",
    "MENU_TOP_NAME_MAX_BYTES",
    "MENU_URL_MAX_BYTES",
    "SERVER_TOKEN_PATTERN",
    "AuditEvent",
    "Certification",
    "CertificationQuerySet",
    "Follower",
    "FollowerEvent",
    "FollowerImport",
    "MenuItem",
    "OfficialAccount",
    "OfficialAccountQuerySet",
    "Tag",
    "generate_app_id",
    "one_year_later",
]
