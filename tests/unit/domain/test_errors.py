import inspect
import re

from domain import errors


def all_error_classes() -> list[type[errors.LadderError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.LadderError) and cls is not errors.LadderError
    ]


def test_every_error_has_a_stable_upper_snake_code() -> None:
    for cls in all_error_classes():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", cls.code), cls


def test_no_two_errors_share_a_code() -> None:
    codes = [cls.code for cls in all_error_classes()]
    assert len(codes) == len(set(codes))


def test_an_error_carries_message_field_and_ids_as_strings() -> None:
    from uuid import uuid4

    pid = uuid4()
    error = errors.LevelSkipped("skipped", ids={"personId": pid})
    assert error.code == "LEVEL_SKIPPED"
    assert error.message == "skipped"
    assert error.field == "toLevel"
    assert error.ids == {"personId": str(pid)}
    assert str(error) == "skipped"


def test_the_field_at_fault_can_be_overridden() -> None:
    assert errors.UnknownLevel("no", field="toLevel").field == "toLevel"


def test_the_issue_codes_exist() -> None:
    expected = {
        "PERSON_NOT_FOUND",
        "PERSON_ALREADY_EXISTS",
        "UNKNOWN_TRACK",
        "UNKNOWN_LEVEL",
        "LEVEL_SKIPPED",
        "NOT_A_PROMOTION",
        "NOT_A_DEMOTION",
        "INSUFFICIENT_EXPERIENCE",
        "EFFECTIVE_DATE_BEFORE_HIRE",
        "EFFECTIVE_DATE_AFTER_DEPARTURE",
        "EFFECTIVE_DATE_TOO_FAR_AHEAD",
        "LEVEL_ALREADY_CHANGED_ON_DATE",
        "PERSON_DEPARTED",
        "PERSON_NOT_DEPARTED",
        "SELF_MENTORSHIP",
        "MENTOR_NOT_SENIOR",
        "MENTOR_AT_CAPACITY",
        "MENTORSHIP_ALREADY_ACTIVE",
        "MENTORSHIP_NOT_FOUND",
        "MENTORSHIP_ALREADY_ENDED",
        "END_BEFORE_START",
        "ROTATION_OVERLAP",
        "ROTATION_NOT_FOUND",
        "ROTATION_ALREADY_ENDED",
        "EVENT_NOT_FOUND",
        "INVALID_CORRECTION",
        "LADDER_INVALID",
        "VALIDATION_ERROR",
    }
    assert expected <= {cls.code for cls in all_error_classes()}


def test_ladder_invalid_lists_every_problem_in_its_message() -> None:
    error = errors.LadderInvalid(["a is wrong", "b is wrong"], source="x.toml")
    assert error.problems == ["a is wrong", "b is wrong"]
    assert "a is wrong" in error.message
    assert "b is wrong" in error.message
    assert "x.toml" in error.message
