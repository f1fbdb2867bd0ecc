"""``event_summaries`` says which channel it shows; ``?channel=`` picks one, ``*`` shows all."""

from __future__ import annotations

import httpx

from emitflow.runtime.engine import Engine

CODE = """
def handler(pd):
    pd.send.emit({"name": "Luke"})
    pd.send.emit({"name": "Yoda"}, channel="jedi")
"""


async def test_summaries_name_their_channel_and_pick_one_or_all(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    answer = await client.post(
        "/v1/workflows?name=two", content=CODE, headers={"Content-Type": "text/x-python"}
    )
    workflow_id = answer.json()["data"]["id"]
    await client.post(f"/v1/workflows/{workflow_id}/runs?wait=true", json={})
    await engine.drain()
    base = f"/v1/workflows/{workflow_id}/event_summaries?expand=event"

    default = (await client.get(base)).json()
    assert default["channel"] == ""
    assert [item["event"]["name"] for item in default["data"]] == ["Luke"]
    jedi = (await client.get(base + "&channel=jedi")).json()
    assert jedi["channel"] == "jedi"
    assert [item["event"]["name"] for item in jedi["data"]] == ["Yoda"]
    assert (await client.get(base + "&event_name=jedi")).json()["channel"] == "jedi"
    every = (await client.get(base + "&channel=*")).json()
    assert every["channel"] == "*"
    assert [item["event"]["name"] for item in every["data"]] == ["Yoda", "Luke"]
    assert every["page_info"]["total_count"] == 2
    both = await client.get(base + "&channel=jedi&event_name=other")
    assert both.status_code == 400
