"""Routes: ``event_summaries`` of a workflow or a source, and deleting a source's events.

Pages are newest first; ``before``/``after`` are positions (``<epoch_ms>-<seq>``), the cursors
of ``page_info``. ``channel`` (or ``event_name``) picks a channel: the default ``""``, a name,
``$errors`` for faults, or ``*`` for every channel; the answer's ``channel`` says which it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from emitflow.api.auth import Scope, require
from emitflow.api.deps import EngineDep, PageLimit
from emitflow.errors import RequestError
from emitflow.store.codec import (
    MAX_POSITION_MS,
    MAX_POSITION_SEQ,
    POSITION_PATTERN,
    position_problem,
)
from emitflow.store.records import EventQuery, StoredEvent
from emitflow.store.views import event_summary, page_body

__all__ = ["ALL_CHANNELS", "Cursor", "check_position", "router"]

router = APIRouter(tags=["events"])
_read = [Depends(require(Scope.READ))]

# The pattern is documented, not enforced by FastAPI: ``check_position`` answers 400 with the
# store's own reason, also for what the pattern admits but a position cannot hold.
Cursor = Annotated[
    str | None,
    Query(
        description=(
            f"A position <epoch_ms>-<seq> (epoch_ms at most {MAX_POSITION_MS}, "
            f"seq at most {MAX_POSITION_SEQ})."
        ),
        json_schema_extra={"pattern": POSITION_PATTERN},
    ),
]
Expand = Annotated[str | None, Query(description="'event' for whole payloads.")]
ChannelName = Annotated[
    str | None, Query(description="A channel: '' (the default), a name, '$errors', or '*' (all).")
]
#: The ``channel`` value that shows every channel.
ALL_CHANNELS = "*"


def check_position(value: str | None, name: str) -> str | None:
    """A cursor as given, or a 400 naming the parameter and the form it takes."""
    if value is None:
        return None
    problem = position_problem(value)
    if problem is not None:
        raise RequestError(400, "bad_request", f"{name}={value!r} is not a position: {problem}")
    return value


@dataclass(frozen=True, slots=True)
class SummaryParams:
    """The query of an ``event_summaries`` page, checked."""

    limit: int
    before: str | None
    after: str | None
    expand: bool
    #: The channel shown: a name (``""`` the default one), or ``ALL_CHANNELS``.
    channel: str


async def summary_params(
    limit: PageLimit,
    before: Cursor = None,
    after: Cursor = None,
    expand: Expand = None,
    event_name: ChannelName = None,
    channel: ChannelName = None,
) -> SummaryParams:
    """The page query from the request, or a 400 naming the parameter at fault."""
    if expand not in (None, "", "event"):
        raise RequestError(400, "bad_request", f"expand={expand!r}: the only expansion is 'event'")
    if channel is not None and event_name is not None and channel != event_name:
        raise RequestError(
            400, "bad_request", "channel and event_name name the same thing: give one of them"
        )
    return SummaryParams(
        limit=limit,
        before=check_position(before, "before"),
        after=check_position(after, "after"),
        expand=expand == "event",
        channel=channel if channel is not None else (event_name or ""),
    )


Summaries = Annotated[SummaryParams, Depends(summary_params)]


async def _summaries(engine: EngineDep, emitter_id: str, params: SummaryParams) -> dict[str, Any]:
    channel = None if params.channel == ALL_CHANNELS else params.channel
    page = await engine.list_events(
        EventQuery(emitter_id=emitter_id, channel=channel),
        limit=params.limit,
        before=params.before,
        after=params.after,
    )

    def view(stored: StoredEvent) -> dict[str, Any]:
        return event_summary(stored, expand=params.expand)

    return {"channel": params.channel, **page_body(page, view)}


@router.get("/v1/workflows/{workflow_id}/event_summaries", dependencies=_read)
async def workflow_event_summaries(
    workflow_id: str, engine: EngineDep, params: Summaries
) -> dict[str, Any]:
    """The events a workflow emitted, newest first."""
    await engine.get_workflow(workflow_id)
    return await _summaries(engine, workflow_id, params)


@router.get("/v1/sources/{source_id}/event_summaries", dependencies=_read)
async def source_event_summaries(
    source_id: str, engine: EngineDep, params: Summaries
) -> dict[str, Any]:
    """The events of a source (``dc_…``: ingested CloudEvents of one ``source``), newest first."""
    return await _summaries(engine, source_id, params)


@router.delete("/v1/sources/{source_id}/events", dependencies=[Depends(require(Scope.ADMIN))])
async def delete_source_events(
    source_id: str,
    engine: EngineDep,
    start_id: Cursor = None,
    end_id: Cursor = None,
    event_name: str | None = None,
) -> dict[str, Any]:
    """Delete a source's events from ``start_id`` to ``end_id`` (inclusive; open ends)."""
    deleted = await engine.delete_events(
        source_id,
        start=check_position(start_id, "start_id"),
        end=check_position(end_id, "end_id"),
        channel=event_name,
    )
    return {"data": {"deleted": deleted}}
