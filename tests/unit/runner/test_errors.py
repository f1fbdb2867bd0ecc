"""raise, try/catch (filters, aliases, handlers, then) and the catch shorthand."""

from __future__ import annotations

import pytest

from emitflow.dsl.model import ErrorFilter
from emitflow.errors import Problem
from emitflow.runner.tasks.try_ import matches
from tests.unit.runner.workflows import names, run

SWF = "https://serverlessworkflow.io/"
OWS = "https://open-workflow-specification.org/"
COMMUNICATION = SWF + "spec/1.0.0/errors/communication"


async def test_raise_inline_with_expressions_and_default_instance() -> None:
    result = await run(
        """
        do:
          - fail:
              raise:
                error:
                  type: https://example.com/errors/out-of-stock
                  status: 409
                  title: '${ "Out of " + .item }'
                  detail: '${ "only \\(.left) left" }'
        """,
        {"item": "socks", "left": 2},
    )
    assert result.status == "faulted"
    assert result.error == Problem(
        type="https://example.com/errors/out-of-stock",
        status=409,
        title="Out of socks",
        detail="only 2 left",
        instance="/do/0/fail",
    )


async def test_raise_a_named_error_keeps_its_own_instance() -> None:
    result = await run(
        """
        use:
          errors:
            notFound: {type: https://example.com/nf, status: 404, instance: /somewhere}
        do:
          - fail: {raise: {error: notFound}}
        """
    )
    assert result.error is not None
    assert (result.error.status, result.error.instance) == (404, "/somewhere")


@pytest.mark.parametrize(
    ("errors", "caught"),
    [
        (ErrorFilter(type=SWF + "dsl/errors/types/communication"), True),
        (ErrorFilter(type=OWS + "dsl/errors/types/communication"), True),
        (ErrorFilter(type=OWS + "spec/1.0.0/errors/communication"), True),
        (ErrorFilter(type=SWF + "dsl/errors/types/runtime"), False),
        (ErrorFilter(type="https://example.com/communication"), False),
        (ErrorFilter(type="*"), True),
        (ErrorFilter(type="*", status=404), True),
        (ErrorFilter(type=COMMUNICATION, status=503), False),
        (ErrorFilter(title="Not Found", instance="/do/0/x"), True),
        (ErrorFilter(detail="other"), False),
    ],
)  # fmt: skip
def test_error_filters_are_anded_and_match_types_by_kind(errors: ErrorFilter, caught: bool) -> None:
    problem = Problem(
        type=COMMUNICATION, status=404, title="Not Found", detail="gone", instance="/do/0/x"
    )
    assert matches(errors, problem) is caught


def test_custom_types_match_exactly() -> None:
    problem = Problem(type="https://example.com/e", status=400)
    assert matches(ErrorFilter(type="https://example.com/e"), problem)


TRY = """
do:
  - attempt:
      try:
        - fail:
            raise:
              error: {type: https://example.com/boom, status: 418, title: Teapot}
      catch:
        CATCH
  - after: {set: '${ . + {after: true} }'}
"""


def _try(catch: str) -> str:
    return TRY.replace("CATCH", catch)


async def test_catch_do_gets_the_try_input_and_the_error_variable() -> None:
    result = await run(
        _try("{as: oops, do: [{handle: {set: {input: '${ . }', status: '${ $oops.status }'}}}]}"),
        {"x": 1},
    )
    assert result.output == {"input": {"x": 1}, "status": 418, "after": True}
    assert names(result) == ["attempt", "fail", "handle", "after"]
    assert [t.status for t in result.tasks] == ["completed", "faulted", "completed", "completed"]


async def test_catch_without_do_outputs_the_try_input() -> None:
    result = await run(_try("{errors: {with: {status: 418}}}"), {"x": 1})
    assert result.output == {"x": 1, "after": True}


async def test_unmatched_errors_propagate() -> None:
    result = await run(_try("{errors: {with: {status: 500}}}"), {"x": 1})
    assert result.status == "faulted"
    assert result.error is not None
    assert (result.error.status, result.error.instance) == (418, "/do/0/attempt/try/0/fail")


async def test_when_and_except_when() -> None:
    caught = await run(_try("{when: '$error.status == 418 and .x == 1'}"), {"x": 1})
    assert caught.status == "completed"
    skipped = await run(_try("{exceptWhen: '$error.title == \"Teapot\"'}"), {"x": 1})
    assert skipped.status == "faulted"


async def test_catch_then_overrides_the_flow_on_the_error_path() -> None:
    result = await run(
        _try("{then: end}").replace("after: {set", "after: {then: continue, set"),
        {"x": 1},
    )
    assert result.output == {"x": 1}
    assert "after" not in names(result)


async def test_a_try_that_succeeds_keeps_its_own_then() -> None:
    result = await run(
        """
        do:
          - attempt:
              try:
                - ok: {set: {ok: true}}
              catch: {then: end}
              then: last
          - skipped: {set: {skipped: true}}
          - last: {set: '${ . + {last: true} }'}
        """
    )
    assert result.output == {"ok": True, "last": True}


SHORTHAND = """
do:
  - risky:
      input: {from: '{customerId: .customerId}'}
      raise:
        error: {type: https://example.com/down, status: 503, title: Down, detail: try later}
      then: good
      catch:
        errors: {with: {type: '*'}}
        then: bad
  - good: {set: {good: true}, then: end}
  - bad:
      set: {message: '${ .error.message }', who: '${ .customerId }', status: '${ .error.status }'}
"""


async def test_catch_shorthand_hands_on_the_input_with_a_readable_error() -> None:
    result = await run(SHORTHAND, {"customerId": "c1", "other": 2})
    assert result.status == "completed"
    assert result.output == {"message": "Down (503): try later", "who": "c1", "status": 503}
    risky = result.tasks[0]
    assert risky.status == "completed"
    assert risky.error is not None and risky.error["status"] == 503
    assert risky.output["error"]["instance"] == "/do/0/risky"


async def test_catch_shorthand_with_do() -> None:
    result = await run(
        """
        do:
          - risky:
              raise: {error: {type: https://example.com/x, status: 400}}
              catch:
                do:
                  - handle: {set: {handled: '${ $error.status }'}}
        """
    )
    assert result.output == {"handled": 400}


async def test_a_catch_handler_fault_propagates() -> None:
    result = await run(
        _try("{do: [{again: {raise: {error: {type: https://example.com/2, status: 500}}}}]}")
    )
    assert result.status == "faulted"
    assert result.error is not None and result.error.instance == "/do/0/attempt/catch/do/0/again"
