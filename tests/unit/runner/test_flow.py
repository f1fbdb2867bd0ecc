"""Task lists and flow directives; set, do, switch and for semantics."""

from __future__ import annotations

from emitflow.clock import VirtualClock
from tests.unit.runner.workflows import names, run


async def test_set_replaces_its_input() -> None:
    result = await run(
        """
        do:
          - shape:
              set:
                shape: circle
                size: ${ .size }
        """,
        {"size": 3, "color": "red"},
    )
    assert result.output == {"shape": "circle", "size": 3}


async def test_set_with_one_expression_and_constants() -> None:
    result = await run(
        """
        do:
          - merge: {set: '${ . + {b: 2} }'}
          - constant: {set: {list: [1, {x: '${ .b }'}], text: plain}}
        """,
        {"a": 1},
    )
    assert result.output == {"list": [1, {"x": 2}], "text": "plain"}


async def test_nested_do_feeds_each_output_to_the_next_task() -> None:
    result = await run(
        """
        do:
          - outer:
              do:
                - one: {set: {n: 1}}
                - two: {set: {n: '${ .n + 1 }'}}
        """
    )
    assert result.output == {"n": 2}
    assert [t.reference for t in result.tasks] == ["/do/0/outer", "/do/0/outer/do/0/one",
                                                   "/do/0/outer/do/1/two"]  # fmt: skip


async def test_jump_then_end() -> None:
    result = await run(
        """
        do:
          - a: {set: {path: [a]}, then: c}
          - b: {set: {path: '${ .path + ["b"] }'}, then: end}
          - c: {set: {path: '${ .path + ["c"] }'}, then: b}
          - d: {set: {path: never}}
        """
    )
    assert result.output == {"path": ["a", "c", "b"]}
    assert names(result) == ["a", "c", "b"]


async def test_exit_ends_only_the_nested_list() -> None:
    result = await run(
        """
        do:
          - inner:
              do:
                - first: {set: {n: 1}, then: exit}
                - skipped: {set: {n: 99}}
          - after: {set: {n: '${ .n + 1 }'}}
        """
    )
    assert result.output == {"n": 2}
    assert names(result) == ["inner", "first", "after"]


async def test_exit_at_the_top_ends_the_workflow() -> None:
    result = await run(
        """
        do:
          - first: {set: {n: 1}, then: exit}
          - never: {set: {n: 2}}
        """
    )
    assert result.status == "completed"
    assert result.output == {"n": 1}


async def test_end_inside_a_nested_list_ends_the_workflow() -> None:
    result = await run(
        """
        do:
          - inner:
              do:
                - stop: {set: {n: 1}, then: end}
          - never: {set: {n: 2}}
        output:
          as: '${ {final: .n} }'
        """
    )
    assert result.output == {"final": 1}
    assert names(result) == ["inner", "stop"]


async def test_a_task_skipped_by_if_outputs_its_raw_input_and_continues() -> None:
    result = await run(
        """
        do:
          - maybe: {if: '.go', set: {n: 1}, then: end}
          - next: {set: '${ . + {next: true} }'}
        """,
        {"go": False},
    )
    assert result.output == {"go": False, "next": True}
    assert [t.status for t in result.tasks] == ["skipped", "completed"]


async def test_switch_first_truthy_wins_and_outputs_its_input() -> None:
    result = await run(
        """
        do:
          - pick:
              switch:
                - fallback: {then: other}
                - big: {when: '.n > 10', then: large}
                - bigger: {when: '.n > 5', then: other}
          - large: {set: '${ . + {size: "large"} }', then: end}
          - other: {set: '${ . + {size: "other"} }'}
        """,
        {"n": 20},
    )
    assert result.output == {"n": 20, "size": "large"}
    assert result.tasks[0].output == {"n": 20}


async def test_switch_default_case_is_taken_only_when_nothing_matches() -> None:
    text = """
        do:
          - pick:
              switch:
                - fallback: {then: other}
                - big: {when: '.n > 10', then: end}
          - other: {set: {size: other}}
        """
    assert (await run(text, {"n": 1})).output == {"size": "other"}
    assert (await run(text, {"n": 11})).output == {"n": 11}


async def test_switch_without_match_or_default_takes_its_own_then() -> None:
    result = await run(
        """
        do:
          - pick:
              switch:
                - big: {when: '.n > 10', then: continue}
              then: last
          - skipped: {set: {skipped: true}}
          - last: {set: '${ . + {last: true} }'}
        """,
        {"n": 1},
    )
    assert result.output == {"n": 1, "last": True}


async def test_for_iterations_chain_outputs() -> None:
    result = await run(
        """
        do:
          - loop:
              for: {each: color, in: '.colors', at: i}
              do:
                - add:
                    set:
                      seen: '${ (.seen // []) + ["\\($i):\\($color)"] }'
        """,
        {"colors": ["red", "green"]},
    )
    assert result.output == {"seen": ["0:red", "1:green"]}


async def test_for_over_nothing_outputs_its_input() -> None:
    result = await run(
        """
        do:
          - loop:
              for: {in: '.missing'}
              do:
                - never: {set: {x: 1}}
        """,
        {"a": 1},
    )
    assert result.output == {"a": 1}


async def test_for_inline_array_default_names_and_while() -> None:
    result = await run(
        """
        do:
          - loop:
              for:
                in: [{v: 1}, {v: 2}, {v: 3}, {v: 4}]
              while: '(.total // 0) < 3'
              do:
                - add: {set: {total: '${ (.total // 0) + $item.v }', last: '${ $index }'}}
        """
    )
    assert result.output == {"total": 3, "last": 1}


async def test_for_over_an_object_binds_keys_as_at() -> None:
    result = await run(
        """
        do:
          - loop:
              for: {each: value, at: key, in: '.map'}
              do:
                - add: {set: {keys: '${ (.keys // []) + [$key] }', map: '${ .map }'}}
        """,
        {"map": {"a": 1, "b": 2}},
    )
    assert result.output["keys"] == ["a", "b"]


async def test_exit_in_a_loop_body_ends_that_iteration_only() -> None:
    result = await run(
        """
        do:
          - loop:
              for: {in: '.items'}
              do:
                - count: {set: {n: '${ (.n // 0) + 1 }', items: '${ .items }'}, then: exit}
                - never: {set: {broken: true}}
        """,
        {"items": [1, 2, 3]},
    )
    assert result.output == {"n": 3, "items": [1, 2, 3]}


async def test_end_in_a_loop_body_ends_the_workflow() -> None:
    result = await run(
        """
        do:
          - loop:
              for: {in: '.items'}
              do:
                - stop: {if: '$item == 2', set: {stopped: '${ $item }'}, then: end}
          - never: {set: {never: true}}
        """,
        {"items": [1, 2, 3]},
    )
    assert result.output == {"stopped": 2}


async def test_for_in_must_be_a_collection() -> None:
    result = await run(
        """
        do:
          - loop:
              for: {in: '.n'}
              do:
                - x: {set: {x: 1}}
        """,
        {"n": 3},
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.status == 400
    assert result.error.instance == "/do/0/loop"


async def test_wait_uses_the_clock() -> None:
    clock = VirtualClock()
    before = clock.monotonic()
    result = await run("do:\n  - pause: {wait: PT1H}", {"a": 1}, clock=clock)
    assert result.output == {"a": 1}
    assert clock.monotonic() - before == 3600


async def test_wait_with_an_expression_duration() -> None:
    clock = VirtualClock()
    await run("do:\n  - pause: {wait: '${ .d }'}", {"d": "PT2M"}, clock=clock)
    assert clock.monotonic() == 120
