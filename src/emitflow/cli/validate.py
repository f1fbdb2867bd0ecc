"""``emitflow validate``: check documents without running them."""

from pathlib import Path
from typing import Annotated

import typer

from emitflow.cli.options import EXIT_INVALID

__all__ = ["validate"]


def validate(
    files: Annotated[
        list[Path], typer.Argument(help="DSL documents, or Python files defining handler(pd).")
    ],
) -> None:
    """Check documents (and Python code-step files): exit 0 if all are valid (warnings on
    stderr), 2 otherwise."""
    from emitflow.errors import ConfigurationError, DocumentError
    from emitflow.run_file import load_file

    invalid = 0
    for path in files:
        try:
            workflow = load_file(path)
        except ConfigurationError as exc:
            invalid += 1
            typer.echo(f"emitflow: {exc}", err=True)
            continue
        except DocumentError as exc:
            invalid += 1
            typer.echo(exc.render(), err=True)
            continue
        for warning in workflow.warnings:
            typer.echo(f"warning: {warning}", err=True)
        typer.echo(f"{path}: valid ({workflow.qualified_name})", err=True)
    if invalid:
        raise typer.Exit(EXIT_INVALID)
