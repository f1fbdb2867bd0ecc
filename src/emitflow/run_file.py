"""Running one workflow file in this process: what ``emitflow run`` does, as a library call."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emitflow.dsl import load_workflow, python_workflow
from emitflow.dsl.model import Workflow
from emitflow.errors import ConfigurationError
from emitflow.frozen import frozen
from emitflow.lifecycle import AsyncLifecycle
from emitflow.secrets import Redactor, load_secrets, weak_secrets_warning

if TYPE_CHECKING:
    import httpx

    from emitflow.codesteps.bridge import PoolStepRunner
    from emitflow.ports import CodeStep, CodeStepOutcome, EventSink

__all__ = ["Outcome", "RunRequest", "load_file", "run_file"]


@frozen
class RunRequest:
    """What to run and with what (the options of ``emitflow run``)."""

    file: Path
    input: Any = None
    context: Any = None
    secret_pairs: tuple[str, ...] = ()
    secrets_file: Path | None = None
    events: str | None = None
    trace: str | None = None
    routes: tuple[str, ...] = ()
    brokers: tuple[str, ...] = ()


@frozen
class Outcome:
    """A finished run as shown to the user: output, or the error object; secrets masked."""

    status: str
    output: Any = None
    error: dict[str, Any] | None = None
    #: Lines for stderr (a short secret is weak and masked only where a value equals it).
    warnings: tuple[str, ...] = ()


async def run_file(request: RunRequest) -> Outcome:
    """Load, run to the end, and return the redacted outcome.

    Raises ``DocumentError`` for an invalid document and ``ConfigurationError`` for bad options.
    """
    from emitflow.events.jsonl import JsonLinesSink
    from emitflow.runner import RunOptions, execute

    secrets = load_secrets(request.secret_pairs, request.secrets_file)
    redactor = Redactor(secrets)
    client = _routed_client(request.routes)
    workflow = load_file(request.file)
    _check_secrets(request.file, workflow.use.secrets, secrets)
    allowed = {name: secrets[name] for name in workflow.use.secrets}
    events = JsonLinesSink(request.events, redactor.value) if request.events else None
    trace = JsonLinesSink(request.trace, redactor.value) if request.trace else None
    try:
        async with (
            _closing(client),
            _LazySteps(allowed) as steps,
            _brokers(request.brokers) as brokers,
        ):
            sink: Any = events
            if brokers is not None:
                sink = brokers if events is None else _tee(events, brokers)
            result = await execute(
                workflow,
                input=request.input if request.input is not None else {},
                options=RunOptions(
                    context=request.context,
                    secrets=secrets,
                    http=client,
                    events=sink,
                    trace=trace,
                    workflows_dir=request.file.resolve().parent,
                    code_steps=steps,
                ),
            )
    finally:
        for opened in (events, trace):
            if opened is not None:
                opened.close()
    error = redactor.value(result.error.to_dict()) if result.error is not None else None
    weak = weak_secrets_warning(secrets)
    return Outcome(
        status=result.status,
        output=redactor.value(result.output),
        error=error,
        warnings=() if weak is None else (weak,),
    )


def _routed_client(given: tuple[str, ...]) -> httpx.AsyncClient | None:
    """The HTTP client with the routes, or None without routes: the run then makes a plain
    client when it first calls out (so a run that makes no call never imports httpx)."""
    if not given and not os.environ.get("EMITFLOW_ROUTES", "").strip():
        return None
    from emitflow.http.routes import Routes, make_client

    return make_client(Routes.from_env().merged(Routes.parse(given)))


class _LazySteps(AsyncLifecycle):
    """The code-step runner, made by the first code step: a run without code steps never
    imports the sandbox package (the pool itself starts with the first step in any case)."""

    def __init__(self, secrets: dict[str, Any]) -> None:
        import asyncio  # here: ``validate`` imports this module and needs no event loop

        self._secrets = secrets
        self._runner: PoolStepRunner | None = None
        self._lock = asyncio.Lock()

    async def _enter(self) -> None:
        """Nothing yet."""

    async def close(self) -> None:
        """Stop the runner, if a step made it."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.close()

    async def run(self, step: CodeStep) -> CodeStepOutcome:
        """Run ``step`` on the runner, made now if this is the first step."""
        runner = self._runner
        if runner is None:
            runner = await self._started()
        return await runner.run(step)

    async def _started(self) -> PoolStepRunner:
        async with self._lock:  # steps of a fork may arrive together
            if self._runner is None:
                from emitflow.codesteps.bridge import PoolStepRunner

                runner = PoolStepRunner(secrets=self._secrets)
                await runner.__aenter__()
                self._runner = runner
            return self._runner


@contextlib.asynccontextmanager
async def _brokers(given: tuple[str, ...]) -> AsyncIterator[EventSink | None]:
    """The brokers of ``--broker`` and ``EMITFLOW_BROKERS``, connected; ``None`` without
    any (the broker package is then not imported)."""
    if not given and not os.environ.get("EMITFLOW_BROKERS", "").strip():
        yield None
        return
    from emitflow.brokers.config import broker_specs
    from emitflow.brokers.sink import BrokerSink

    specs = broker_specs(given)
    if not specs:
        yield None
        return
    async with BrokerSink(specs) as sink:
        yield sink


def _tee(first: EventSink, second: EventSink) -> EventSink:
    from emitflow.brokers.sink import TeeSink

    return TeeSink([first, second])


@contextlib.asynccontextmanager
async def _closing(client: httpx.AsyncClient | None) -> AsyncIterator[None]:
    if client is None:
        yield
        return
    async with client:
        yield


def _check_secrets(file: Path, declared: tuple[str, ...], given: dict[str, Any]) -> None:
    """Refuse to start a run whose declared secrets are not all provided."""
    missing = [name for name in declared if name not in given]
    if missing:
        names = ", ".join(missing)
        raise ConfigurationError(
            f"{file} at /use/secrets: the workflow needs the secret(s) {names}, which were not "
            f"given; pass --secret {missing[0]}=<value> or --secrets-file with that name"
        )


def load_file(path: Path) -> Workflow:
    """A DSL document, or a Python file whose ``handler(pd)`` becomes a one-step workflow
    (``emitflow.dsl.python_workflow``)."""
    if path.suffix == ".py":
        return python_workflow(path)
    return load_workflow(path)
