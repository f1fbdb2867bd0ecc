"""What one code step or process may use: memory, CPU time, processes, output, emits, files.

The limits travel to the worker with each request, and the worker applies them with
``setrlimit`` in the forked process that runs the step, so they cannot be raised from inside it
(the hard limit equals the soft one). ``run_process`` applies the same numbers to commands.
"""

from __future__ import annotations

import resource
from dataclasses import asdict, dataclass, fields
from typing import Any

from emitflow.errors import ConfigurationError

__all__ = ["MIB", "Limits", "apply_process_limits", "apply_step_limits"]

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Per-step resource limits; every field is a positive number."""

    #: Address space of the step's process (RLIMIT_AS); ``run_process`` uses RLIMIT_DATA.
    memory_bytes: int = 256 * MIB
    #: CPU seconds (RLIMIT_CPU): SIGXCPU at this many, SIGKILL one second later.
    cpu_seconds: int = 30
    #: Processes the step may have at once, itself included (RLIMIT_NPROC, see sandbox.py).
    max_processes: int = 64
    #: Captured stdout+stderr kept per step (per stream for ``run_process``); the rest is counted.
    max_log_bytes: int = 1 * MIB
    #: ``pd.send.emit`` calls per step.
    max_emits: int = 10_000
    #: Total JSON size of all emits of one step (data and attributes).
    max_emit_bytes: int = 16 * MIB
    #: JSON size of the return value, and of all exports and the response together.
    max_output_bytes: int = 16 * MIB
    #: Largest file the step may write (RLIMIT_FSIZE).
    max_file_bytes: int = 64 * MIB

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigurationError(
                    f"code-step limit {item.name}={value!r} is invalid; give a positive integer"
                )

    def to_wire(self) -> dict[str, int]:
        """The JSON object sent to the worker."""
        return asdict(self)

    @classmethod
    def from_wire(cls, data: Any) -> Limits:
        """Limits from their JSON object; unknown keys are refused."""
        if not isinstance(data, dict):
            raise ConfigurationError(f"code-step limits must be an object, not {data!r}")
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigurationError(
                f"unknown code-step limit(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        return cls(**data)

    @property
    def frame_bytes(self) -> int:
        """The largest result a worker may send back: outputs, emits and their envelopes."""
        return self.max_output_bytes + self.max_emit_bytes + self.max_emits * 64 + MIB


def _set_pair(which: int, soft: int, hard: int) -> None:
    _, current = resource.getrlimit(which)
    # An unprivileged process cannot raise a hard limit; never ask for more than is allowed.
    if current != resource.RLIM_INFINITY:
        hard = min(hard, current)
    resource.setrlimit(which, (min(soft, hard), hard))


def _set(which: int, value: int) -> None:
    _set_pair(which, value, value)


def apply_step_limits(limits: Limits, *, process_base: int = 0) -> None:
    """Set the rlimits of the current process (the forked step) to ``limits``; irreversible.

    ``process_base`` is how many processes the same user already runs when that user is shared
    with other programs (see ``sandbox.py``); the step may start ``max_processes`` more.
    """
    _set(resource.RLIMIT_AS, limits.memory_bytes)
    # A forked process starts with zero CPU time, so the step gets the whole allowance. The soft
    # limit sends SIGXCPU (reported as the CPU limit); the hard one, a second later, kills.
    _set_pair(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1)
    _set(resource.RLIMIT_NPROC, process_base + limits.max_processes)
    _set(resource.RLIMIT_FSIZE, limits.max_file_bytes)
    # A crashing step must not leave core files behind.
    _set(resource.RLIMIT_CORE, 0)


def apply_process_limits(limits: Limits) -> None:
    """Limits for a ``run: script|shell`` process, called between fork and exec.

    Memory is RLIMIT_DATA here, not RLIMIT_AS: node and JVMs reserve gigabytes of address
    space they never use and refuse to start under an address-space limit. Only ``setrlimit``
    runs here, which takes no lock that a thread of the parent could hold across the fork.
    """
    _set(resource.RLIMIT_DATA, limits.memory_bytes)
    _set(resource.RLIMIT_CPU, limits.cpu_seconds)
    _set(resource.RLIMIT_FSIZE, limits.max_file_bytes)
    _set(resource.RLIMIT_CORE, 0)
