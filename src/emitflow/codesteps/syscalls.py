"""The seccomp filter of code-step workers: no namespaces, no mounts, no tracing, no kernel keys.

A step that can create a user namespace gets every capability inside it, and with them can
mount over its own root, ``pivot_root`` out of the view bubblewrap built, or reach kernel code
(bpf, perf, keyrings) that unprivileged users rarely need and attackers often do. The worker
loads this filter on itself before it serves its first step, so every step it forks inherits
it and cannot remove it (seccomp filters only ever get stricter). It holds in both isolation
modes, including a step that runs as root under ``rlimits``.

The filter is built with libseccomp through ``pyseccomp`` (ctypes bindings): it resolves the
syscall numbers of the running architecture and refuses foreign-architecture calls (a 32-bit
``int 0x80`` on x86-64 is killed). A refused call fails with ``EPERM``; ``clone3``, whose flags
the filter cannot read, fails with ``ENOSYS`` so that the C library falls back to ``clone``,
whose namespace flags it can read.
"""

from __future__ import annotations

import errno
from typing import Any

__all__ = ["DENIED", "NAMESPACE_FLAGS", "load_filter"]

#: Syscalls refused outright.
DENIED = (
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "bpf",
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
)

#: ``clone`` flags that make a namespace: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER,
#: NEWPID, NEWNET and NEWTIME. ``clone`` with any of them is refused.
NAMESPACE_FLAGS = (
    0x00020000,
    0x02000000,
    0x04000000,
    0x08000000,
    0x10000000,
    0x20000000,
    0x40000000,
    0x00000080,
)


def _add(rules: Any, action: Any, name: str, *args: Any) -> None:
    try:
        rules.add_rule(action, name, *args)
    except OSError as exc:
        # libseccomp refuses a name it cannot resolve (EINVAL): a syscall that this
        # libseccomp (and so, in practice, this kernel) does not know cannot be called either.
        if exc.errno != errno.EINVAL:
            raise


def load_filter() -> str | None:
    """Load the filter on the calling process (and its future children).

    ``None`` once loaded, else why it could not be (libseccomp missing, say): the worker
    reports that in its hello, and the pool's protections show it.
    """
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as exc:
        return f"libseccomp is not available ({exc})"
    try:
        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        refuse = seccomp.ERRNO(errno.EPERM)
        for name in DENIED:
            _add(rules, refuse, name)
        for flag in NAMESPACE_FLAGS:
            _add(rules, refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        _add(rules, seccomp.ERRNO(errno.ENOSYS), "clone3")
        rules.load()
    except (RuntimeError, ValueError, OSError) as exc:
        return f"the seccomp filter could not be loaded ({exc})"
    return None
