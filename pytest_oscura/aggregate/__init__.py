"""Session aggregation: statistics, outliers, drift against the baseline, the gate. Pure.

Nothing here imports pytest. One module per concern:

* :mod:`~pytest_oscura.aggregate.config`: thresholds, the outlier method names (light).
* :mod:`~pytest_oscura.aggregate.results`: the typed shapes of the results, i.e. the JSON
  report's ``summary`` and the baseline's ``groups`` (light).
* :mod:`~pytest_oscura.aggregate.gate`: parsing and judging ``--oscura-gate`` (light).
* :mod:`~pytest_oscura.aggregate.cells`: which records count, values per (group, measurement),
  their statistics, outcome counts, units.
* :mod:`~pytest_oscura.aggregate.significance`: Benjamini–Hochberg, the rank tests, p-values.
* :mod:`~pytest_oscura.aggregate.outliers` and :mod:`~pytest_oscura.aggregate.drift`: the two
  checks, each documented with its statistics.
* :mod:`~pytest_oscura.aggregate.summary`: :func:`summarize` and the terminal text.

Importing this package stays cheap (no numpy, no scipy): the plugin's option handling imports
the light modules in every pytest run; the numeric ones load on first use of their names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_oscura.aggregate.config import DEFAULT_CONFIG, OUTLIER_METHODS, AggregateConfig

if TYPE_CHECKING:
    from pytest_oscura.aggregate.cells import (
        group_statistics,
        mixed_unit_groups,
        outcome_counts,
        unit_group,
    )
    from pytest_oscura.aggregate.drift import detect_drift
    from pytest_oscura.aggregate.gate import GateSpec, evaluate_gate, parse_gate
    from pytest_oscura.aggregate.outliers import detect_outliers
    from pytest_oscura.aggregate.results import (
        BaselineValue,
        Counts,
        DriftCell,
        DriftResult,
        Findings,
        FlaggedOutlier,
        GateVerdict,
        GroupSummary,
        OutliersResult,
        PairedTest,
        SkippedCell,
        Stats,
        Summary,
    )
    from pytest_oscura.aggregate.significance import (
        benjamini_hochberg,
        bh_adjust,
        mann_whitney_p,
        wilcoxon_p,
    )
    from pytest_oscura.aggregate.summary import format_summary, summarize

# Imported on first use: these need numpy (and scipy.special).
_LAZY = {
    "BaselineValue": "results",
    "Counts": "results",
    "DriftCell": "results",
    "DriftResult": "results",
    "Findings": "results",
    "FlaggedOutlier": "results",
    "GateVerdict": "results",
    "GroupSummary": "results",
    "OutliersResult": "results",
    "PairedTest": "results",
    "SkippedCell": "results",
    "Stats": "results",
    "Summary": "results",
    "GateSpec": "gate",
    "evaluate_gate": "gate",
    "parse_gate": "gate",
    "group_statistics": "cells",
    "mixed_unit_groups": "cells",
    "outcome_counts": "cells",
    "unit_group": "cells",
    "detect_drift": "drift",
    "detect_outliers": "outliers",
    "benjamini_hochberg": "significance",
    "bh_adjust": "significance",
    "mann_whitney_p": "significance",
    "wilcoxon_p": "significance",
    "format_summary": "summary",
    "summarize": "summary",
}


def warm_up() -> None:
    """Import the session summary's numeric modules (numpy, ``scipy.special``: 0.2-0.4 s) in a
    background thread, so that the end of a run that measures captures does not wait for them.

    Started once the run's captures are collected: the imports overlap the measuring (on a
    pool's wait, or on another CPU), instead of coming after the last item.
    """
    import threading

    def load() -> None:
        from pytest_oscura._lazy import import_lazily

        # Under the lazy-import lock: a capture being read may import scipy.io meanwhile.
        import_lazily(f"{__name__}.summary")
        import_lazily("scipy.special")  # what significance imports on first use

    threading.Thread(target=load, name="oscura-warm-up", daemon=True).start()


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)


__all__ = [
    "DEFAULT_CONFIG",
    "OUTLIER_METHODS",
    "AggregateConfig",
    "BaselineValue",
    "Counts",
    "DriftCell",
    "DriftResult",
    "Findings",
    "FlaggedOutlier",
    "GateSpec",
    "GateVerdict",
    "GroupSummary",
    "OutliersResult",
    "PairedTest",
    "SkippedCell",
    "Stats",
    "Summary",
    "benjamini_hochberg",
    "bh_adjust",
    "detect_drift",
    "detect_outliers",
    "evaluate_gate",
    "format_summary",
    "group_statistics",
    "mann_whitney_p",
    "mixed_unit_groups",
    "outcome_counts",
    "parse_gate",
    "summarize",
    "unit_group",
    "warm_up",
    "wilcoxon_p",
]
