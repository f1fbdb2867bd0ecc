"""The seed's listener: runs once per event the emitter emits, and says what it got."""


def handler(pd):
    event = pd.steps["trigger"]["event"]
    print("received", event)
    return {"received": event["name"]}
