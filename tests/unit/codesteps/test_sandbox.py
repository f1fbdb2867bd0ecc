"""The worker's environment and bubblewrap command line."""

from __future__ import annotations

import os
import shutil

import pytest

from emitflow.codesteps.sandbox import (
    BWRAP_TMP,
    bwrap_command,
    bwrap_supports,
    protections,
    scrubbed_environment,
    worker_command,
)


def test_the_environment_is_an_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMITFLOW_TOKEN", "secret-xyz")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws")
    monkeypatch.setenv("GITHUB_TOKEN", "gh")
    monkeypatch.setenv("HTTPS_PROXY", "http://user:pw@proxy")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("LC_TIME", "C")
    env = scrubbed_environment({"HOME": "/tmp/x"})
    assert not {"EMITFLOW_TOKEN", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "HTTPS_PROXY"} & set(env)
    assert "secret-xyz" not in env.values()
    assert env["LANG"] == "C.UTF-8"
    assert env["LC_TIME"] == "C"
    assert env["HOME"] == "/tmp/x"
    assert "PATH" in env


def test_the_worker_command_runs_the_worker_module() -> None:
    argv = worker_command("/py", workdir="/w", user=7, sandboxed=True)
    assert argv == [
        "/py", "-B", "-s", "-m", "emitflow.codesteps.worker",
        "--workdir", "/w", "--user", "7", "--sandboxed",
    ]  # fmt: skip


def _pairs(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, item in enumerate(argv) if item == flag]


def test_bwrap_hides_the_host_and_binds_python_read_only() -> None:
    inner = worker_command("/usr/bin/python3", workdir=BWRAP_TMP, user=None, sandboxed=True)
    argv = bwrap_command("bwrap", inner, network=False, tmpfs_bytes=1024)
    for flag in ("--die-with-parent", "--unshare-pid", "--unshare-net", "--new-session"):
        assert flag in argv
    binds = _pairs(argv, "--ro-bind")
    assert "/usr" in binds
    assert "--bind" not in argv  # nothing of the host is writable
    assert "/" not in binds
    assert os.path.expanduser("~") not in binds  # the home holding the interpreter is not
    assert argv[argv.index("--tmpfs") - 2 : argv.index("--tmpfs") + 2] == [
        "--size", "1024", "--tmpfs", BWRAP_TMP,
    ]  # fmt: skip
    assert argv[argv.index("--") + 1 :] == inner


def test_bwrap_creates_parent_directories_traversable() -> None:
    inner = worker_command("/usr/bin/python3", workdir=BWRAP_TMP, user=None, sandboxed=True)
    argv = bwrap_command("bwrap", inner, network=False, tmpfs_bytes=1024, extra_paths=["/a/b/c"])
    made = _pairs(argv, "--dir")
    for index, item in enumerate(argv):
        if item == "--dir":
            assert argv[index - 2 : index] == ["--perms", "0755"]
    for index, path in enumerate(made):
        parent = os.path.dirname(path)
        assert parent in ("/", "/tmp") or parent in made[:index]  # parents come first
    for path in _pairs(argv, "--ro-bind"):
        parent = os.path.dirname(path)
        assert parent in made or parent == "/" or parent.startswith("/usr")


def test_network_when_allowed_keeps_the_namespace_and_resolver() -> None:
    inner = worker_command("/usr/bin/python3", workdir=BWRAP_TMP, user=None, sandboxed=True)
    argv = bwrap_command("bwrap", inner, network=True, tmpfs_bytes=1024)
    assert "--unshare-net" not in argv
    if os.path.exists("/etc/resolv.conf"):
        assert "/etc/resolv.conf" in _pairs(argv, "--ro-bind")


def test_protections_follow_the_mode_and_the_workers_hello() -> None:
    sandboxed = protections(
        "bwrap", {"dropped": True, "processes": "absolute", "sweep": True, "uid": 5}, network=False
    )
    assert sandboxed.filesystem_hidden and sandboxed.network_isolated and sandboxed.own_uid
    assert sandboxed.process_limit == "per worker"
    plain = protections(
        "rlimits", {"dropped": False, "processes": "none", "sweep": False, "uid": 0}, network=False
    )
    assert not plain.filesystem_hidden and not plain.full_cleanup
    assert not plain.limits_irrevocable
    assert plain.process_limit == "not enforced (root)"
    assert "isolation: rlimits" in plain.describe()


def test_an_unprivileged_engine_disables_user_namespaces_where_bwrap_can(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bwrap = shutil.which("bwrap")
    if bwrap is None or not bwrap_supports(bwrap, "--disable-userns"):
        pytest.skip("bubblewrap >= 0.8 (--disable-userns) is not installed")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    inner = worker_command("/usr/bin/python3", workdir=BWRAP_TMP, user=None, sandboxed=True)
    argv = bwrap_command(bwrap, inner, network=False, tmpfs_bytes=1024)
    assert argv.index("--unshare-user") < argv.index("--disable-userns") < argv.index("--")


def test_an_unknown_bwrap_supports_nothing() -> None:
    assert not bwrap_supports("/nonexistent/bwrap", "--disable-userns")
