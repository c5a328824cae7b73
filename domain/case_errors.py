"""The promotion workflow's errors (``domain.promotion_cases``): children of
``LadderError`` with stable codes, like every domain error."""

from __future__ import annotations

from domain import errors


class PromotionCaseNotFound(errors.LadderError):
    code = "PROMOTION_CASE_NOT_FOUND"
    default_field = "caseId"


class PromotionCaseExists(errors.LadderError):
    code = "PROMOTION_CASE_ALREADY_EXISTS"
    default_field = "caseId"


class PromotionCaseClosed(errors.LadderError):
    """The case was already approved, declined or withdrawn."""

    code = "PROMOTION_CASE_CLOSED"
    default_field = "caseId"


class NominationAlreadyOpen(errors.LadderError):
    """The person already has an undecided case."""

    code = "NOMINATION_ALREADY_OPEN"
    default_field = "personId"


class NotAllowedOnCase(errors.LadderError):
    """The actor is not HR, the nominator nor one of the person's managers."""

    code = "NOT_ALLOWED_ON_CASE"


class NotANamedReviewer(errors.LadderError):
    code = "NOT_A_NAMED_REVIEWER"
    default_field = "caseId"


class SelfReview(errors.LadderError):
    """Nobody nominates, reviews or names as reviewer the person the case is about."""

    code = "SELF_REVIEW"


class PromotionCycleNotFound(errors.LadderError):
    code = "PROMOTION_CYCLE_NOT_FOUND"
    default_field = "cycleId"


class PromotionCycleExists(errors.LadderError):
    code = "PROMOTION_CYCLE_ALREADY_EXISTS"
    default_field = "cycleId"


class PromotionCycleAlreadyOpen(errors.LadderError):
    code = "PROMOTION_CYCLE_ALREADY_OPEN"
    default_field = "cycleId"


class PromotionCycleClosed(errors.LadderError):
    code = "PROMOTION_CYCLE_CLOSED"
    default_field = "cycleId"
