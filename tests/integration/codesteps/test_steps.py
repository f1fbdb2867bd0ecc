"""Code steps through real workers: the ``pd`` API end to end."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from emitflow.codesteps import CodeStepPool, StepFaultError
from tests.integration.codesteps.conftest import run, start_pool

TRIGGER = {"trigger": {"event": {"name": "Ada"}, "context": {"id": "1"}}, "first": {"n": 2}}


async def test_a_plain_handler_sees_earlier_steps_and_returns(pool: CodeStepPool) -> None:
    code = (
        "def handler(pd):\n"
        "    print('hello', pd.steps['trigger']['event']['name'])\n"
        "    return {'n': pd.steps['first']['n'] + 1}\n"
    )
    result = await run(pool, code, steps=TRIGGER)
    assert result.output == {"n": 3}
    assert result.logs == "hello Ada\n"
    assert result.duration > 0


async def test_an_async_handler(pool: CodeStepPool) -> None:
    code = "import asyncio\nasync def handler(pd):\n    await asyncio.sleep(0)\n    return 'ok'\n"
    assert (await run(pool, code)).output == "ok"


async def test_emits_keep_order_and_channels_and_exports(pool: CodeStepPool) -> None:
    code = (
        "def handler(pd):\n"
        "    for name in ['Luke', 'Han', 'Leia', 'Obi Wan']:\n"
        "        pd.send.emit({'name': name})\n"
        "    pd.send.emit({'raw_event': {'name': 'Yoda'}}, channel='jedi', type='com.x.jedi')\n"
        "    pd.export('count', 4)\n"
        "    return {'ok': True}\n"
    )
    result = await run(pool, code)
    assert [e["data"] for e in result.emits] == [
        {"name": "Luke"},
        {"name": "Han"},
        {"name": "Leia"},
        {"name": "Obi Wan"},
        {"name": "Yoda"},
    ]
    assert [e["channel"] for e in result.emits] == [None, None, None, None, "jedi"]
    assert result.emits[4]["type"] == "com.x.jedi"
    assert result.exports == {"count": 4}
    assert result.output == {"ok": True}


async def test_flow_exit_ends_the_run_with_its_reason(pool: CodeStepPool) -> None:
    code = (
        "def handler(pd):\n"
        "    pd.send.emit(1)\n"
        "    if not pd.steps['trigger']['event']:\n"
        "        return pd.flow.exit('nothing to do')\n"
        "    return 'unreached'\n"
    )
    result = await run(pool, code, steps={"trigger": {"event": None}})
    assert result.exited
    assert result.exit_reason == "nothing to do"
    assert result.output is None
    assert [e["data"] for e in result.emits] == [1]


async def test_respond(pool: CodeStepPool) -> None:
    code = "def handler(pd):\n    pd.respond({'status': 201, 'headers': {'a': 'b'}, 'body': [1]})\n"
    result = await run(pool, code)
    assert result.respond == {"status": 201, "headers": {"a": "b"}, "body": [1]}


async def test_secrets_are_only_the_ones_given(pool: CodeStepPool) -> None:
    code = (
        "import os\n"
        "def handler(pd):\n"
        "    in_env = [k for k, v in os.environ.items() if 'k1-value' in v]\n"
        "    return {'secrets': dict(pd.secrets), 'in_env': in_env}\n"
    )
    result = await run(pool, code, secrets={"apiKey": "k1-value"})
    assert result.output == {"secrets": {"apiKey": "k1-value"}, "in_env": []}
    other = await run(pool, "def handler(pd):\n    return dict(pd.secrets)\n")
    assert other.output == {}


async def test_a_raised_exception_faults_with_the_users_traceback(pool: CodeStepPool) -> None:
    code = "def handler(pd):\n    pd.send.emit('before')\n    print('log line')\n    {}['x']\n"
    with pytest.raises(StepFaultError) as info:
        await run(pool, code)
    problem = info.value.problem
    assert problem.title == "Code step raised KeyError"
    assert problem.type == "https://serverlessworkflow.io/spec/1.0.0/errors/runtime"
    assert problem.instance is None  # the engine fills it in
    assert 'File "<code step greet>", line 4, in handler' in (problem.detail or "")
    assert "emitflow" not in (problem.detail or "")
    # What the step did before it raised is kept: emits are sent whatever the outcome.
    assert [e["data"] for e in info.value.result.emits] == ["before"]
    assert info.value.result.logs == "log line\n"


async def test_steps_run_side_by_side_in_a_bigger_pool(isolation: str) -> None:
    pool = await start_pool(isolation, size=2)
    try:
        code = "import os\ndef handler(pd):\n    return pd.steps['i']\n"
        results = await asyncio.gather(*(run(pool, code, steps={"i": i}) for i in range(6)))
        assert [r.output for r in results] == list(range(6))
    finally:
        await pool.close()


async def test_each_step_gets_a_fresh_private_directory_and_process(pool: CodeStepPool) -> None:
    code = (
        "import os, sys\n"
        "def handler(pd):\n"
        "    first = not hasattr(sys, 'marker')\n"
        "    sys.marker = True\n"
        "    open('file.txt', 'w').write('x')\n"
        "    return {'cwd': os.getcwd(), 'home': os.environ['HOME'], 'first': first,\n"
        "            'files': os.listdir('.')}\n"
    )
    one = (await run(pool, code)).output
    two = (await run(pool, code)).output
    assert one["cwd"] == one["home"] != two["cwd"]
    assert one["first"] and two["first"]  # no state leaks from one step to the next
    assert two["files"] == ["file.txt"]
    if pool.protections.isolation == "rlimits":
        assert not await asyncio.to_thread(os.path.exists, one["cwd"])  # removed at the end


async def test_nothing_a_step_writes_is_left_for_the_next(pool: CodeStepPool) -> None:
    write = (
        "import os, tempfile\n"
        "def handler(pd):\n"
        "    parent = os.path.dirname(os.getcwd())\n"
        "    open(os.path.join(parent, 'beside'), 'w').write('x')\n"
        "    return sorted(os.listdir(parent))\n"
    )
    first = (await run(pool, write)).output
    assert "beside" in first
    look = "import os\ndef handler(pd):\n    return os.listdir(os.path.dirname(os.getcwd()))\n"
    assert "beside" not in (await run(pool, look)).output


async def test_the_workflows_environment_reaches_the_step(pool: CodeStepPool) -> None:
    code = "import os\ndef handler(pd):\n    return os.environ.get('REGION')\n"
    assert (await run(pool, code, environment={"REGION": "eu"})).output == "eu"
    assert (await run(pool, code)).output is None


def _bound_tree(files: int) -> str:
    """A source tree below /tmp (as in a clone there), with a sentinel file."""
    home = tempfile.mkdtemp(prefix="emitflow-test-tree-", dir="/tmp")
    tree = os.path.join(home, "clone", "src")
    for index in range(files):
        folder = os.path.join(tree, f"d{index // 100}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{index}.py"), "w") as handle:
            handle.write("x = 1\n")
    with open(os.path.join(tree, "SENTINEL"), "w") as handle:
        handle.write("keep me")
    return tree


async def test_a_tree_bound_below_tmp_is_kept_and_the_steps_files_go() -> None:
    tree = await asyncio.to_thread(_bound_tree, 2_000)
    try:
        pool = await start_pool("bwrap", extra_paths=(tree,))
        try:
            write = (
                "import os\n"
                "def handler(pd):\n"
                "    open('mine.txt', 'w').write('x')\n"
                "    open('/tmp/beside.txt', 'w').write('x')\n"
                f"    return open({os.path.join(tree, 'SENTINEL')!r}).read()\n"
            )
            look = (
                "import os\n"
                "def handler(pd):\n"
                f"    return [sorted(os.listdir('/tmp')), os.listdir('.'),\n"
                f"            open({os.path.join(tree, 'SENTINEL')!r}).read()]\n"
            )
            assert (await run(pool, write)).output == "keep me"
            top, mine, sentinel = (await run(pool, look)).output
            assert "beside.txt" not in top
            assert mine == []  # a fresh directory: the last step's file is gone
            assert sentinel == "keep me"  # the bound tree is still there, whole
        finally:
            await pool.close()
        sentinel = os.path.join(tree, "SENTINEL")
        assert await asyncio.to_thread(Path(sentinel).read_text) == "keep me"
    finally:
        await asyncio.to_thread(shutil.rmtree, os.path.dirname(os.path.dirname(tree)))


async def test_asyncio_is_loaded_by_the_first_step_that_mentions_async(pool: CodeStepPool) -> None:
    # The worker starts lean (every module it holds is copied into each step's process).
    probe = "import sys\ndef handler(pd):\n    return ('asyn' + 'cio') in sys.modules\n"
    assert (await run(pool, probe)).output is False
    waits = "import asyncio\nasync def handler(pd):\n    await asyncio.sleep(0)\n    return 1\n"
    assert (await run(pool, waits)).output == 1
    assert (await run(pool, probe)).output is True  # loaded for good
