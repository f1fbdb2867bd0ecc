"""The emitter → listener graph as SVG, laid out on the server: emitters in the left column,
listeners in the right, one arrow per subscription (labelled with its channel)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from emitflow.store.records import Subscription

__all__ = ["Graph", "draw"]

_ROW = 56
_BOX_W = 220
_BOX_H = 36
_GAP = 220
_PAD = 16


@dataclass(frozen=True, slots=True)
class Graph:
    """The drawing and its size."""

    svg: str
    width: int
    height: int


def _box(x: int, y: int, label: str, href: str | None) -> str:
    text = escape(label if len(label) <= 28 else label[:27] + "…")
    inner = (
        f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="6" class="node"/>'
        f'<text x="{x + 10}" y="{y + 23}" class="node-label">{text}</text>'
    )
    if href:
        return f'<a href="{escape(href)}">{inner}</a>'
    return inner


def _href(node: str) -> str | None:
    return f"/ui/workflows/{node}" if node.startswith("p_") and "*" not in node else None


def draw(subscriptions: Sequence[Subscription]) -> Graph:
    """The graph of these subscriptions."""
    emitters = sorted({s.emitter_id for s in subscriptions})
    listeners = sorted({s.listener_id for s in subscriptions})
    rows = max(len(emitters), len(listeners), 1)
    width = _PAD * 2 + _BOX_W * 2 + _GAP
    height = _PAD * 2 + rows * _ROW
    left, right = _PAD, _PAD + _BOX_W + _GAP
    y_of = {("e", n): _PAD + i * _ROW for i, n in enumerate(emitters)}
    y_of.update({("l", n): _PAD + i * _ROW for i, n in enumerate(listeners)})
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="group" class="graph" '
        f'aria-labelledby="graph-title">',
        '<title id="graph-title">Emitters (left) and the listeners subscribed to them '
        "(right)</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/>'
        "</marker></defs>",
    ]
    for sub in subscriptions:
        y1 = y_of[("e", sub.emitter_id)] + _BOX_H // 2
        y2 = y_of[("l", sub.listener_id)] + _BOX_H // 2
        x1, x2 = left + _BOX_W, right
        parts.append(
            f'<path d="M {x1} {y1} C {x1 + 90} {y1}, {x2 - 90} {y2}, {x2} {y2}" class="edge" '
            'marker-end="url(#arrow)"/>'
        )
        label = escape(sub.event_name or "default")
        parts.append(
            f'<text x="{(x1 + x2) // 2}" y="{(y1 + y2) // 2 - 4}" class="edge-label" '
            f'text-anchor="middle">{label}</text>'
        )
    for name in emitters:
        parts.append(_box(left, y_of[("e", name)], name, _href(name)))
    for name in listeners:
        parts.append(_box(right, y_of[("l", name)], name, _href(name)))
    parts.append("</svg>")
    return Graph(svg="".join(parts), width=width, height=height)
