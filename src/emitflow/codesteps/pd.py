"""The ``pd`` object a code step's ``handler(pd)`` receives, as in Pipedream's Python steps.

``pd.steps`` and ``pd.secrets`` are read-only mappings; ``pd.send.emit``, ``pd.export`` and
``pd.respond`` record what the step hands back; ``pd.flow.exit`` ends the handler and the run.
Every value is turned into JSON at the moment it is given, so later changes to a dict the step
already emitted do not change the event, and a value that is not JSON fails at the line that
gave it, with the step, the call and the value's type in the message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NoReturn

from emitflow.codesteps.limits import Limits
from emitflow.codesteps.responses import check_response

__all__ = [
    "EmitLimitError",
    "FlowExit",
    "NotJsonError",
    "Pd",
    "Recording",
    "raw_event",
    "to_json",
]

_ADVICE = "dicts, lists, strings, numbers, booleans or None"


class NotJsonError(TypeError):
    """A value given to ``pd`` (or returned) cannot be sent as JSON."""


class EmitLimitError(RuntimeError):
    """The step emitted more events, or more event data, than its limit allows."""


class FlowExit(BaseException):
    """Raised by ``pd.flow.exit``; a BaseException so ``except Exception`` does not stop it."""


def _describe(obj: object) -> str:
    kind = type(obj)
    article = "an" if kind.__name__[:1].lower() in "aeiou" else "a"
    if kind.__module__ == "builtins":
        return f"{article} {kind.__name__}"
    return f"{article} {kind.__name__} ({kind.__module__}.{kind.__qualname__})"


def to_json(value: Any, *, step: str, verb: str, advice_verb: str) -> str:
    """``value`` as compact ASCII JSON (one character per byte), or a ``NotJsonError``."""
    culprits: list[object] = []

    def refuse(obj: object) -> None:
        culprits.append(obj)
        raise TypeError

    try:
        return json.dumps(value, default=refuse, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        if culprits and culprits[0] is value:
            thing = _describe(value)
        elif culprits:
            thing = f"{_describe(value)} holding {_describe(culprits[0])}"
        elif isinstance(exc, RecursionError) or "Circular" in str(exc):
            thing = f"{_describe(value)} that contains itself or is nested too deeply"
        else:
            thing = f"{_describe(value)} that cannot be written as JSON ({exc})"
        raise NotJsonError(
            f"step {step!r} {verb} {thing}, which is not JSON; {advice_verb} {_ADVICE}"
        ) from None


def _optional_text(name: str, value: object, *, allow_empty: bool) -> str | None:
    if value is None or (isinstance(value, str) and (value or allow_empty)):
        return value
    raise TypeError(f"pd.send.emit({name}=...) takes a non-empty string or None, not {value!r}")


class Recording:
    """What a step handed back through ``pd``, already as JSON text."""

    def __init__(self, step: str, limits: Limits) -> None:
        self.step = step
        self.limits = limits
        self.emits: list[str] = []
        self.emit_bytes = 0
        self.exports: dict[str, str] = {}
        self.exited = False
        self.exit_reason: str | None = None
        self.respond: str | None = None
        #: Set when a limit was hit, even if the step caught the error and carried on.
        self.limit_message: str | None = None

    def _refuse(self, message: str) -> NoReturn:
        self.limit_message = message
        raise EmitLimitError(message)

    def emit(self, event: Any, channel: Any, type_: Any, subject: Any, source: Any) -> None:
        """Record one emit, in order; refuse past the count or size limit."""
        number = len(self.emits) + 1
        if number > self.limits.max_emits:
            self._refuse(
                f"step {self.step!r} called pd.send.emit more than {self.limits.max_emits} "
                "times (Limits.max_emits); emit fewer, larger events (a list in one event) "
                "or raise the limit"
            )
        attrs = [
            ("channel", _optional_text("channel", channel, allow_empty=True)),
            ("type", _optional_text("type", type_, allow_empty=False)),
            ("subject", _optional_text("subject", subject, allow_empty=False)),
            ("source", _optional_text("source", source, allow_empty=False)),
        ]
        data = to_json(event, step=self.step, verb=f"emitted (emit #{number})", advice_verb="emit")
        tail = "".join(f',"{name}":{json.dumps(value)}' for name, value in attrs)
        # The attributes count too: they travel with the data and are stored with it.
        size = len(data) + len(tail)
        if self.emit_bytes + size > self.limits.max_emit_bytes:
            self._refuse(
                f"step {self.step!r} emitted more than {self.limits.max_emit_bytes} bytes of "
                f"events at emit #{number} (Limits.max_emit_bytes); emit references to "
                "large data instead of the data"
            )
        self.emit_bytes += size
        self.emits.append(f'{{"data":{data}{tail}}}')


def raw_event(event: Any) -> Any:
    """The event ``pd.send.emit`` sends: ``X`` for ``{"raw_event": X}``, else ``event``."""
    if isinstance(event, Mapping) and len(event) == 1 and "raw_event" in event:
        return event["raw_event"]
    return event


class Send:
    """``pd.send``: where events go."""

    __slots__ = ("_recording",)

    def __init__(self, recording: Recording) -> None:
        self._recording = recording

    def emit(
        self,
        event: Any,
        channel: str | None = None,
        *,
        type: str | None = None,
        subject: str | None = None,
        source: str | None = None,
    ) -> None:
        """Emit ``event`` (the CloudEvent's data) on ``channel``; sent after the run ends.

        Pipedream's form ``{"raw_event": X}`` (a dict whose only key is ``raw_event``) emits
        ``X``; any other value is emitted as it is."""
        self._recording.emit(raw_event(event), channel, type, subject, source)


class Flow:
    """``pd.flow``: control of the run."""

    __slots__ = ("_recording",)

    def __init__(self, recording: Recording) -> None:
        self._recording = recording

    def exit(self, reason: str | None = None) -> NoReturn:
        """End this handler and the whole run now; ``reason`` is recorded."""
        if reason is not None and not isinstance(reason, str):
            raise TypeError(f"pd.flow.exit(reason) takes a string or None, not {reason!r}")
        self._recording.exited = True
        self._recording.exit_reason = reason
        raise FlowExit(reason)


class Pd:
    """The object passed to ``handler(pd)``."""

    __slots__ = ("_recording", "flow", "secrets", "send", "steps")

    def __init__(
        self,
        *,
        step: str,
        steps: Mapping[str, Any],
        secrets: Mapping[str, Any],
        limits: Limits,
    ) -> None:
        self._recording = Recording(step, limits)
        #: ``{"trigger": {"event", "context"}, "<earlier task>": <its output>}``, read-only.
        self.steps: Mapping[str, Any] = MappingProxyType(dict(steps))
        #: The secrets this step may read, read-only.
        self.secrets: Mapping[str, Any] = MappingProxyType(dict(secrets))
        self.send = Send(self._recording)
        self.flow = Flow(self._recording)

    @property
    def recording(self) -> Recording:
        """What the step has handed back so far."""
        return self._recording

    def export(self, name: str, value: Any) -> None:
        """Make ``value`` available to later steps as ``steps.<this step>.<name>``."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"pd.export(name, value) takes a non-empty string name, not {name!r}")
        step = self._recording.step
        text = to_json(value, step=step, verb=f"exported {name!r} as", advice_verb="export")
        self._recording.exports[name] = text

    def respond(self, response: Mapping[str, Any]) -> None:
        """Answer the HTTP request that started the run: ``{"status", "headers", "body"}``."""
        recording = self._recording
        if recording.respond is not None:
            raise RuntimeError(
                f"pd.respond() was already called in step {recording.step!r}; "
                "an HTTP request is answered once"
            )
        if not isinstance(response, Mapping):
            raise TypeError(
                "pd.respond() takes a dict like {'status': 200, 'headers': {...}, 'body': ...}, "
                f"not {response!r}"
            )
        status = response.get("status", 200)
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise TypeError(f"pd.respond() status must be an HTTP status 100-599, not {status!r}")
        # Headers the server could not write fail here, at the step's line.
        check_response(response)
        recording.respond = to_json(
            dict(response), step=recording.step, verb="responded with", advice_verb="respond with"
        )
