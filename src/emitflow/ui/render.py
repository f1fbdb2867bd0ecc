"""Rendering pages: one Jinja2 environment over the package's templates, and its filters."""

from __future__ import annotations

import html
import json
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from emitflow.secrets import Redactor, secret_strings
from emitflow.ui.session import Session

__all__ = ["duration_text", "json_block", "page", "pretty_json", "trigger_text", "when_text"]


_ONE_LINE = 80


def pretty_json(value: Any) -> str:
    """A JSON value for a ``<pre>``: on one line when short, else indented. (The one-line form
    uses the C encoder; indenting is pure Python, ~20x slower, and a run page may hold
    thousands of values.)"""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= _ONE_LINE:
        return text
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def status_badge(value: str) -> Markup:
    """A run or task status as a coloured badge."""
    text = escape(value)
    return Markup(f'<span class="status status-{text}">{text}</span>')


def json_block(label: str, value: Any, open: bool = False) -> Markup:
    """A collapsible JSON value: ``<details>`` with its label and the JSON in a ``<pre>``."""
    shown = " open" if open else ""
    return Markup(
        f'<details class="json"{shown}><summary>{escape(label)}</summary>'
        f"<pre>{escape(pretty_json(value))}</pre></details>"
    )


def when_text(moment: datetime | None) -> str:
    """A time as ``2026-12-02 20:04:22.123Z``, or an en dash."""
    if moment is None:
        return "–"
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def duration_text(start: datetime | None, end: datetime | None) -> str:
    """How long between two times, in ms or s, or an en dash."""
    if start is None or end is None:
        return "–"
    seconds = (end - start).total_seconds()
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def trigger_text(trigger: Any) -> str:
    """What started a run, in a few words."""
    if not isinstance(trigger, dict):
        return "manual"
    words = ""
    context = trigger.get("context")
    if "schedule" in trigger:
        schedule = trigger["schedule"]
        words = f"schedule {schedule.get('kind', '')}" if isinstance(schedule, dict) else "schedule"
    elif trigger.get("kind") == "test":
        words = "test event"
    elif isinstance(context, dict) and context.get("emitter_id"):
        channel = context.get("event_name") or "default"
        words = f"event from {context['emitter_id']} ({channel})"
    else:
        words = str(trigger.get("kind") or "manual")
    if trigger.get("replay_of"):
        words += f", replay of {trigger['replay_of']}"
    return words


def _query(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("emitflow.ui", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.ChainableUndefined,
    )
    env.filters["json"] = pretty_json
    env.filters["when"] = when_text
    env.filters["trigger_text"] = trigger_text
    env.globals["duration"] = duration_text
    env.globals["json_block"] = json_block
    env.globals["status"] = status_badge
    env.globals["query"] = _query
    return env


def _redactor(request: Request) -> Redactor:
    """Masks the engine's secret values in a page: as given, HTML-escaped, and as they read
    inside JSON (a run's records may hold what a task computed from a secret). Built again
    whenever the secrets change (given at start or stored with ``PUT /v1/secrets``)."""
    state = request.app.state
    current = state.engine.secrets.current()
    cached: tuple[object, Redactor] | None = getattr(state, "ui_redactor", None)
    if cached is not None and cached[0] is current:
        return cached[1]
    forms: dict[str, str] = {}
    for name, value in current.items():
        for i, text in enumerate(secret_strings(value)):
            quoted = json.dumps(text, ensure_ascii=False)[1:-1]
            for n, form in enumerate({text, html.escape(text), html.escape(quoted)}):
                forms[f"{name}#{i}.{n}"] = form
    redactor = Redactor(forms)
    state.ui_redactor = (current, redactor)
    return redactor


def page(
    request: Request,
    template: str,
    session: Session | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A rendered page; every page gets the session (for its CSRF token and write rights)."""
    text = _environment().get_template(template).render(request=request, session=session, **context)
    text = _redactor(request).text(text)
    return HTMLResponse(
        text,
        status_code=status_code,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )
