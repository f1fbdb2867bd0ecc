"""The DSL versions emitflow reads, and how each older one differs from the current 1.0.3.

A document is judged by the rules of the version it declares. Other runtimes' fixtures
(Synapse, the Java SDK) are written for 1.0.0 and its drafts (``1.0.0-alpha5``,
``1.0.0-rc1``); they load with a warning instead of being refused. The differences are encoded
here rather than read from the official schemas at run time: the one that matters to a document
that loads is that before 1.0.3 ``run.*.arguments`` was a map (flag → value), and since 1.0.3 it
is a list of argv strings (``tests/conformance/test_versions.py`` checks this against the
published schema).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CURRENT", "RELEASED", "Dialect", "dialect"]

#: The version emitflow is written for.
CURRENT = "1.0.3"
#: The released versions emitflow reads (earlier ones with a warning).
RELEASED = ("1.0.0", "1.0.1", "1.0.2", "1.0.3")

_PRERELEASE = re.compile(r"^(\d+\.\d+\.\d+)-((?:alpha|beta|rc)[.-]?\d*)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """How a declared version is read: its rules, and the warning that goes with it."""

    declared: str
    #: ``run.*.arguments`` may be a map (DSL 1.0.0–1.0.2 and their drafts).
    arguments_map: bool = False
    warning: str | None = None


def dialect(declared: str) -> Dialect | None:
    """The rules for a ``document.dsl`` version, or ``None`` when emitflow does not read it."""
    if declared == CURRENT:
        return Dialect(declared=declared)
    if declared in RELEASED:
        return Dialect(
            declared=declared,
            arguments_map=True,
            warning=(
                f"this document is written for DSL {declared}; emitflow runs {CURRENT} and reads "
                f"it by {declared}'s rules (run arguments may be a map); write dsl: '{CURRENT}' "
                "once it follows 1.0.3"
            ),
        )
    draft = _PRERELEASE.match(declared)
    if draft is not None and draft.group(1) == "1.0.0":
        return Dialect(
            declared=declared,
            arguments_map=True,
            warning=(
                f"DSL {declared} is a pre-release draft of 1.0.0; emitflow reads it by 1.0.0's "
                f"rules, and what the draft changed later is reported as errors of {CURRENT}; "
                f"write dsl: '{CURRENT}' once it follows the released DSL"
            ),
        )
    return None
