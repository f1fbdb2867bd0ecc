"""``call`` of a custom function by URL or catalog: fetched through the routes, cached, run.

The function is the ``log`` function of the serverlessworkflow ``catalog`` repository (1.0.0),
served by a local stand-in (``tests/standins/catalog.py``) in place of raw.githubusercontent.com.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette

from emitflow.dsl import parse_workflow
from emitflow.http.routes import Routes, make_client
from emitflow.runner import RunOptions, RunResult, execute
from emitflow.runner.functions import forget_functions
from tests.standins.catalog import create_app
from tests.standins.server import serve

RAW = "/serverlessworkflow/catalog/refs/heads/main/functions/log/1.0.0/function.yaml"
LOG_ARGUMENTS = """
      with:
        message: Processing file {filename} in task {task_id}
        level: debug
        context: FileProcessingTask
        arguments: {filename: data.csv, task_id: task-1234}
"""
EXPECTED = "[DEBUG] (FileProcessingTask): Processing file data.csv in task task-1234"


@pytest.fixture(scope="module")
def catalog() -> Iterator[tuple[str, Starlette]]:
    app = create_app()
    with serve(app) as url:
        yield url, app


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    forget_functions()
    yield
    forget_functions()


async def _run(text: str, routes: Routes) -> RunResult:
    header = "document: {dsl: '1.0.0', namespace: test, name: catalog, version: '1.0.0'}\n"
    async with make_client(routes) as http:
        return await execute(parse_workflow(header + text), options=RunOptions(http=http))


def _github(url: str) -> Routes:
    return Routes.parse([f"https://raw.githubusercontent.com={url}"])


def _hits(app: Starlette) -> Any:
    return app.state.hits


@pytest.mark.parametrize("call", ["log:1.0.0", "log:1.0.0@default"])
async def test_the_default_catalog_function_runs(catalog: tuple[str, Starlette], call: str) -> None:
    url, app = catalog
    before = _hits(app)[RAW]
    result = await _run(f"do:\n  - log:\n      call: {call}\n" + LOG_ARGUMENTS, _github(url))
    assert result.status == "completed", result.error
    assert result.output == EXPECTED
    assert _hits(app)[RAW] == before + 1


async def test_a_named_catalog_on_github_and_the_cache(catalog: tuple[str, Starlette]) -> None:
    url, app = catalog
    text = (
        "use:\n  catalogs:\n    global:\n      endpoint:\n"
        "        uri: https://github.com/serverlessworkflow/catalog\n"
        "do:\n"
        "  - first:\n      call: log:1.0.0@global\n" + LOG_ARGUMENTS + "      then: second\n"
        "  - second:\n      call: log:1.0.0@global\n" + LOG_ARGUMENTS
    )
    before = _hits(app)[RAW]
    result = await _run(text, _github(url))
    assert result.status == "completed", result.error
    assert [task.output for task in result.tasks] == [EXPECTED, EXPECTED]
    assert _hits(app)[RAW] == before + 1  # fetched once, then cached


async def test_a_function_by_url_and_a_catalog_at_its_own_root(
    catalog: tuple[str, Starlette],
) -> None:
    url, _ = catalog
    by_url = await _run(
        "do:\n  - log:\n      call: https://catalog.example.com/functions/log/1.0.0/function.yaml\n"
        + LOG_ARGUMENTS,
        Routes.parse([f"https://catalog.example.com={url}"]),
    )
    assert by_url.output == EXPECTED, by_url.error
    own = await _run(
        "use:\n  catalogs:\n    mine: {endpoint: 'https://catalog.example.com/root'}\n"
        "do:\n  - log:\n      call: log:1.0.0@mine\n      with: {message: hello}\n",
        Routes.parse([f"https://catalog.example.com={url}"]),
    )
    assert own.output == "[INFORMATION] : hello", own.error


async def test_a_missing_function_is_a_communication_error(
    catalog: tuple[str, Starlette],
) -> None:
    url, _ = catalog
    result = await _run(
        "do:\n  - log:\n      call: nothere:9.9.9\n      with: {message: x}\n", _github(url)
    )
    assert result.error is not None
    assert result.error.type.endswith("/errors/communication")
    assert result.error.status == 404
    assert "functions/nothere/9.9.9/function.yaml" in (result.error.detail or "")


async def test_the_function_input_schema_is_applied(catalog: tuple[str, Starlette]) -> None:
    url, _ = catalog
    result = await _run(
        "do:\n  - log:\n      call: log:1.0.0\n      with: {level: debug}\n", _github(url)
    )
    assert result.error is not None
    assert result.error.type.endswith("/errors/validation")
