"""The subscription graph's SVG: one edge per subscription, names escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

from emitflow.store.records import Subscription
from emitflow.ui.graph import draw


def _sub(emitter: str, listener: str, channel: str = "") -> Subscription:
    return Subscription(
        id=f"sub_{emitter}{listener}",
        emitter_id=emitter,
        listener_id=listener,
        event_name=channel,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def _present(values: list[str | None]) -> list[str]:
    """``values`` (texts or attributes of elements), none of them missing."""
    assert None not in values, values
    return [value for value in values if value is not None]


def test_one_box_per_node_and_one_edge_per_subscription() -> None:
    graph = draw([_sub("p_a", "p_b"), _sub("p_a", "wh_c", "orders"), _sub("dc_x", "p_b")])
    svg = ElementTree.fromstring(graph.svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f".//{ns}rect")) == 4  # p_a, dc_x | p_b, wh_c
    assert len(svg.findall(f".//{ns}path[@class='edge']")) == 3
    labels = [t.text for t in svg.iter(f"{ns}text") if t.get("class") == "edge-label"]
    assert sorted(_present(labels)) == ["default", "default", "orders"]
    links = [a.get("href") for a in svg.iter(f"{ns}a")]  # not webhooks, sources
    assert sorted(_present(links)) == ["/ui/workflows/p_a", "/ui/workflows/p_b"]


def test_channel_names_are_escaped() -> None:
    graph = draw([_sub("p_a", "p_b", '<script>alert("x")</script>')])
    assert "<script>" not in graph.svg
    ElementTree.fromstring(graph.svg)  # still well-formed


def test_no_subscription_draws_an_empty_graph() -> None:
    graph = draw([])
    assert graph.height > 0 and "<rect" not in graph.svg
