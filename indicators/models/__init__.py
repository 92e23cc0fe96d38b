"""Models of the ``indicators`` app (indicators, values per contract year, evidence); only re-exports."""

from indicators.models.indicators import Evidence, EvidenceKind, Feed, Indicator, IndicatorValue, TargetRevision

__all__ = ["Evidence", "EvidenceKind", "Feed", "Indicator", "IndicatorValue", "TargetRevision"]
