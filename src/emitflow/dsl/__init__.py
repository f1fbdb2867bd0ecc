"""The DSL: loading YAML 1.2/JSON documents, validation, and the immutable model."""

from emitflow.dsl.loader import from_mapping, load_workflow, parse_workflow
from emitflow.dsl.model import Workflow
from emitflow.dsl.python import python_workflow

__all__ = ["Workflow", "from_mapping", "load_workflow", "parse_workflow", "python_workflow"]
