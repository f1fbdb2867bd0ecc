"""Real DSL documents for the runtime's integration tests."""

from __future__ import annotations


def doc(name: str, body: str, metadata: str = "") -> str:
    """A workflow named ``name`` whose ``do`` (and maybe ``schedule``) is ``body``."""
    extra = f", metadata: {metadata}" if metadata else ""
    header = f"document: {{dsl: '1.0.3', namespace: it, name: {name}, version: '1.0.0'{extra}}}"
    return f"{header}\n{body}"


#: Emits one greeting per name in ``.names`` (or one for the input itself).
EMITTER = doc(
    "emitter",
    """do:
  - each:
      for: {each: name, in: '${ .names // [.name] }'}
      do:
        - announce:
            emit:
              event:
                with:
                  type: com.example.greeting
                  source: /it/emitter
                  subject: ${ $name }
                  data:
                    name: ${ $name }
""",
)

LISTENER = doc(
    "listener",
    """do:
  - greet:
      set:
        greeting: ${ "hello " + .[0].data.name }
""",
)

SERIAL_LISTENER = doc(
    "serial",
    """do:
  - pause:
      wait: PT0.005S
  - keep:
      set:
        name: ${ $workflow.input[0].data.name }
""",
    metadata="{emitflow: {concurrency: 1}}",
)

FAULTY = doc(
    "faulty",
    """do:
  - fail:
      raise:
        error:
          type: https://example.com/errors/out-of-stock
          status: 409
          title: Out of stock
""",
)

LOOPER = doc(
    "looper",
    """do:
  - again:
      emit:
        event:
          with:
            type: com.example.loop
            data: {}
""",
)

EVERY_MINUTE = doc(
    "every",
    """schedule:
  every: PT1M
do:
  - tick:
      set: {ticked: true}
""",
)

CRON = doc(
    "cron",
    """schedule:
  cron: '0 * * * *'
do:
  - tick:
      set: {ticked: true}
""",
)

ON_ONE = doc(
    "on-one",
    """schedule:
  on:
    one:
      with:
        type: com.example.greeting
        data: '${ .name == "Leia" }'
do:
  - keep:
      set:
        who: ${ .[0].data.name }
""",
)

ON_ALL = doc(
    "on-all",
    """schedule:
  on:
    all:
      - with: {type: order.placed}
        correlate:
          order: {from: '${ .data.orderId }'}
      - with: {type: order.paid}
        correlate:
          order: {from: '${ .data.orderId }'}
do:
  - summary:
      set:
        order: ${ .[0].data.orderId }
        amount: ${ .[1].data.amount }
""",
)
