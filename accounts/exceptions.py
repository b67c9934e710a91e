"""Domain errors shared by every app: a stable `code` and a sentence for a person."""


class DomainError(Exception):
    """A refused action. `code` never changes once shipped; the message is for people."""

    code = "domain_error"

    def __init__(self, message: str, **context):
        super().__init__(message)
        self.message = message
        self.context = context


class InvalidState(DomainError):
    code = "invalid_state"


class InvalidInput(DomainError):
    code = "invalid_input"


class AlreadyCertified(DomainError):
    code = "already_certified"


class CertificationPending(DomainError):
    code = "certification_pending"


class ReasonRequired(DomainError):
    code = "reason_required"
