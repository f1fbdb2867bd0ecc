"""``Resync``: what a process caches of the store, read again when several processes share it.

An engine keeps the latest version of each workflow, the ``schedule.on`` strategies, the gates'
concurrency limits and the stored secrets in memory. On a shared store another process may
deploy, remove or store meanwhile, and no change report says so: every ``rescan_seconds`` the
deployed versions and the secrets are read again, and whatever changed is taken in.
"""

from __future__ import annotations

import asyncio
import logging

from emitflow.runtime.runs import Runs
from emitflow.runtime.starts import EventStarts
from emitflow.runtime.vault import SecretVault
from emitflow.runtime.workflows import Workflows
from emitflow.store.base import WorkflowStore

__all__ = ["Resync"]

logger = logging.getLogger(__name__)


class Resync:
    """Takes in other processes' deployments and secrets, every re-scan."""

    def __init__(
        self,
        store: WorkflowStore,
        workflows: Workflows,
        starts: EventStarts,
        runs: Runs,
        secrets: SecretVault,
        *,
        rescan_seconds: float,
    ) -> None:
        self._store = store
        self._workflows = workflows
        self._starts = starts
        self._runs = runs
        self._secrets = secrets
        self._rescan = rescan_seconds
        #: The latest revision of every workflow, as last read.
        self._revisions: dict[str, int] = {}

    async def run(self) -> None:
        """Read again every ``rescan_seconds``, until cancelled."""
        while True:
            await asyncio.sleep(self._rescan)
            try:
                await self.deployments()
                await self._secrets.load()
            except Exception:
                logger.exception("re-reading workflows and secrets failed; retrying")

    async def deployments(self) -> list[str]:
        """Take in the workflows deployed or removed since the last read; their ids."""
        versions = {v.id: v for v in await self._store.list_workflows()}
        known, self._revisions = self._revisions, {i: v.revision for i, v in versions.items()}
        changed = [i for i, v in versions.items() if known.get(i) != v.revision]
        changed += [i for i in known if i not in versions]
        for workflow_id in changed:
            self._workflows.forget(workflow_id)
            version = versions.get(workflow_id)
            if version is None:
                self._starts.forget(workflow_id)
            else:
                self._starts.register(
                    workflow_id, version.revision, self._workflows.parsed(version)
                )
            await self._runs.refresh(workflow_id)
        return changed
