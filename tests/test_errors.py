"""One registry of refusal codes: every domain error has its own registered code, and the codes never change."""

import importlib
import pkgutil

import pytest

import accounts
import broadcasts
from operator_console.errors import REGISTRY, DomainError, ErrorCode

# Shipped codes: tests, logs, alerts and API clients match on them, so none may disappear.
SHIPPED = {
    "domain_error", "invalid_state", "invalid_input", "reason_required", "already_certified",
    "certification_pending", "account_not_found", "import_header_invalid", "import_rows_invalid",
    "broadcast_error", "quota_exceeded", "no_quota_policy", "certification_required", "account_suspended",
    "four_eyes", "content_blocked", "invalid_audience", "invalid_content",
}


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _import_apps():
    for package in (accounts, broadcasts):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" in module.name or ".management" in module.name:
                continue
            importlib.import_module(module.name)


def test_every_error_class_has_its_own_registered_code(db):
    _import_apps()
    classes = [DomainError, *_all_subclasses(DomainError)]
    codes = [cls.code for cls in classes]
    assert all(code in ErrorCode._value2member_map_ for code in codes)
    assert len(codes) == len(set(codes)), f"two classes share a code: {sorted(codes)}"
    assert {cls.code: cls for cls in classes} == REGISTRY


def test_no_shipped_code_disappears():
    assert SHIPPED <= {code.value for code in ErrorCode}


def test_a_second_class_claiming_a_code_fails_at_once():
    with pytest.raises(TypeError, match="already claimed"):
        type("QuotaExceededAgain", (DomainError,), {"code": ErrorCode.QUOTA_EXCEEDED})


def test_a_class_without_a_registered_code_fails_at_once():
    with pytest.raises(TypeError, match="not registered"):
        type("Unregistered", (DomainError,), {"code": "made_up_code"})
    with pytest.raises(TypeError, match="must set its own"):
        type("NoCode", (DomainError,), {})
