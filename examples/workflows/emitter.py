"""The seed's emitter: one Python step that emits an event per name (sent when the run ends)."""


def handler(pd):
    for name in ["Luke", "Han", "Leia", "Obi Wan"]:
        pd.send.emit({"raw_event": {"name": name}})
    return {"emitted": 4}
