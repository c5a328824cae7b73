"""The reasons an erasure of personal data may record (``domain.personal_data`` applies
them). A module of its own, importing nothing: ``ladder erase --help`` lists them without
loading the domain's events and rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

ERASURE_REASONS: Final[Mapping[str, str]] = {
    "SUBJECT_REQUEST": "The person asked for erasure (GDPR article 17).",
    "RETENTION_EXPIRED": "The retention period for the person's data ended.",
    "LEGAL_OBLIGATION": "A law or a court order requires the erasure.",
    "CONSENT_WITHDRAWN": "The person withdrew the consent the data was kept on.",
}
"""The reasons an erasure may record: codes, so the erasure event holds no free text."""
