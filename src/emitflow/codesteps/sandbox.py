"""How code-step workers are started: scrubbed environment, bubblewrap, unprivileged uid.

Two isolation modes, chosen when a pool starts (``auto`` tries the first and falls back):

``bwrap``
    The worker runs under bubblewrap: new pid, ipc, uts, cgroup and (unless allowed) network
    namespaces; a root made of read-only binds of ``/usr``, a few ``/etc`` files, the Python
    interpreter, the virtualenv and emitflow's package, plus a private size-limited tmpfs at
    ``/tmp`` where each step gets its own directory. Nothing else of the host is visible: not
    the store's database, not the user's home. When the engine runs as root, bwrap keeps only
    CAP_SETUID/CAP_SETGID and the worker drops to a uid of its own.
``rlimits``
    The worker runs as a plain child process with the same rlimits, environment and per-step
    directory, but sees the host's filesystem with its uid's rights. As root it drops to a uid
    of its own when that uid can still read the interpreter; otherwise it stays root and
    RLIMIT_NPROC does not bite (the kernel exempts root).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import emitflow

__all__ = [
    "BWRAP_TMP",
    "Protections",
    "bwrap_command",
    "bwrap_executable",
    "bwrap_supports",
    "protections",
    "scrubbed_environment",
    "worker_command",
]

#: Where a bwrap worker's step directories live inside the sandbox.
BWRAP_TMP = "/tmp"
_SAFE_VARIABLES = ("PATH", "LANG", "LANGUAGE", "TZ")
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
_ETC_ALWAYS = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives")
_ETC_NETWORK = (
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/ssl",
    "/etc/ca-certificates",
)
_TOP_LEVEL = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def scrubbed_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An allowlisted environment: PATH, locale and TZ from ours, then ``extra``.

    Nothing else passes: no ``EMITFLOW_*``, no tokens, keys or credentials, no proxy settings.
    """
    env = {name: os.environ[name] for name in _SAFE_VARIABLES if name in os.environ}
    env.update({k: v for k, v in os.environ.items() if k.startswith("LC_")})
    env.setdefault("PATH", _DEFAULT_PATH)
    env.update(extra or {})
    return env


def bwrap_executable() -> str | None:
    """The ``bwrap`` program on PATH, if installed."""
    return shutil.which("bwrap")


@functools.cache
def bwrap_supports(bwrap: str, option: str) -> bool:
    """Whether this ``bwrap`` lists ``option`` in its ``--help``."""
    try:
        found = subprocess.run(
            [bwrap, "--help"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return option in found.stdout + found.stderr


def package_root() -> Path:
    """The directory holding the ``emitflow`` package (a site-packages or a source tree)."""
    return Path(emitflow.__file__).resolve().parent.parent


def worker_command(python: str, *, workdir: str, user: int | None, sandboxed: bool) -> list[str]:
    """The command line that starts one worker."""
    argv = [python, "-B", "-s", "-m", "emitflow.codesteps.worker", "--workdir", workdir]
    if user is not None:
        argv += ["--user", str(user)]
    if sandboxed:
        argv.append("--sandboxed")
    return argv


def _covered(path: str, roots: Iterable[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _python_paths(python: str) -> list[str]:
    candidates = [sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix]
    candidates += [os.path.dirname(python), os.path.dirname(os.path.realpath(python))]
    candidates.append(str(package_root() / "emitflow"))
    # A symlinked directory is bound at its own path and at its target's, so both resolve.
    return candidates + [os.path.realpath(p) for p in candidates]


def _read_only_binds(python: str, network: bool, extra: Iterable[str]) -> list[str]:
    paths = [*_python_paths(python), *extra]
    bound: list[str] = ["/usr"]
    for path in sorted({os.path.abspath(p) for p in paths}, key=len):
        if os.path.exists(path) and not _covered(path, bound):
            bound.append(path)
    etc = [*_ETC_ALWAYS, *(_ETC_NETWORK if network else ())]
    return bound + [p for p in etc if os.path.exists(p)]


def _parents(paths: Iterable[str]) -> list[str]:
    """Every directory above ``paths`` that bwrap must create, shallowest first."""
    made: set[str] = {"/"}
    out: list[str] = []
    for path in paths:
        parent = os.path.dirname(path)
        chain = []
        while parent not in made and not _covered(parent, ["/usr"]):
            chain.append(parent)
            made.add(parent)
            parent = os.path.dirname(parent)
        out += reversed(chain)
    return out


def bwrap_command(
    bwrap: str,
    inner: list[str],
    *,
    network: bool,
    tmpfs_bytes: int,
    extra_paths: Iterable[str] = (),
) -> list[str]:
    """``inner`` (the worker's command) wrapped in bubblewrap, as described above."""
    argv = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc"]
    argv += ["--unshare-uts", "--hostname", "emitflow-step", "--unshare-cgroup-try"]
    if not network:
        argv.append("--unshare-net")
    if os.geteuid() == 0:
        # Root keeps just what the worker needs to drop to its own uid; that drop clears them.
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        argv.append("--unshare-user")
        if bwrap_supports(bwrap, "--disable-userns"):
            # bubblewrap >= 0.8: no user namespace can be made inside this one (the seccomp
            # filter of syscalls.py refuses them too, in every mode).
            argv.append("--disable-userns")
    for top in _TOP_LEVEL:
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    # The tmpfs first, so that a bind below /tmp (a virtualenv there, say) lands on top of it.
    argv += ["--perms", "1777", "--size", str(tmpfs_bytes), "--tmpfs", BWRAP_TMP]
    binds = _read_only_binds(inner[0], network, extra_paths)
    for parent in _parents(binds):
        # bwrap would make missing parents 0700, which the dropped uid could not traverse.
        argv += ["--perms", "0755", "--dir", parent]
    for path in binds:
        argv += ["--ro-bind", path, path]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--chdir", BWRAP_TMP, "--", *inner]
    return argv


@dataclass(frozen=True, slots=True, kw_only=True)
class Protections:
    """Which protections hold for the steps of a pool, as measured when it started."""

    isolation: str
    #: Only the interpreter, the virtualenv, emitflow and the step's directory are visible.
    filesystem_hidden: bool
    #: The step has no network (an empty network namespace).
    network_isolated: bool
    #: Workers run under a uid of their own (not root, not the engine's).
    own_uid: bool
    #: How RLIMIT_NPROC holds: "per worker", "shared with the engine's user", or "not enforced".
    process_limit: str
    #: Whether every process a step started is killed when it ends (not only its group).
    full_cleanup: bool
    #: Whether a step is unable to raise its own rlimits (false only for steps running as
    #: root with all capabilities: rlimits isolation when the uid drop is impossible).
    limits_irrevocable: bool
    #: Whether the seccomp filter of ``syscalls.py`` holds: no namespaces, mounts, ptrace,
    #: bpf, keyrings or perf events.
    namespaces_denied: bool = False
    # These hold in every mode.
    memory_limit: bool = True
    cpu_limit: bool = True
    wall_timeout: bool = True
    scrubbed_environment: bool = True
    private_directory: bool = True
    output_capped: bool = True

    def describe(self) -> str:
        """One line per protection, for logs and the README."""
        lines = [f"isolation: {self.isolation}"]
        for name in (
            "filesystem_hidden",
            "network_isolated",
            "own_uid",
            "full_cleanup",
            "limits_irrevocable",
            "namespaces_denied",
            "memory_limit",
            "cpu_limit",
            "wall_timeout",
            "scrubbed_environment",
            "private_directory",
            "output_capped",
        ):
            lines.append(f"{name}: {'yes' if getattr(self, name) else 'no'}")
        lines.append(f"process_limit: {self.process_limit}")
        return "\n".join(lines)


def protections(isolation: str, hello: Mapping[str, object], *, network: bool) -> Protections:
    """What holds, from the isolation mode and the first worker's hello."""
    counting = {
        "absolute": "per worker",
        "relative": "shared with the engine's user",
        "none": "not enforced (root)",
    }
    sandboxed = isolation == "bwrap"
    return Protections(
        isolation=isolation,
        filesystem_hidden=sandboxed,
        network_isolated=sandboxed and not network,
        own_uid=hello.get("dropped") is True,
        process_limit=counting.get(str(hello.get("processes")), "unknown"),
        full_cleanup=hello.get("sweep") is True,
        limits_irrevocable=sandboxed or hello.get("uid") != 0,
        namespaces_denied=hello.get("seccomp") == "loaded",
    )
