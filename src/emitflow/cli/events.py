"""``emitflow events list|tail``: the event log of the local store or of a server.

Without ``--server`` the store is ``--store`` (default ``sqlite:///$EMITFLOW_HOME/emitflow.db``,
``EMITFLOW_HOME`` defaulting to ``./.emitflow``). A store that does not exist, or an emitter
nothing is known of, is said so (exit 1) rather than listed as empty.
"""

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from emitflow.cli.options import (
    EXIT_FAILED,
    JsonOption,
    ServerOption,
    StoreOption,
    TokenOption,
    WideOption,
    fail,
    print_json,
)

if TYPE_CHECKING:
    from emitflow.cli.client import ServerClient
    from emitflow.store import Store

__all__ = ["app"]

app = typer.Typer(name="events", help="Stored events, local or on a server.", no_args_is_help=True)

EventName = Annotated[
    str,
    typer.Option("--event-name", envvar="EMITFLOW_EVENT_NAME", help="The channel ('' = default)."),
]


@app.command("list")
def list_events(
    emitter: Annotated[
        str | None,
        typer.Option("--emitter", envvar="EMITFLOW_EMITTER", help="Only this emitter's events."),
    ] = None,
    event_name: EventName = "",
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel",
            envvar="EMITFLOW_CHANNEL",
            help="The channel to show ('' = default, '$errors', '*' = every channel).",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", envvar="EMITFLOW_LIMIT", min=1, max=100, help="1..100.")
    ] = 10,
    before: Annotated[
        str | None,
        typer.Option("--before", envvar="EMITFLOW_BEFORE", help="Older than this position."),
    ] = None,
    after: Annotated[
        str | None,
        typer.Option("--after", envvar="EMITFLOW_AFTER", help="Newer than this position."),
    ] = None,
    store: StoreOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """List stored events of one channel (--channel; '*' = all), newest first; page with
    --before/--after (positions)."""
    shown = channel if channel is not None else event_name
    selected = None if shown == "*" else shown
    params: dict[str, Any] = {"emitter_id": emitter, "event_name": selected, "limit": limit}
    params.update(before=before, after=after)
    params = {k: v for k, v in params.items() if v is not None}
    if server:
        from emitflow.cli.client import ServerClient

        client = ServerClient(server, token)
        page = client.call("GET", "/v1/events", params=params)
        if emitter and not page["data"] and not (before or after):
            _check_remote_emitter(client, emitter)
    else:
        page = _local_page(store, emitter, selected, limit, before, after)
    if as_json:
        print_json({"channel": shown, **page})
    else:
        from emitflow.cli.tables import short_id

        who = (emitter if wide else short_id(emitter)) if emitter else "every emitter"
        show_events(page, wide=wide, shown=f"{who}, {_channel_text(shown)}")


def _channel_text(channel: str) -> str:
    if channel == "*":
        return "every channel"
    return "the default channel" if channel == "" else f"channel {channel!r}"


def _local_page(
    store: str | None,
    emitter: str | None,
    event_name: str | None,
    limit: int,
    before: str | None,
    after: str | None,
) -> dict[str, Any]:
    from emitflow.cli.local import with_store
    from emitflow.store import EventQuery
    from emitflow.store.views import page_body, stored_view

    async def fetch(opened: "Store") -> dict[str, Any]:
        query = EventQuery(emitter_id=emitter, channel=event_name)
        page = await opened.list_events(query, limit=limit, before=before, after=after)
        if emitter and not page.items and not (before or after):
            await _check_local_emitter(opened, emitter)
        return page_body(page, stored_view)

    return with_store(store, fetch)


async def _check_local_emitter(store: "Store", emitter: str) -> None:
    from emitflow.errors import NotFoundError
    from emitflow.store import EventQuery

    if emitter.endswith("_*"):
        return
    if emitter.startswith("p_"):
        try:
            await store.get_workflow(emitter)
            return
        except NotFoundError:
            pass
    anywhere = await store.list_events(EventQuery(emitter_id=emitter, channel=None), limit=1)
    if not anywhere.items:
        raise _unknown(emitter)


def _check_remote_emitter(client: "ServerClient", emitter: str) -> None:
    if emitter.endswith("_*"):
        return
    if emitter.startswith("p_"):
        listed = client.call("GET", "/v1/workflows")
        if any(item["id"] == emitter for item in listed["data"]):
            return
    anywhere = client.call("GET", "/v1/events", params={"emitter_id": emitter, "limit": 1})
    if not anywhere["data"]:
        raise _unknown(emitter)


def _unknown(emitter: str) -> typer.Exit:
    return fail(
        f"no emitter {emitter!r}: no workflow has that id and no event came from it; "
        "workflows are p_…, event sources dc_… (see `emitflow events list` without --emitter)",
        EXIT_FAILED,
    )


def show_events(page: dict[str, Any], *, wide: bool, shown: str = "") -> None:
    """A page of stored events (as ``GET /v1/events`` gives it) as a table."""
    from emitflow.cli.tables import Column, show

    columns = [
        Column(title="position"),
        Column(title="emitter", kind="id"),
        Column(title="channel"),
        Column(title="type", kind="text"),
        Column(title="data", kind="text"),
    ]
    rows = []
    for item in page["data"]:
        event = item["event"]
        data = json.dumps(event.get("data"), ensure_ascii=False)
        channel = item["event_name"] or "(default)"
        rows.append([item["id"], item["emitter_id"], channel, str(event.get("type", "")), data])
    info = page["page_info"]
    total = "?" if info.get("total_count") is None else info["total_count"]
    what = f"events of {shown}" if shown else "events"
    show(columns, rows, wide=wide, title=f"{what} ({info['count']} of {total})")
    if info.get("has_more") and info.get("end_cursor"):
        typer.echo(f"more: --before {info['end_cursor']}")


@app.command("tail")
def tail(
    emitter: Annotated[
        str | None,
        typer.Option("--emitter", envvar="EMITFLOW_EMITTER", help="Only this emitter."),
    ] = None,
    event_name: Annotated[
        str | None,
        typer.Option("--event-name", envvar="EMITFLOW_EVENT_NAME", help="Only this channel."),
    ] = None,
    after: Annotated[
        str | None,
        typer.Option("--after", envvar="EMITFLOW_AFTER", help="Replay after this position."),
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", envvar="EMITFLOW_JSON", help="One JSON object per line.")
    ] = False,
) -> None:
    """Follow the server's events as they are stored (Ctrl-C stops)."""
    from emitflow.cli.client import ServerClient, need_server

    client = ServerClient(need_server(server, "events tail"), token)
    params = {k: v for k, v in {"emitter_id": emitter, "event_name": event_name}.items() if v}
    what = " ".join(f"{k}={v}" for k, v in params.items()) or "every event"
    since = f", after {after}" if after else ""
    typer.echo(f"following {client.base}/v1/events/stream ({what}{since}); Ctrl-C stops", err=True)
    try:
        _follow(client, params, after, as_json)
    except KeyboardInterrupt:
        return


def _follow(
    client: "ServerClient", params: dict[str, str], after: str | None, as_json: bool
) -> None:
    import httpx

    headers = {**client.headers, **({"Last-Event-ID": after} if after else {})}
    url = client.base + "/v1/events/stream"
    try:
        with httpx.stream("GET", url, params=params, headers=headers, timeout=None) as answer:
            if answer.status_code >= 400:
                client.refuse(answer.status_code, answer.read().decode("utf-8", "replace"))
            for line in answer.iter_lines():
                if line.startswith("data:"):
                    _print_tailed(json.loads(line[5:]), as_json)
    except httpx.HTTPError as exc:
        raise fail(f"{client.base}: the stream broke ({exc})", EXIT_FAILED) from None


def _print_tailed(item: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(item, ensure_ascii=False))
        return
    event = item["event"]
    data = json.dumps(event.get("data"), ensure_ascii=False)
    channel = item["event_name"] or "(default)"
    typer.echo(f"{item['id']}  {item['emitter_id']}  {channel}  {event.get('type')}  {data}")
