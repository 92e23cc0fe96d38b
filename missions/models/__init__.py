"""Models of the ``missions`` app (ACI contract, missions, deadlines, actions); this package only re-exports."""

from missions.models.actions import Action, ActionParticipation
from missions.models.contract import (
    Avenant,
    Contract,
    ContractMission,
    DeadlineChange,
    DeadlineKind,
    MissionStatus,
)
from missions.models.reference import (
    ACIVersion,
    ActionType,
    Direction,
    IndicatorTemplate,
    MissionKind,
    MissionType,
    SizeBand,
    Source,
    Unit,
)

__all__ = [
    "ACIVersion", "Action", "ActionParticipation", "ActionType", "Avenant", "Contract", "ContractMission",
    "DeadlineChange", "DeadlineKind", "Direction", "IndicatorTemplate", "MissionKind", "MissionStatus",
    "MissionType", "SizeBand", "Source", "Unit",
]
