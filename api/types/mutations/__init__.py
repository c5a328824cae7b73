"""The write side: one mutation per domain command, grouped by family.

Every mutation takes one ``input`` (with optional ``idempotencyKey`` and
``expectedVersion``) and returns a payload with the log ``position`` it reached, the
``streamVersion`` of the stream it was judged against, and ``errors`` (empty on success).
"""

from __future__ import annotations

from api.types.mutations.corrections import CorrectionMutation
from api.types.mutations.development import DevelopmentMutation
from api.types.mutations.erasure import ErasureMutation
from api.types.mutations.hiring import HiringMutation
from api.types.mutations.ladders import LadderMutation
from api.types.mutations.level_changes import LevelChangeMutation
from api.types.mutations.mentoring import MentoringMutation
from api.types.mutations.onboarding import OnboardingMutation
from api.types.mutations.promotion_cases import PromotionWorkflowMutation

MUTATIONS: tuple[type, ...] = (
    HiringMutation,
    LevelChangeMutation,
    MentoringMutation,
    DevelopmentMutation,
    CorrectionMutation,
    LadderMutation,
    OnboardingMutation,
    PromotionWorkflowMutation,
    ErasureMutation,
)

__all__ = ["MUTATIONS"]
