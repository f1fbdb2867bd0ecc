"""The event runtime: ``Engine``, dispatcher, router, subscriptions, listener runs, schedules."""

from emitflow.runtime.engine import Engine
from emitflow.runtime.executor import Executor, engine_executor
from emitflow.runtime.reports import HOPS_EXTENSION
from emitflow.runtime.settings import EngineSettings, default_store_url
from emitflow.runtime.subscriptions import Subscriptions, source_emitter_id

__all__ = [
    "HOPS_EXTENSION",
    "Engine",
    "EngineSettings",
    "Executor",
    "Subscriptions",
    "default_store_url",
    "engine_executor",
    "source_emitter_id",
]
