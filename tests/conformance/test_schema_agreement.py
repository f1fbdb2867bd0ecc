"""Our validator against the official JSON Schemas, read in place from ``../shared/spec/schema``.

The reference is the main-branch schema (``workflow.yaml``): emitflow implements DSL 1.0.3 plus
the additions of the spec's main branch. Every case also records how the 1.0.3 release schema
judges it: ``RELEASE_DIFFERS`` lists the cases where it disagrees with main, with the reason.

Where emitflow is deliberately stricter than the schema (things a schema cannot see, such as
jumps to unknown tasks or bad jq) or more lenient (the seed dialect), the case is listed apart
and the difference is asserted, so that a change on either side shows up here.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from emitflow.dsl import parse_workflow
from emitflow.dsl.yaml import read_text
from emitflow.errors import DocumentError
from tests.conftest import ROOT, require_spec, spec_dir

HEAD = "document: {dsl: '1.0.3', namespace: test, name: case, version: '1.0.0'}\n"
WAIT = "do: [{a: {wait: PT1S}}]\n"


def doc(body: str) -> str:
    """A document with the standard head and ``body`` (YAML, dedented)."""
    return HEAD + textwrap.dedent(body)


def ident(fields: str) -> str:
    """A document whose ``document`` section is ``{fields}`` and whose task waits."""
    return f"document: {{{fields}}}\n{WAIT}"


def task(body: str) -> str:
    """A document whose only task is ``body`` (the task object, dedented)."""
    indented = textwrap.indent(textwrap.dedent(body).strip(), "      ")
    return HEAD + "do:\n  - t:\n" + indented + "\n"


@cache
def _validator(name: str) -> Draft202012Validator:
    path = require_spec("schema") / name
    schema = read_text(path.read_text(encoding="utf-8"), source=str(path), format="yaml").data
    return Draft202012Validator(schema)


def schema_valid(text: str, name: str = "workflow.yaml") -> bool:
    data = read_text(text, source=None, format="yaml").data
    return bool(_validator(name).is_valid(data))


def ours_valid(text: str) -> bool:
    try:
        parse_workflow(text, source="case.yaml")
    except DocumentError as exc:
        for location, message in exc.problems:
            assert location.file == "case.yaml" and location.line is not None, (location, message)
            assert location.pointer == "" or location.pointer.startswith("/"), location
        return False
    return True


def _check_release(case_id: str, text: str, main: bool) -> None:
    release = schema_valid(text, "workflow-v1.0.3-release.yaml")
    if case_id in RELEASE_DIFFERS:
        assert release != main, f"the 1.0.3 release schema now agrees on {case_id}"
    else:
        assert release == main, f"the 1.0.3 release schema judges {case_id} differently"


# Where the 1.0.3 release schema disagrees with main, and why.
RELEASE_DIFFERS = {
    "valid:emit-type-only": "1.0.3 requires emit 'source'; main generates it",
    "valid:for-inline-array": "'for.in' as an inline array is main only",
    "valid:try-catch-then": "'catch.then' is main only",
    "valid:schedule-on-read": "'schedule.read' is main only",
    "valid:relative-endpoint": "1.0.3 URIs need a scheme; main allows relative references",
    "invalid:oauth2-missing-grant": "1.0.3 does not require authority and grant",
    "invalid:evaluate-mode-enum": "1.0.3 has no 'evaluate' and its top level takes any key",
}


# --- (a) every workflow of the conformance kit ------------------------------------------------


def _ctk_workflows() -> Iterator[Any]:
    base = spec_dir()
    if base is None or not (base / "ctk").is_dir():
        yield pytest.param("", id="ctk-missing", marks=pytest.mark.skip(reason="no spec ctk"))
        return
    pattern = re.compile(r'Given a workflow with definition:\s*\n(\s*)"""yaml\n(.*?)\n\s*"""', re.S)
    for path in sorted((base / "ctk").glob("*.feature")):
        text = path.read_text(encoding="utf-8")
        for index, match in enumerate(pattern.finditer(text)):
            yield pytest.param(textwrap.dedent(match.group(2)), id=f"{path.stem}-{index}")


CTK = list(_ctk_workflows())


def test_the_kit_has_all_its_workflows() -> None:
    if spec_dir() is None:
        pytest.skip("no spec dir")
    assert len(CTK) == 21


@pytest.mark.parametrize("text", CTK)
def test_ctk_workflow_is_valid_for_both(text: str) -> None:
    assert schema_valid(text)
    assert ours_valid(text)
    _check_release("ctk", text, True)


# --- (b) broken documents: invalid for both --------------------------------------------------

INVALID = {
    "no-document": "do: [{a: {set: {x: 1}}}]\n",
    "no-do": HEAD,
    "no-dsl": ident("namespace: t, name: n, version: '1.0.0'"),
    "no-namespace": ident("dsl: '1.0.3', name: n, version: '1.0.0'"),
    "no-name": ident("dsl: '1.0.3', namespace: t, version: '1.0.0'"),
    "no-version": ident("dsl: '1.0.3', namespace: t, name: n"),
    "bad-namespace": ident("dsl: '1.0.3', namespace: My_NS, name: n, version: '1.0.0'"),
    "bad-name-space": ident("dsl: '1.0.3', namespace: t, name: my flow, version: '1.0.0'"),
    "name-too-long": ident("dsl: '1.0.3', namespace: t, name: " + "a" * 64 + ", version: '1'"),
    "version-not-semver": ident("dsl: '1.0.3', namespace: t, name: n, version: '1.0'"),
    "version-a-number": ident("dsl: '1.0.3', namespace: t, name: n, version: 1.0"),
    "dsl-not-semver": ident("dsl: '1.0', namespace: t, name: n, version: '1.0.0'"),
    "document-unknown-key": ident("dsl: '1.0.3', namespace: t, name: n, version: '1.0.0', a: 1"),
    "do-not-array": doc("do: {a: {set: {x: 1}}}"),
    "item-two-keys": doc("do:\n  - a:\n    set: {x: 1}\n"),
    "item-not-mapping": doc("do: [justAName]"),
    "unknown-task-key": task("set: {x: 1}\nfoo: bar"),
    "no-kind-key": task("then: end"),
    "two-kind-keys": task("set: {x: 1}\nwait: PT1S"),
    "then-not-string": task("set: {x: 1}\nthen: 5"),
    "if-not-string": task("set: {x: 1}\nif: true"),
    "metadata-not-object": task("set: {x: 1}\nmetadata: [a]"),
    "bad-duration": task("wait: 5s"),
    "bad-inline-duration-key": task("wait: {secs: 5}"),
    "inline-duration-not-integer": task("wait: {seconds: 1.5}"),
    "empty-inline-duration": task("wait: {}"),
    "run-two-processes": task("run: {shell: {command: ls}, script: {language: js, code: x}}"),
    "run-no-process": task("run: {await: true}"),
    "script-code-and-source": task(
        "run: {script: {language: js, code: x, source: {endpoint: https://x/s.js}}}"
    ),
    "script-no-language": task("run: {script: {code: x}}"),
    "container-eventually-without-after": task(
        "run: {container: {image: alpine, lifetime: {cleanup: eventually}}}"
    ),
    "subflow-no-version": task("run: {workflow: {namespace: a, name: b}}"),
    "emit-without-type": task("emit: {event: {with: {source: 'https://x'}}}"),
    "emit-without-event": task("emit: {}"),
    "switch-case-without-then": task("switch: [{a: {when: '.x'}}]"),
    "switch-empty": task("switch: []"),
    "switch-case-extra-key": task("switch: [{a: {when: '.x', then: end, else: exit}}]"),
    "http-output-enum": task(
        "call: http\nwith: {method: get, endpoint: 'https://x', output: full}"
    ),
    "run-return-enum": task("run: {shell: {command: ls}, return: everything}"),
    "listen-read-enum": task("listen: {to: {one: {with: {type: x}}}, read: body}"),
    "evaluate-mode-enum": doc("evaluate: {mode: lazy}\ndo: [{a: {wait: PT1S}}]"),
    "http-no-method": task("call: http\nwith: {endpoint: 'https://x'}"),
    "http-no-endpoint": task("call: http\nwith: {method: get}"),
    "http-endpoint-spaces": task("call: http\nwith: {method: get, endpoint: 'not a uri'}"),
    "http-header-number": task(
        "call: http\nwith: {method: get, endpoint: 'https://x', headers: {X: 5}}"
    ),
    "http-without-with": task("call: http"),
    "openapi-no-operation": task("call: openapi\nwith: {document: {endpoint: 'https://x/o.json'}}"),
    "grpc-port-range": task(
        "call: grpc\nwith: {proto: {endpoint: 'https://x/p'}, method: m, "
        "service: {name: s, host: h, port: 70000}}"
    ),
    "a2a-bad-method": task("call: a2a\nwith: {method: message/shout}"),
    "mcp-two-transports": task(
        "call: mcp\nwith: {method: tools/list, transport: {http: {endpoint: 'https://x'}, "
        "stdio: {command: x}}}"
    ),
    "asyncapi-operation-and-channel": task(
        "call: asyncapi\nwith: {document: {endpoint: 'https://x'}, operation: o, channel: c, "
        "message: {payload: {}}}"
    ),
    "set-empty": task("set: {}"),
    "set-number": task("set: 5"),
    "try-without-catch": task("try: [{a: {wait: PT1S}}]"),
    "catch-unknown-key": task("try: [{a: {wait: PT1S}}]\ncatch: {as: e, finally: []}"),
    "for-without-in": task("for: {each: x}\ndo: [{a: {wait: PT1S}}]"),
    "for-in-number": task("for: {in: 5}\ndo: [{a: {wait: PT1S}}]"),
    "for-without-do": task("for: {in: .items}"),
    "fork-without-branches": task("fork: {compete: true}"),
    "raise-without-error": task("raise: {}"),
    "error-without-status": task("raise: {error: {type: 'https://x/e'}}"),
    "error-status-string": task("raise: {error: {type: 'https://x/e', status: '400'}}"),
    "listen-without-to": task("listen: {read: data}"),
    "strategy-all-and-any": task("listen: {to: {all: [], any: []}}"),
    "until-with-all": task("listen: {to: {all: [{with: {type: x}}], until: '.x'}}"),
    "filter-without-with": task("listen: {to: {one: {correlate: {k: {from: .id}}}}}"),
    "backoff-two-kinds": task(
        "try: [{a: {wait: PT1S}}]\ncatch: {retry: {backoff: {constant: {}, linear: {}}}}"
    ),
    "jitter-without-to": task("try: [{a: {wait: PT1S}}]\ncatch: {retry: {jitter: {from: PT1S}}}"),
    "input-from-number": task("set: {x: 1}\ninput: {from: 5}"),
    "output-unknown-key": task("set: {x: 1}\noutput: {as: ., shape: round}"),
    "timeout-without-after": task("wait: PT1S\ntimeout: {before: PT1S}"),
    "workflow-timeout-number": doc("timeout: 30\ndo: [{a: {wait: PT1S}}]"),
    "use-unknown-section": doc("use: {functionz: {}}\ndo: [{a: {wait: PT1S}}]"),
    "use-secrets-not-strings": doc("use: {secrets: [1, 2]}\ndo: [{a: {wait: PT1S}}]"),
    "auth-two-schemes": doc(
        "use: {authentications: {a: {basic: {username: u, password: p}, bearer: {token: t}}}}\n"
        "do: [{a: {wait: PT1S}}]"
    ),
    "basic-without-password": doc(
        "use: {authentications: {a: {basic: {username: u}}}}\ndo: [{a: {wait: PT1S}}]"
    ),
    "oauth2-missing-grant": doc(
        "use: {authentications: {a: {oauth2: {authority: 'https://id.x'}}}}\n"
        "do: [{a: {wait: PT1S}}]"
    ),
    "oauth2-bad-grant": doc(
        "use: {authentications: {a: {oauth2: {authority: 'https://id.x', grant: magic}}}}\n"
        "do: [{a: {wait: PT1S}}]"
    ),
    "schedule-unknown-key": doc("schedule: {daily: true}\ndo: [{a: {wait: PT1S}}]"),
    "schedule-read-without-on": doc("schedule: {every: PT1M, read: data}\ndo: [{a: {wait: PT1S}}]"),
    "extension-bad-extend": doc(
        "use: {extensions: [{log: {extend: everything}}]}\ndo: [{a: {wait: PT1S}}]"
    ),
    "extension-without-extend": doc(
        "use: {extensions: [{log: {before: [{b: {wait: PT1S}}]}}]}\ndo: [{a: {wait: PT1S}}]"
    ),
    "catalog-without-endpoint": doc("use: {catalogs: {c: {}}}\ndo: [{a: {wait: PT1S}}]"),
}


@pytest.mark.parametrize("name", list(INVALID))
def test_broken_document_is_invalid_for_both(name: str) -> None:
    text = INVALID[name]
    assert not schema_valid(text), f"the schema accepts {name}"
    assert not ours_valid(text), f"emitflow accepts {name}"
    _check_release(f"invalid:{name}", text, False)


def test_the_broken_corpus_is_large_enough() -> None:
    assert len(INVALID) >= 40


# --- (c) valid documents exercising every task kind: valid for both ---------------------------

VALID = {
    "http-full": task(
        """
        call: http
        with:
          method: post
          endpoint: {uri: 'https://api.example.com/orders/{id}', authentication: {use: api}}
          headers: {Content-Type: application/json}
          query: '${ {page: .page} }'
          body: {customer: '${ .customer }'}
          output: response
          redirect: true
        """
    ).replace(
        "do:",
        "use: {authentications: {api: {bearer: {token: '${ $secrets.t }'}}}, secrets: [t]}\ndo:",
    ),
    "http-expression-endpoint": task("call: http\nwith: {method: get, endpoint: '${ .url }'}"),
    "relative-endpoint": task("call: http\nwith: {method: get, endpoint: /api/orders}"),
    "openapi": task(
        """
        call: openapi
        with:
          document: {name: petstore, endpoint: 'https://petstore.swagger.io/v2/swagger.json'}
          operationId: findPetsByStatus
          parameters: {status: '${ .status }'}
          authentication: {basic: {username: u, password: p}}
          output: content
        """
    ),
    "grpc": task(
        "call: grpc\nwith: {proto: {endpoint: 'https://x/greet.proto'}, method: SayHello, "
        "service: {name: Greeter, host: grpc.example.com, port: 50051}, arguments: {name: x}}"
    ),
    "asyncapi-publish": task(
        "call: asyncapi\nwith: {document: {endpoint: 'https://x/asyncapi.json'}, operation: send,"
        " protocol: kafka, server: {name: prod}, message: {payload: {id: '${ .id }'}}}"
    ),
    "asyncapi-subscribe": task(
        "call: asyncapi\nwith: {document: {endpoint: 'https://x/a.json'}, channel: orders, "
        "subscription: {filter: '${ .kind == 1 }', consume: {amount: 5, for: PT1M}, "
        "foreach: {item: msg, do: [{log: {set: {m: '${ $msg }'}}}]}}}"
    ),
    "a2a": task(
        "call: a2a\nwith: {method: message/send, server: 'https://agent.x', "
        "parameters: {message: {parts: []}}}"
    ),
    "mcp": task(
        "call: mcp\nwith: {method: tools/call, parameters: {name: t}, "
        "transport: {stdio: {command: npx, arguments: [server]}}, "
        "client: {name: emitflow, version: '1'}}"
    ),
    "function": doc(
        "use: {functions: {greet: {set: {greeting: '${ \"hi \" + .name }'}}}}\n"
        "do: [{a: {call: greet, with: {name: x}}}]"
    ),
    "catalog-function": doc(
        "use: {catalogs: {shared: {endpoint: 'https://github.com/x/catalog'}}}\n"
        "do: [{a: {call: 'log:1.0.0@shared'}}, {b: {call: 'log:1.0.0@default'}}]"
    ),
    "do-nested": task("do: [{inner: {do: [{deep: {set: {x: 1}}}]}}]"),
    "emit-type-only": task("emit: {event: {with: {type: com.example.ping, data: '${ . }'}}}"),
    "emit-full": task(
        "emit: {event: {with: {id: '1', source: 'https://x', type: t, time: "
        "'2025-01-01T00:00:00Z', subject: s, datacontenttype: application/json, "
        "dataschema: 'https://x/s.json', traceid: abc, data: {a: 1}}}}"
    ),
    "for-expression": task(
        "for: {each: color, in: .colors, at: i}\nwhile: '$i < 10'\n"
        "do: [{add: {set: {c: '${ $color }'}}}]"
    ),
    "for-inline-array": task("for: {in: [{a: 1}, {a: 2}]}\ndo: [{s: {set: '${ $item }'}}]"),
    "fork": task("fork: {compete: true, branches: [{a: {wait: PT1S}}, {b: {set: {x: 1}}}]}"),
    "listen-one": task(
        "listen: {to: {one: {with: {type: com.x, source: 'https://x'}}}, read: envelope}"
    ),
    "listen-any-until": task(
        "listen: {to: {any: [{with: {type: a}}], until: {one: {with: {type: stop}}}}}\n"
        "foreach: {item: ev, at: n, do: [{h: {set: {e: '${ $ev }'}}}], output: {as: .}}"
    ),
    "listen-all-correlate": task(
        "listen: {to: {all: [{with: {type: a}, correlate: {order: {from: .data.id}}}, "
        "{with: {type: b}, correlate: {order: {from: .data.id, expect: '${ .id }'}}}]}}"
    ),
    "listen-any-forever": task("listen: {to: {any: [], until: '${ false }'}}"),
    "raise-inline": task(
        "raise: {error: {type: 'https://x/e', status: 400, title: Bad, "
        "detail: '${ .why }', instance: /do/0/t}}"
    ),
    "raise-by-name": doc(
        "use: {errors: {bad: {type: 'https://x/e', status: 400}}}\ndo: [{a: {raise: {error: bad}}}]"
    ),
    "run-container": task(
        "run: {container: {image: alpine, command: ls, arguments: [-l], "
        "lifetime: {cleanup: eventually, after: PT1M}, pullPolicy: always}}"
    ),
    "run-script-code": task(
        "run: {script: {language: python, code: 'print(1)', "
        "arguments: [a], environment: {A: b}}, return: all}"
    ),
    "run-script-source": task(
        "run: {script: {language: js, source: {endpoint: 'https://x/s.js'}}}"
    ),
    "run-shell": task("run: {shell: {command: echo, arguments: [hi], stdin: x}, await: false}"),
    "run-workflow": task(
        "run: {workflow: {namespace: ns, name: child, version: '1.0.0', input: {a: 1}}}"
    ),
    "set-object": task("set: {shape: circle, size: '${ .size }'}"),
    "set-expression": task("set: '${ . + {x: 1} }'"),
    "switch": doc(
        "do:\n  - s:\n      switch:\n        - red: {when: '.color == \"red\"', then: r}\n"
        "        - other: {then: end}\n  - r:\n      set: {c: red}\n"
    ),
    "try-catch-then": doc(
        "do:\n  - t:\n      try: [{a: {call: http, with: {method: get, endpoint: 'https://x'}}}]\n"
        "      catch:\n        errors: {with: {type: 'https://x/e', status: 404}}\n"
        "        as: err\n        when: '$err.status == 404'\n        retry:\n"
        "          delay: {seconds: 1}\n          backoff: {exponential: {}}\n"
        "          limit: {attempt: {count: 3, duration: PT10S}, duration: PT1M}\n"
        "          jitter: {from: PT0S, to: PT1S}\n        do: [{h: {set: {e: '${ $err }'}}}]\n"
        "        then: fallback\n      then: end\n  - fallback:\n      set: {ok: false}\n"
    ),
    "try-retry-by-name": doc(
        "use: {retries: {again: {delay: PT1S, backoff: {linear: {}}}}}\n"
        "do: [{t: {try: [{a: {wait: PT1S}}], catch: {retry: again}}}]"
    ),
    "wait-forms": doc(
        "do: [{a: {wait: PT1H30M}}, {b: {wait: {minutes: 1, milliseconds: 5}}}, "
        "{c: {wait: '${ .delay }'}}, {d: {wait: P1DT0.5S}}]"
    ),
    "data-flow": task(
        "set: {x: 1}\nif: '.enabled'\ninput: {from: .user, schema: {document: {type: object}}}\n"
        "output: {as: {y: '${ .x }'}, schema: {resource: {endpoint: 'https://x/s.json'}}}\n"
        "export: {as: '$context + {x: .x}'}\ntimeout: {after: PT5S}\nmetadata: {owner: me}"
    ),
    "use-everything": doc(
        """
        use:
          authentications:
            b: {basic: {username: u, password: p}}
            s: {bearer: {use: tokenSecret}}
            o: {oauth2: {authority: 'https://id.x', grant: client_credentials,
                         client: {id: c, secret: s}, scopes: [a],
                         endpoints: {token: /token}}}
            i: {oidc: {authority: 'https://id.x', grant: password, username: u, password: p}}
          secrets: [tokenSecret]
          timeouts: {short: {after: PT5S}}
          extensions:
            - log: {extend: call, when: '.debug', before: [{l: {set: {x: 1}}}]}
        timeout: short
        do: [{a: {wait: PT1S, timeout: short}}]
        """
    ),
    "schedule-every-cron": doc(
        "schedule: {every: PT1H, cron: '0 0 * * *'}\ndo: [{a: {wait: PT1S}}]"
    ),
    "schedule-on-read": doc(
        "schedule: {on: {one: {with: {type: com.x}}}, read: data}\ndo: [{a: {set: '${ . }'}}]"
    ),
    "evaluate": doc("evaluate: {language: jq, mode: loose}\ndo: [{a: {wait: PT1S}}]"),
    "workflow-input-output": doc(
        "input: {from: '.order'}\noutput: {as: '.result'}\ndo: [{a: {set: {result: 1}}}]"
    ),
}


@pytest.mark.parametrize("name", list(VALID))
def test_valid_document_is_valid_for_both(name: str) -> None:
    text = VALID[name]
    assert schema_valid(text), f"the schema rejects {name}"
    assert ours_valid(text), f"emitflow rejects {name}"
    _check_release(f"valid:{name}", text, True)


def test_every_task_kind_is_in_the_valid_corpus() -> None:
    texts = "\n".join(VALID.values())
    for kind in (
        "call",
        "do",
        "emit",
        "for",
        "fork",
        "listen",
        "raise",
        "run",
        "set",
        "switch",
        "try",
        "wait",
    ):
        assert re.search(rf"\b{kind}:", texts), kind


# --- (d) deliberately stricter: valid for the schema, rejected by emitflow, and why ----------

STRICTER = {
    "then-unknown-task": (
        task("set: {x: 1}\nthen: nowhere"),
        "a jump to a task that does not exist cannot run; the schema cannot see names",
    ),
    "then-other-list": (
        doc(
            "do:\n  - outer:\n      do: [{inner: {set: {x: 1}, then: after}}]\n"
            "  - after:\n      set: {y: 1}\n"
        ),
        "the spec forbids jumps across depths: 'then' targets the same list only",
    ),
    "catch-then-unknown": (
        task("try: [{a: {wait: PT1S}}]\ncatch: {then: nowhere}"),
        "the error path of a catch must name a task of the same list",
    ),
    "duplicate-task-names": (
        doc("do: [{a: {wait: PT1S}}, {a: {wait: PT2S}}]"),
        "names must be unique in a list because 'then' targets them",
    ),
    "bad-jq-if": (task("set: {x: 1}\nif: '.a |'"), "every expression is compiled at load"),
    "bad-jq-value": (task("set: {x: '${ .a | }'}"), "every ${ } in a value is compiled at load"),
    "bad-jq-output-as": (task("set: {x: 1}\noutput: {as: '.a[ '}"), "output.as is jq"),
    "unknown-error-name": (task("raise: {error: missing}"), "use.errors has no such entry"),
    "unknown-retry-name": (
        task("try: [{a: {wait: PT1S}}]\ncatch: {retry: missing}"),
        "use.retries has no such entry",
    ),
    "unknown-timeout-name": (task("wait: PT1S\ntimeout: missing"), "use.timeouts has none"),
    "unknown-authentication": (
        task(
            "call: http\nwith: {method: get, endpoint: {uri: 'https://x', "
            "authentication: {use: missing}}}"
        ),
        "use.authentications has no such entry",
    ),
    "unknown-function": (task("call: greet"), "a custom call must name a use.functions entry"),
    "unknown-catalog": (task("call: 'log:1.0.0@nowhere'"), "use.catalogs has no such entry"),
    "unsupported-dsl": (
        ident("dsl: '2.0.0', namespace: t, name: n, version: '1.0.0'"),
        "emitflow runs DSL 1.0.0 to 1.0.3 only",
    ),
    "two-default-cases": (
        task("switch: [{a: {then: end}}, {b: {then: exit}}]"),
        "the spec allows one default case; the schema does not count them",
    ),
    "evaluate-language": (
        doc("evaluate: {language: javascript}\ndo: [{a: {wait: PT1S}}]"),
        "emitflow evaluates jq only",
    ),
    "unknown-top-level-key": (
        doc("extra: true\ndo: [{a: {wait: PT1S}}]"),
        "the schema leaves the top level open; emitflow rejects typos such as 'schedul'",
    ),
    "emit-without-with": (
        task("emit: {event: {}}"),
        "an emitted event needs a type; the schema only requires it when 'with' is given",
    ),
    "emit-attribute-name": (
        task("emit: {event: {with: {type: t, orderId: '1'}}}"),
        "CloudEvents attribute names are lower-case letters and digits",
    ),
    "bad-cron": (doc("schedule: {cron: every day}\ndo: [{a: {wait: PT1S}}]"), "not CRON"),
    "error-filter-unknown-key": (
        task("try: [{a: {wait: PT1S}}]\ncatch: {errors: {with: {code: 404}}}"),
        "the schema leaves the error filter open; emitflow rejects unknown fields",
    ),
    "emit-time-not-rfc3339": (
        task("emit: {event: {with: {type: t, time: yesterday}}}"),
        "CloudEvents 'time' is RFC 3339 (the schema's format is not asserted)",
    ),
}


@pytest.mark.parametrize("name", list(STRICTER))
def test_emitflow_is_deliberately_stricter(name: str) -> None:
    text, reason = STRICTER[name]
    assert reason
    assert schema_valid(text), f"the schema now rejects {name} too"
    assert not ours_valid(text), f"emitflow accepts {name}: {reason}"


# --- (e) deliberately more lenient: the seed dialect (ARCHITECTURE decision 8) ----------------


def _seed() -> str:
    return (ROOT / "examples" / "order.yaml").read_text(encoding="utf-8")


def test_the_seed_example_is_valid_for_emitflow_only() -> None:
    # The schema rejects it for one reason, 'catch' on a call task; the other two shorthands are
    # strings the schema accepts (it cannot tell a bare name from jq, or "*" from a type).
    text = _seed()
    assert not schema_valid(text)
    assert ours_valid(text)
    validator = _validator("workflow.yaml")
    data = read_text(text, source=None, format="yaml").data
    del data["do"][0]["placeOrder"]["catch"]
    assert validator.is_valid(data)


LENIENT = {
    "catch-on-call": (
        task("call: http\nwith: {method: get, endpoint: 'https://x'}\ncatch: {do: []}"),
        False,
        "catch on a non-try task is the seed's shorthand for try: [task] with that catch",
    ),
    "type-star": (
        task("try: [{a: {wait: PT1S}}]\ncatch: {errors: {with: {type: '*'}}}"),
        True,
        "'*' is a string to the schema; emitflow reads it as any type (and warns)",
    ),
    "output-as-bare-name": (
        task("set: {x: 1}\noutput: {as: orderResult}"),
        True,
        "a string to the schema; not jq, so emitflow stores the result under that name (warns)",
    ),
    "details-spelling": (
        task("try: [{a: {wait: PT1S}}]\ncatch: {errors: {with: {details: x}}}"),
        True,
        "the 1.0.3 spelling of 'detail' is accepted with a warning",
    ),
}


@pytest.mark.parametrize("name", list(LENIENT))
def test_seed_shorthands_are_accepted_with_a_warning(name: str) -> None:
    text, schema_accepts, reason = LENIENT[name]
    assert reason
    assert schema_valid(text) is schema_accepts
    workflow = parse_workflow(text, source="case.yaml")
    assert workflow.warnings, f"{name} is accepted without a warning"


def test_the_schemas_are_read_in_place() -> None:
    for folder in ("src", "tests", "examples"):
        assert not list((ROOT / folder).rglob("workflow*.yaml"))
