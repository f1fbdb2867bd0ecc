"""Task references (JSON pointers), lines, jumps, names used from ``use``, and expressions."""

from __future__ import annotations

import textwrap

import pytest

from emitflow.dsl import parse_workflow
from emitflow.dsl.model import (
    DoTask,
    ForkTask,
    ForTask,
    ListenTask,
    TaskItem,
    TryTask,
    Workflow,
)
from emitflow.errors import DocumentError

HEAD = "document: {dsl: '1.0.3', namespace: test, name: case, version: '1.0.0'}\n"


def parse(body: str) -> Workflow:
    return parse_workflow(HEAD + textwrap.dedent(body), source="w.yaml")


def problems(body: str) -> str:
    with pytest.raises(DocumentError) as info:
        parse(body)
    return info.value.render()


def references(items: tuple[TaskItem, ...]) -> list[str]:
    return [item.reference for item in items]


def test_references_follow_the_documents_own_pointers() -> None:
    workflow = parse(
        """\
        do:
          - tryGetPet:
              try:
                - getPet:
                    call: http
                    with: {method: get, endpoint: 'https://x/pet/{id}'}
              catch:
                do:
                  - handle:
                      set: {failed: true}
          - loop:
              for: {in: .items}
              do:
                - step:
                    set: {x: 1}
          - f:
              fork:
                branches:
                  - a: {wait: PT1S}
                  - b: {wait: PT1S}
          - l:
              listen: {to: {one: {with: {type: x}}}}
              foreach:
                do:
                  - h: {set: {e: '${ $item }'}}
          - outer/with~odd:
              do:
                - inner: {wait: PT1S}
        """
    )
    tried, loop, fork, listen, odd = (item.task for item in workflow.do)
    assert isinstance(tried, TryTask) and references(tried.try_) == ["/do/0/tryGetPet/try/0/getPet"]
    assert tried.catch is not None and tried.catch.do is not None
    assert references(tried.catch.do) == ["/do/0/tryGetPet/catch/do/0/handle"]
    # The for body is the task's own 'do', a sibling of 'for'.
    assert isinstance(loop, ForTask) and references(loop.do) == ["/do/1/loop/do/0/step"]
    assert isinstance(fork, ForkTask)
    assert references(fork.branches) == ["/do/2/f/fork/branches/0/a", "/do/2/f/fork/branches/1/b"]
    # As is 'foreach', a sibling of 'listen' in the schema.
    assert isinstance(listen, ListenTask) and listen.foreach is not None
    assert references(listen.foreach.do) == ["/do/3/l/foreach/do/0/h"]
    assert workflow.do[4].reference == "/do/4/outer~1with~0odd"
    assert isinstance(odd, DoTask) and references(odd.do) == ["/do/4/outer~1with~0odd/do/0/inner"]


def test_items_carry_their_line() -> None:
    workflow = parse("do:\n  - a:\n      wait: PT1S\n\n  - b:\n      wait: PT1S\n")
    assert [item.line for item in workflow.do] == [3, 6]


def test_then_must_target_the_same_list() -> None:
    text = problems(
        """\
        do:
          - outer:
              do:
                - inner: {wait: PT1S, then: after}
          - after: {wait: PT1S, then: iner}
        """
    )
    assert "w.yaml:5:31 at /do/0/outer/do/0/inner/then: 'then: after' names no task" in text
    assert "(here: 'inner')" in text
    assert "at /do/1/after/then: 'then: iner' names no task in this list" in text
    assert "did you mean 'inner'?" not in text  # 'inner' is in another list
    assert parse("do: [{a: {wait: PT1S, then: b}}, {b: {wait: PT1S, then: exit}}]\n")


def test_switch_and_catch_jumps_are_checked() -> None:
    text = problems(
        """\
        do:
          - s:
              switch: [{red: {when: .red, then: paint}}, {other: {then: end}}]
          - t:
              try: [{a: {wait: PT1S}}]
              catch: {then: recover}
          - pint: {set: {x: 1}}
        """
    )
    assert "at /do/0/s/switch/0/red/then: 'then: paint' names no task" in text
    assert "did you mean 'pint'?" in text
    assert "at /do/1/t/catch/then: 'then: recover' names no task" in text


def test_duplicate_names_in_one_list() -> None:
    text = problems("do: [{a: {wait: PT1S}}, {a: {wait: PT2S}}]\n")
    assert "at /do/1/a: the task name 'a' is already used at /do/0/a" in text
    assert parse("do: [{a: {do: [{a: {wait: PT1S}}]}}]\n")  # other lists may reuse it


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "do: [{a: {raise: {error: oops}}}]",
            "at /do/0/a/raise/error: 'oops' is not defined in use.errors",
        ),
        ("do: [{a: {wait: PT1S, timeout: quick}}]", "'quick' is not defined in use.timeouts"),
        ("timeout: quick\ndo: [{a: {wait: PT1S}}]", "at /timeout: 'quick' is not defined"),
        ("do: [{a: {try: [{b: {wait: PT1S}}], catch: {retry: again}}}]", "in use.retries"),
        ("do: [{a: {call: greet}}]", "'greet' is not defined in use.functions"),
        ("do: [{a: {call: 'log:1.0.0@hub'}}]", "'hub' is not defined in use.catalogs"),
        ("do: [{a: {call: 'log@hub'}}]", "written 'name:version@catalog'"),
        (
            "do: [{a: {call: http, with: {method: get, endpoint: {uri: 'https://x', "
            "authentication: {use: api}}}}}]",
            "'api' is not defined in use.authentications",
        ),
        (
            "use: {functions: {greeter: {set: {a: 1}}}}\ndo: [{a: {call: greet}}]",
            "did you mean 'greeter'?; define a function named 'greet' there (defined: 'greeter')",
        ),
    ],
)
def test_names_used_from_use_must_exist(body: str, expected: str) -> None:
    assert expected in problems(body + "\n")


def test_function_urls_and_the_default_catalog_need_no_definition() -> None:
    parse("do: [{a: {call: 'https://x/fn.yaml'}}, {b: {call: 'log:1.0.0@default'}}]\n")


def test_secrets_read_but_not_declared_are_warned_about() -> None:
    workflow = parse(
        """\
        use:
          secrets: [declared]
          authentications:
            viaSecret: {oauth2: {use: oauthCredentials}}
        do:
          - a:
              set:
                ok: ${ $secrets.declared }
                missing: ${ $secrets.apiKey }
                quoted: ${ $secrets["other"] }
        """
    )
    text = "\n".join(workflow.warnings)
    assert "at /use/authentications/viaSecret/oauth2/use: the secret 'oauthCredentials'" in text
    assert "w.yaml:10:9 at /do/0/a/set/missing: the secret 'apiKey' is used here but not" in text
    assert "the secret 'other'" in text
    assert "'declared'" not in text


def test_every_expression_is_compiled_with_its_place() -> None:
    text = problems(
        """\
        input: {from: '.a |'}
        do:
          - a:
              if: '. =='
              set: {x: '${ .a | }', ok: '${ .b }', text: 'not ${ an expression'}
              output: {as: {y: '${ [ }'}}
              export: {as: '$context +'}
          - b:
              for: {in: '.items['}
              while: '.x <'
              do: [{c: {wait: PT1S}}]
          - d:
              switch: [{s: {when: '.a ==', then: end}}]
          - e:
              listen:
                to:
                  any: [{with: {type: x, data: '${ .t > }'}, correlate: {k: {from: '.id |'}}}]
                  until: '.n >'
          - f:
              try: [{g: {wait: PT1S}}]
              catch: {when: '$error |', exceptWhen: '.x |', retry: {when: '. |'}}
        """
    )
    for pointer in [
        "/input/from",
        "/do/0/a/if",
        "/do/0/a/set/x",
        "/do/0/a/output/as/y",
        "/do/0/a/export/as",
        "/do/1/b/for/in",
        "/do/1/b/while",
        "/do/2/d/switch/0/s/when",
        "/do/3/e/listen/to/any/0/with/data",
        "/do/3/e/listen/to/any/0/correlate/k/from",
        "/do/3/e/listen/to/until",
        "/do/4/f/catch/when",
        "/do/4/f/catch/exceptWhen",
        "/do/4/f/catch/retry/when",
    ]:
        assert f"at {pointer}: invalid jq expression" in text, pointer
    assert text.count("invalid jq expression") == 14
    assert "/set/ok" not in text and "/set/text" not in text


def test_several_expressions_in_one_string_get_a_hint() -> None:
    text = problems("do: [{a: {set: {x: '${ .a } and ${ .b }'}}}]\n")
    assert "use jq interpolation" in text


def test_metadata_and_schemas_are_data_not_expressions() -> None:
    parse(
        """\
        do:
          - a:
              set: {x: 1}
              metadata: {note: '${ not jq ( }'}
              input: {schema: {document: {default: '${ not jq ( }'}}}
        """
    )


def test_task_named_like_a_directive_is_warned_about() -> None:
    workflow = parse("do: [{end: {wait: PT1S}}]\n")
    assert "a task named 'end' can never be the target of 'then'" in workflow.warnings[0]


def test_unsupported_dsl_versions_say_which_are() -> None:
    with pytest.raises(DocumentError, match=r"1\.0\.0, 1\.0\.1, 1\.0\.2, 1\.0\.3"):
        parse_workflow(
            "document: {dsl: '1.1.0', namespace: t, name: n, version: '1.0.0'}\n"
            "do: [{a: {wait: PT1S}}]\n"
        )
