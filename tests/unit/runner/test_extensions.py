"""use.extensions: before/after task lists around the tasks of a kind, mocks, ordering."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from emitflow.runner import MemorySink
from tests.unit.runner.workflows import names, run

P = "io.serverlessworkflow."


@pytest.fixture
async def client() -> AsyncIterator[tuple[httpx.AsyncClient, list[httpx.Request]]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": 1, "name": "real"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        yield http, seen


MOCK = """
use:
  extensions:
    - mockPets:
        extend: call
        when: '$task.definition.with.endpoint | startswith("https://petstore.example.com")'
        before:
          - fake:
              set: {id: '${ .petId }', name: mocked}
              then: exit
do:
  - getPet:
      call: http
      with: {method: get, endpoint: 'https://petstore.example.com/pets/{petId}'}
      output: {as: '{pet: .name}'}
  - getOther:
      call: http
      with: {method: get, endpoint: 'https://other.example.com/pets/1'}
      output: {as: '{pet: .name}'}
      input: {from: '{petId: 2}'}
"""


async def test_a_before_with_exit_mocks_a_call(
    client: tuple[httpx.AsyncClient, list[httpx.Request]],
) -> None:
    http, seen = client
    trace = MemorySink()
    result = await run(MOCK, {"petId": 7}, http=http, trace=trace)
    assert result.status == "completed", result.error
    assert [str(r.url) for r in seen] == ["https://other.example.com/pets/1"]  # getPet: no HTTP
    assert result.output == {"pet": "real"}
    fake, get_pet = result.tasks[1], result.tasks[0]
    assert (get_pet.name, get_pet.output) == ("getPet", {"pet": "mocked"})  # output.as applied
    assert (fake.reference, fake.input, fake.output) == (
        "/use/extensions/0/mockPets/before/0/fake",
        {"petId": 7},
        {"id": 7, "name": "mocked"},
    )
    assert names(result) == ["getPet", "fake", "getOther"]
    tasks = [(e.type.removeprefix(P), e.data.get("task")) for e in trace.events]
    assert tasks[1:7] == [
        ("task.created.v1", "/do/0/getPet"),
        ("task.started.v1", "/do/0/getPet"),
        ("task.created.v1", "/use/extensions/0/mockPets/before/0/fake"),
        ("task.started.v1", "/use/extensions/0/mockPets/before/0/fake"),
        ("task.completed.v1", "/use/extensions/0/mockPets/before/0/fake"),
        ("task.completed.v1", "/do/0/getPet"),
    ]


async def test_an_after_decorates_the_output_and_sees_the_extended_task() -> None:
    result = await run(
        """
        use:
          extensions:
            - stamp:
                extend: set
                after:
                  - decorate:
                      set: '${ . + {by: $task.name, at: $task.reference, was: $task.output} }'
        do:
          - first: {set: {n: 1}, output: {as: '{n: (.n + 100)}'}}
          - second: {set: {m: '${ .n }'}}
        """
    )
    assert result.status == "completed", result.error
    # The after sees the raw output; output.as then applies to what the after gave.
    assert result.tasks[0].output == {"n": 101}
    assert result.output == {
        "m": 101,
        "by": "second",
        "at": "/do/1/second",
        "was": {"m": 101},
    }
    assert names(result) == ["first", "decorate", "second", "decorate"]


async def test_when_sees_the_transformed_input_and_filters() -> None:
    result = await run(
        """
        use:
          extensions:
            - onlyFlagged:
                extend: set
                when: .flag
                after:
                  - mark: {set: '${ . + {marked: true} }'}
        do:
          - a: {set: {v: 1}, input: {from: '{flag: true}'}}
          - b: {set: {v: 2}, input: {from: '{flag: false}'}}
          - c: {set: '${ [$context] }', input: {from: '{}'}}
        """
    )
    assert names(result) == ["a", "mark", "b", "c"]
    assert result.tasks[0].output == {"v": 1, "marked": True}
    assert result.tasks[2].output == {"v": 2}


TWO = """
use:
  extensions:
    - outer:
        extend: all
        before:
          - outerBefore: {set: ignored}
        after:
          - outerAfter: {set: '${ . + {trail: (.trail + ["outer"])} }'}
    - inner:
        extend: set
        before:
          - innerBefore: {set: {trail: [mock]}, then: EXIT}
        after:
          - innerAfter: {set: '${ . + {trail: (.trail + ["inner"])} }'}
do:
  - task: {set: {trail: [task]}}
"""


async def test_two_extensions_nest_like_middleware() -> None:
    result = await run(TWO.replace(", then: EXIT", ""))
    assert result.status == "completed", result.error
    assert names(result) == [
        "task",
        "outerBefore",
        "innerBefore",
        "innerAfter",
        "outerAfter",
    ]
    assert result.output == {"trail": ["task", "inner", "outer"]}


async def test_an_inner_mock_skips_the_task_but_not_the_afters() -> None:
    result = await run(TWO.replace("EXIT", "exit"))
    assert result.status == "completed", result.error
    assert names(result) == ["task", "outerBefore", "innerBefore", "innerAfter", "outerAfter"]
    assert result.output == {"trail": ["mock", "inner", "outer"]}


async def test_an_outer_mock_skips_the_inner_extensions() -> None:
    text = TWO.replace("outerBefore: {set: ignored}", "outerBefore: {set: [m], then: exit}")
    result = await run(text.replace(", then: EXIT", "").replace("[m]", "{trail: [m]}"))
    assert names(result) == ["task", "outerBefore", "outerAfter"]
    assert result.output == {"trail": ["m", "outer"]}


async def test_extend_all_reaches_nested_tasks_but_never_extension_tasks() -> None:
    result = await run(
        """
        use:
          extensions:
            - count:
                extend: all
                before:
                  - tick: {set: '${ . }', export: {as: '$context + {n: ($context.n + 1)}'}}
                  - nested:
                      do:
                        - deep: {set: {ok: true}}
        do:
          - outer:
              for: {in: '[1, 2]'}
              do:
                - body: {set: '${ $context }'}
        """
    )
    assert result.status == "completed", result.error
    # outer, then body twice: three extended tasks; tick, nested and deep are not extended.
    assert result.output == {"n": 3}
    assert names(result).count("tick") == 3
    assert names(result).count("deep") == 3


async def test_composite_and_kind_targets() -> None:
    text = """
        use:
          extensions:
            - log:
                extend: KIND
                before:
                  - note: {set: {ok: true}}
        do:
          - group:
              do:
                - leaf: {set: {x: 1}}
          - pause: {wait: PT0S}
        """
    composite = await run(text.replace("KIND", "composite"))
    assert names(composite) == ["group", "note", "leaf", "pause"]
    wait = await run(text.replace("KIND", "wait"))
    assert names(wait) == ["group", "leaf", "pause", "note"]


async def test_a_function_body_is_not_extended_again() -> None:
    result = await run(
        """
        use:
          functions:
            double: {set: {n: '${ .n * 2 }'}}
          extensions:
            - sets: {extend: set, after: [{setMark: {set: '${ . + {set: true} }'}}]}
            - calls: {extend: call, after: [{callMark: {set: '${ . + {call: true} }'}}]}
        do:
          - twice: {call: double, with: {n: 4}}
        """
    )
    assert result.status == "completed", result.error
    assert result.output == {"n": 8, "call": True}
    assert names(result) == ["twice", "callMark"]


async def test_a_fault_in_an_extension_faults_the_extended_task() -> None:
    result = await run(
        """
        use:
          extensions:
            - guard:
                extend: set
                before:
                  - refuse: {raise: {error: {type: https://example.com/no, status: 403}}}
        do:
          - t: {set: {x: 1}}
        """
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert (result.error.status, result.error.instance) == (
        403,
        "/use/extensions/0/guard/before/0/refuse",
    )
    assert [(t.name, t.status) for t in result.tasks] == [("t", "faulted"), ("refuse", "faulted")]


async def test_end_in_a_before_ends_the_workflow_after_the_task() -> None:
    result = await run(
        """
        use:
          extensions:
            - stop: {extend: set, when: .last, before: [{halt: {set: {stopped: true}, then: end}}]}
        do:
          - a: {set: {last: true}}
          - b: {set: {never: true}}
        """,
        {"last": True},
    )
    assert result.output == {"stopped": True}
    assert names(result) == ["a", "halt"]
