"""The typed model built for every task kind and every ``use`` component."""

from __future__ import annotations

import textwrap

import pytest

from emitflow.dsl import parse_workflow
from emitflow.dsl.model import (
    AuthenticationRef,
    AuthPolicy,
    CallTask,
    DoTask,
    Duration,
    EmitTask,
    Endpoint,
    ErrorDefinition,
    ErrorFilter,
    ForkTask,
    ForTask,
    ListenTask,
    RaiseTask,
    RetryPolicy,
    RunTask,
    SetTask,
    SwitchCase,
    SwitchTask,
    Task,
    TimeoutSpec,
    TryTask,
    WaitTask,
    Workflow,
)
from emitflow.errors import DocumentError

HEAD = "document: {dsl: '1.0.3', namespace: test, name: case, version: '1.0.0'}\n"


def one(body: str, prelude: str = "") -> Task:
    """Parse a document whose only task (``t``) is ``body``; return that task."""
    text = HEAD + prelude + "do:\n  - t:\n" + textwrap.indent(textwrap.dedent(body), "      ")
    workflow = parse_workflow(text)
    assert workflow.do[0].name == "t"
    return workflow.do[0].task


def test_call_http() -> None:
    task = one(
        """
        call: http
        with:
          method: post
          endpoint: {uri: 'https://x/orders/{id}', authentication: {use: api}}
          headers: {Accept: application/json}
          body: {id: '${ .id }'}
          output: response
          redirect: true
        """,
        "use: {authentications: {api: {bearer: {token: t}}}}\n",
    )
    assert isinstance(task, CallTask) and task.call == "http" and task.http is not None
    assert task.http.method == "post" and task.http.output == "response" and task.http.redirect
    assert task.http.endpoint == Endpoint(
        uri="https://x/orders/{id}", authentication=AuthenticationRef(use="api")
    )
    assert task.http.headers == {"Accept": "application/json"}
    assert task.http.body == {"id": "${ .id }"}
    assert task.with_["method"] == "post"


def test_call_http_with_a_string_endpoint_and_defaults() -> None:
    task = one("call: http\nwith: {method: get, endpoint: 'https://x'}\n")
    assert isinstance(task, CallTask) and task.http is not None
    assert task.http.endpoint == Endpoint(uri="https://x")
    assert (task.http.output, task.http.redirect, task.http.query) == ("content", False, None)


def test_call_openapi() -> None:
    task = one(
        """
        call: openapi
        with:
          document: {name: pets, endpoint: 'https://x/swagger.json'}
          operationId: getPetById
          parameters: {petId: '${ .petId }'}
          authentication: {basic: {username: u, password: p}}
        """
    )
    assert isinstance(task, CallTask) and task.openapi is not None
    assert task.openapi.operation_id == "getPetById"
    assert task.openapi.document.name == "pets"
    assert task.openapi.document.endpoint.uri == "https://x/swagger.json"
    assert task.openapi.parameters == {"petId": "${ .petId }"}
    assert task.openapi.authentication == AuthenticationRef(
        policy=AuthPolicy(scheme="basic", properties={"username": "u", "password": "p"})
    )


def test_other_calls_keep_their_arguments() -> None:
    task = one("call: a2a\nwith: {method: tasks/get, parameters: {id: x}}\n")
    assert isinstance(task, CallTask) and task.http is None and task.openapi is None
    assert task.with_ == {"method": "tasks/get", "parameters": {"id": "x"}}
    function = one("call: greet\nwith: {name: x}\n", "use: {functions: {greet: {set: {a: 1}}}}\n")
    assert isinstance(function, CallTask) and function.with_ == {"name": "x"}


def test_do_emit_set_wait() -> None:
    do = one("do: [{a: {set: {x: 1}}}, {b: {wait: {seconds: 2, milliseconds: 500}}}]\n")
    assert isinstance(do, DoTask) and [item.name for item in do.do] == ["a", "b"]
    first, second = do.do[0].task, do.do[1].task
    assert isinstance(first, SetTask) and first.set == {"x": 1}
    assert isinstance(second, WaitTask) and second.duration == Duration(seconds=2.5)
    emit = one("emit: {event: {with: {type: com.x, data: '${ . }'}}}\n")
    assert isinstance(emit, EmitTask) and emit.event == {"type": "com.x", "data": "${ . }"}
    expression = one("set: '${ .a }'\n")
    assert isinstance(expression, SetTask) and expression.set == "${ .a }"


@pytest.mark.parametrize(
    ("written", "seconds", "expression"),
    [
        ("PT1H30M", 5400.0, None),
        ("P1DT0.5S", 86400.5, None),
        ("P2W", 1209600.0, None),
        ("{days: 1, minutes: 1}", 86460.0, None),
        ("'${ .delay }'", None, "${ .delay }"),
    ],
)
def test_durations(written: str, seconds: float | None, expression: str | None) -> None:
    task = one(f"wait: {written}\n")
    assert isinstance(task, WaitTask)
    assert task.duration == Duration(seconds=seconds, expression=expression)


def test_durations_with_years_are_approximated_with_a_warning() -> None:
    workflow = parse_workflow(HEAD + "do: [{a: {wait: P1Y1M}}]\n")
    task = workflow.do[0].task
    assert isinstance(task, WaitTask) and task.duration.seconds == 395 * 86400
    assert "365 days" in workflow.warnings[0]


def test_for_and_fork() -> None:
    loop = one(
        "for: {each: c, in: .colors, at: i}\nwhile: '$i < 3'\ndo: [{s: {set: {}}}]\n".replace(
            "{}", "{c: '${ $c }'}"
        )
    )
    assert isinstance(loop, ForTask)
    assert (loop.each, loop.in_, loop.at, loop.while_) == ("c", ".colors", "i", "$i < 3")
    assert loop.do[0].reference == "/do/0/t/do/0/s"
    inline = one("for: {in: [{a: 1}]}\ndo: [{s: {set: '${ $item }'}}]\n")
    assert isinstance(inline, ForTask) and inline.in_ == [{"a": 1}]
    assert (inline.each, inline.at) == ("item", "index")
    fork = one("fork: {compete: true, branches: [{a: {wait: PT1S}}, {b: {wait: PT2S}}]}\n")
    assert isinstance(fork, ForkTask) and fork.compete
    assert [b.reference for b in fork.branches] == [
        "/do/0/t/fork/branches/0/a",
        "/do/0/t/fork/branches/1/b",
    ]


def test_listen() -> None:
    task = one(
        """
        listen:
          to:
            any:
              - with: {type: com.a}
                correlate: {order: {from: .data.id, expect: '${ .id }'}}
            until: {one: {with: {type: com.stop}}}
          read: envelope
        foreach: {item: ev, do: [{h: {set: {e: '${ $ev }'}}}], output: {as: .}}
        """
    )
    assert isinstance(task, ListenTask) and task.read == "envelope"
    assert task.to.mode == "any" and task.to.filters[0].with_ == {"type": "com.a"}
    correlation = task.to.filters[0].correlate["order"]
    assert (correlation.from_, correlation.expect) == (".data.id", "${ .id }")
    assert not isinstance(task.to.until, str) and task.to.until is not None
    assert task.to.until.mode == "one"
    assert task.foreach is not None and task.foreach.item == "ev" and task.foreach.at == "index"
    assert task.foreach.do[0].reference == "/do/0/t/foreach/do/0/h"
    forever = one("listen: {to: {any: [], until: '${ false }'}}\n")
    assert isinstance(forever, ListenTask) and forever.to.until == "${ false }"
    assert forever.to.filters == () and forever.read == "data"


def test_raise() -> None:
    inline = one("raise: {error: {type: 'https://x/e', status: 400, detail: '${ .why }'}}\n")
    assert isinstance(inline, RaiseTask)
    assert inline.error == ErrorDefinition(type="https://x/e", status=400, detail="${ .why }")
    named = one("raise: {error: bad}\n", "use: {errors: {bad: {type: 'https://x', status: 500}}}\n")
    assert isinstance(named, RaiseTask) and named.error == "bad"


def test_run() -> None:
    container = one("run: {container: {image: alpine, command: ls}, await: false, return: all}\n")
    assert isinstance(container, RunTask) and container.container == {
        "image": "alpine",
        "command": "ls",
    }
    assert (container.await_, container.return_) == (False, "all")
    script = one("run: {script: {language: python, code: 'print(1)', arguments: [a]}}\n")
    assert isinstance(script, RunTask) and script.script is not None
    assert (script.script.language, script.script.code, script.script.arguments) == (
        "python",
        "print(1)",
        ["a"],
    )
    source = one("run: {script: {language: js, source: {endpoint: ./s.js}}}\n")
    assert isinstance(source, RunTask) and source.script is not None
    assert source.script.source is not None and source.script.source.endpoint.uri == "./s.js"
    shell = one("run: {shell: {command: echo, environment: {A: b}, stdin: x}}\n")
    assert isinstance(shell, RunTask) and shell.shell is not None
    assert (shell.shell.command, shell.shell.environment, shell.shell.stdin) == (
        "echo",
        {"A": "b"},
        "x",
    )
    sub = one("run: {workflow: {namespace: n, name: c, version: '1.0.0', input: {a: 1}}}\n")
    assert isinstance(sub, RunTask) and sub.workflow is not None
    assert (sub.workflow.name, sub.workflow.version, sub.workflow.input) == ("c", "1.0.0", {"a": 1})


def test_switch() -> None:
    text = HEAD + (
        "do:\n  - s:\n      switch:\n        - red: {when: '.c == \"red\"', then: r}\n"
        "        - other: {then: end}\n  - r:\n      set: {c: red}\n"
    )
    task = parse_workflow(text).do[0].task
    assert isinstance(task, SwitchTask)
    assert task.cases == (
        SwitchCase(name="red", when='.c == "red"', then="r"),
        SwitchCase(name="other", when=None, then="end"),
    )


def test_try_catch_goes_to_task_catch() -> None:
    text = HEAD + textwrap.dedent(
        """\
        do:
          - t:
              try: [{a: {wait: PT1S}}]
              catch:
                errors: {with: {type: 'https://x/e', status: 404, detail: gone}}
                as: err
                when: '$err.status == 404'
                exceptWhen: .ignore
                retry:
                  delay: PT1S
                  backoff: {exponential: {}}
                  limit: {attempt: {count: 3, duration: PT10S}, duration: PT1M}
                  jitter: {from: PT0S, to: {seconds: 1}}
                do: [{h: {set: {e: '${ $err }'}}}]
                then: fallback
          - fallback:
              set: {ok: false}
        """
    )
    task = parse_workflow(text).do[0].task
    assert isinstance(task, TryTask) and task.try_[0].reference == "/do/0/t/try/0/a"
    catch = task.catch
    assert catch is not None
    assert catch.errors == ErrorFilter(type="https://x/e", status=404, detail="gone")
    assert (catch.as_, catch.when, catch.except_when, catch.then) == (
        "err",
        "$err.status == 404",
        ".ignore",
        "fallback",
    )
    assert catch.retry == RetryPolicy(
        delay=Duration(seconds=1),
        backoff="exponential",
        attempt_count=3,
        attempt_duration=Duration(seconds=10),
        total_duration=Duration(seconds=60),
        jitter_from=Duration(seconds=0),
        jitter_to=Duration(seconds=1),
    )
    assert catch.do is not None and catch.do[0].reference == "/do/0/t/catch/do/0/h"


def test_common_fields() -> None:
    task = one(
        """
        set: {x: 1}
        if: .enabled
        input: {from: .user, schema: {document: {type: object}}}
        output: {as: {y: '${ .x }'}}
        export: {as: '$context + {x: .x}'}
        timeout: {after: PT5S}
        then: end
        metadata: {owner: me}
        """
    )
    assert task.if_ == ".enabled" and task.then == "end" and task.metadata == {"owner": "me"}
    assert task.input is not None and task.input.from_ == ".user"
    assert task.input.schema is not None and task.input.schema.document == {"type": "object"}
    assert task.output is not None and task.output.as_ == {"y": "${ .x }"}
    assert task.output.store_as is None
    assert task.export is not None and task.export.as_ == "$context + {x: .x}"
    assert task.timeout == TimeoutSpec(after=Duration(seconds=5))


def test_use_and_workflow_parts() -> None:
    text = HEAD + textwrap.dedent(
        """\
        use:
          authentications:
            b: {basic: {username: u, password: p}}
            s: {oauth2: {use: oauthSecret}}
          errors: {bad: {type: 'https://x/e', status: 400}}
          extensions:
            - log: {extend: call, when: .debug, before: [{l: {set: {x: 1}}}]}
          functions: {greet: {set: {g: hi}}}
          retries: {again: {delay: PT1S}}
          secrets: [oauthSecret]
          timeouts: {short: {after: PT5S}}
          catalogs: {shared: {endpoint: 'https://x/catalog'}}
        input: {from: .order}
        output: {as: .result}
        timeout: short
        schedule: {every: PT1H, cron: '0 0 * * *'}
        evaluate: {mode: loose}
        do: [{a: {wait: PT1S}}]
        """
    )
    workflow = parse_workflow(text)
    use = workflow.use
    assert use.authentications["s"] == AuthPolicy(scheme="oauth2", secret="oauthSecret")
    assert use.authentications["b"].properties == {"username": "u", "password": "p"}
    assert use.errors["bad"].status == 400
    assert use.extensions[0].name == "log" and use.extensions[0].extend == "call"
    assert use.extensions[0].before[0].reference == "/use/extensions/0/log/before/0/l"
    assert isinstance(use.functions["greet"], SetTask)
    assert use.retries["again"].delay == Duration(seconds=1)
    assert use.secrets == ("oauthSecret",)
    assert use.timeouts["short"] == TimeoutSpec(after=Duration(seconds=5))
    assert use.catalogs["shared"] == Endpoint(uri="https://x/catalog")
    assert workflow.timeout == "short" and workflow.evaluate_mode == "loose"
    assert workflow.input is not None and workflow.input.from_ == ".order"
    assert workflow.schedule is not None and workflow.schedule.every == Duration(seconds=3600)
    assert workflow.schedule.read == "envelope"


def test_schedule_read_needs_on() -> None:
    workflow = parse_workflow(
        HEAD + "schedule: {on: {one: {with: {type: x}}}, read: data}\ndo: [{a: {wait: PT1S}}]\n"
    )
    assert isinstance(workflow, Workflow) and workflow.schedule is not None
    assert workflow.schedule.read == "data"
    with pytest.raises(DocumentError, match="'read' only goes with 'on'"):
        parse_workflow(HEAD + "schedule: {every: PT1M, read: raw}\ndo: [{a: {wait: PT1S}}]\n")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("set: {x: 1}\nwait: PT1S", "exactly one kind; found 'set' and 'wait'"),
        ("cal: http", "did you mean 'call'?"),
        ("set: {x: 1}\nthn: end", "unknown key 'thn' in a 'set' task; did you mean 'then'?"),
        (
            "run: {shell: {command: a}, script: {language: js, code: b}}",
            "found 'shell' and 'script'",
        ),
        ("run: {script: {language: js}}", "needs exactly one of 'code', 'source'"),
        ("listen: {to: {one: {with: {type: a}}, any: []}}", "found 'one' and 'any'"),
        ("try: [{a: {wait: PT1S}}]\ncatch: {retry: {backoff: {}}}", "a backoff needs exactly one"),
        (
            "call: http\nwith: {method: get, endpoint: {uri: 'https://x', authentication: "
            "{basic: {use: s}, bearer: {token: t}}}}",
            "found 'basic' and 'bearer'",
        ),
        ("call: http\nwith: {method: get, endpoint: 'https://x/${ .id }'}", "not a URI"),
        (
            "call: http\nwith: {method: get, endpoint: 'https://x', output: full}",
            "'output' must be one of 'content', 'response', 'raw', found the string 'full'",
        ),
        ("run: {shell: {command: ls, arguments: {a: 1}}}", "since DSL 1.0.3 'arguments' is a list"),
        ("emit: {event: {with: {type: t, Order: '1'}}}", "not a valid CloudEvent attribute name"),
        ("emit: {event: {with: {type: t, ext: {a: 1}}}}", "put structured values in 'data'"),
        ("switch: [{a: {then: end}}, {b: {then: exit}}]", "at most one default case"),
        ("wait: 500ms", "write 'PT0.5S'"),
    ],
)
def test_task_problems(body: str, expected: str) -> None:
    with pytest.raises(DocumentError) as info:
        one(body + "\n")
    assert expected in info.value.render()
