"""The ``pd`` object, in process: what each call records, refuses and raises."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emitflow.codesteps.limits import Limits
from emitflow.codesteps.pd import EmitLimitError, FlowExit, NotJsonError, Pd


def make_pd(**limits: int) -> Pd:
    return Pd(
        step="greet",
        steps={"trigger": {"event": {"name": "Ada"}, "context": {}}},
        secrets={"apiKey": "k"},
        limits=Limits(**limits),
    )


def emits(pd: Pd) -> list[dict[str, Any]]:
    return [json.loads(text) for text in pd.recording.emits]


def test_steps_and_secrets_are_read_only_mappings() -> None:
    pd = make_pd()
    assert pd.steps["trigger"]["event"] == {"name": "Ada"}
    assert dict(pd.secrets) == {"apiKey": "k"}
    with pytest.raises(TypeError):
        pd.steps["trigger"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        pd.secrets["apiKey"] = "other"  # type: ignore[index]


def test_emits_keep_their_order_channels_and_attributes() -> None:
    pd = make_pd()
    for name in ["Luke", "Han", "Leia"]:
        pd.send.emit({"name": name})
    pd.send.emit({"raw_event": {"name": "Yoda"}}, channel="jedi", type="com.x.jedi", subject="y")
    assert emits(pd) == [
        {"data": {"name": "Luke"}, "channel": None, "type": None, "subject": None, "source": None},
        {"data": {"name": "Han"}, "channel": None, "type": None, "subject": None, "source": None},
        {"data": {"name": "Leia"}, "channel": None, "type": None, "subject": None, "source": None},
        {
            "data": {"name": "Yoda"},
            "channel": "jedi",
            "type": "com.x.jedi",
            "subject": "y",
            "source": None,
        },
    ]


def test_raw_event_is_the_event_and_any_other_dict_is_emitted_as_it_is() -> None:
    pd = make_pd()
    pd.send.emit({"raw_event": {"name": "Yoda"}})  # the seed's form: the event is the value
    pd.send.emit({"raw_event": "text"})
    pd.send.emit({"raw_event": {"name": "Han"}, "extra": 1})  # more keys: emitted as it is
    pd.send.emit({"name": "Luke"})
    assert [emit["data"] for emit in emits(pd)] == [
        {"name": "Yoda"},
        "text",
        {"raw_event": {"name": "Han"}, "extra": 1},
        {"name": "Luke"},
    ]


def test_an_emit_is_the_value_at_the_time_of_the_call() -> None:
    pd = make_pd()
    event = {"n": 1}
    pd.send.emit(event)
    event["n"] = 2
    assert emits(pd)[0]["data"] == {"n": 1}


def test_emit_attributes_must_be_strings() -> None:
    pd = make_pd()
    with pytest.raises(TypeError, match=r"type=\.\.\.") as info:
        pd.send.emit({}, type=3)  # type: ignore[arg-type]
    assert "non-empty string" in str(info.value)
    with pytest.raises(TypeError, match="channel"):
        pd.send.emit({}, channel=["x"])  # type: ignore[arg-type]


def test_the_emit_count_limit_is_a_clear_error_and_is_remembered() -> None:
    pd = make_pd(max_emits=3)
    for i in range(3):
        pd.send.emit(i)
    with pytest.raises(EmitLimitError, match=r"more than 3 times \(Limits.max_emits\)"):
        pd.send.emit(3)
    assert len(pd.recording.emits) == 3
    assert pd.recording.limit_message is not None


def test_the_emit_size_limit_counts_all_emits_of_the_step() -> None:
    pd = make_pd(max_emit_bytes=120)
    pd.send.emit("abcd")  # 6 bytes of JSON data + 56 of attributes
    with pytest.raises(EmitLimitError, match=r"at emit #2 \(Limits.max_emit_bytes\)"):
        pd.send.emit("abcde")


def test_the_emit_size_limit_counts_attributes_too() -> None:
    pd = make_pd(max_emit_bytes=1000)
    with pytest.raises(EmitLimitError, match=r"Limits\.max_emit_bytes"):
        pd.send.emit(1, type="t" * 1000)


def test_a_non_json_emit_names_the_step_the_emit_and_the_type() -> None:
    pd = make_pd()
    pd.send.emit(1)
    with pytest.raises(NotJsonError) as info:
        pd.send.emit({"when": {1, 2}})
    assert str(info.value) == (
        "step 'greet' emitted (emit #2) a dict holding a set, which is not JSON; "
        "emit dicts, lists, strings, numbers, booleans or None"
    )


def test_exports_are_recorded_by_name_last_value_wins() -> None:
    pd = make_pd()
    pd.export("count", 1)
    pd.export("count", 4)
    pd.export("names", ["a"])
    assert {k: json.loads(v) for k, v in pd.recording.exports.items()} == {
        "count": 4,
        "names": ["a"],
    }


def test_a_non_json_export_names_it() -> None:
    class Thing:
        pass

    with pytest.raises(NotJsonError) as info:
        make_pd().export("thing", Thing())
    message = str(info.value)
    assert message.startswith("step 'greet' exported 'thing' as a Thing (")
    assert "test_pd.test_a_non_json_export_names_it.<locals>.Thing), which is not JSON" in message


def test_nan_and_cycles_are_not_json() -> None:
    pd = make_pd()
    with pytest.raises(NotJsonError, match="a float that cannot be written as JSON"):
        pd.export("x", float("nan"))
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(NotJsonError, match="contains itself"):
        pd.export("y", loop)


def test_flow_exit_records_the_reason_and_is_not_an_exception() -> None:
    pd = make_pd()
    with pytest.raises(FlowExit):
        try:
            pd.flow.exit("nothing to do")
        except Exception:  # a handler's broad except must not stop the exit
            pytest.fail("pd.flow.exit was caught by `except Exception`")
    assert pd.recording.exited
    assert pd.recording.exit_reason == "nothing to do"


def test_flow_exit_without_reason() -> None:
    pd = make_pd()
    with pytest.raises(FlowExit):
        pd.flow.exit()
    assert pd.recording.exited
    assert pd.recording.exit_reason is None


def test_respond_records_once() -> None:
    pd = make_pd()
    pd.respond({"status": 201, "headers": {"x": "1"}, "body": {"ok": True}})
    assert json.loads(pd.recording.respond or "") == {
        "status": 201,
        "headers": {"x": "1"},
        "body": {"ok": True},
    }
    with pytest.raises(RuntimeError, match="already called"):
        pd.respond({"body": 1})


@pytest.mark.parametrize("response", [[1], {"status": 99}, {"status": "200"}])
def test_respond_checks_its_argument(response: Any) -> None:
    with pytest.raises(TypeError, match=r"pd\.respond"):
        make_pd().respond(response)
