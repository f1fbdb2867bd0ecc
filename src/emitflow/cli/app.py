"""The ``emitflow`` command: thin commands that map one-to-one onto library calls.

Every command lives in its own module, which is imported (and its options built) only when
the command is looked up: ``emitflow validate`` loads the ``validate`` module and nothing of the
other commands, and each command imports what it needs when it runs, so that ``emitflow
--help`` loads typer and nothing of the runtime, the store, the API or httpx.
Exit codes: 0 success; 1 the run faulted, the server refused, or what was asked for does not
exist; 2 the document or the arguments are invalid. Every option also reads its
``EMITFLOW_<OPTION>`` variable (shown in ``--help``).
"""

import sys
from collections.abc import Callable, Iterator, MutableMapping
from importlib import import_module
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.main
from typer.core import TyperGroup

if TYPE_CHECKING:
    # typer builds its commands on its own copy of click, not on the ``click`` package.
    from typer._click import Command

__all__ = ["COMMANDS", "app", "main"]

#: The commands in the order ``--help`` lists them: name → (module, attribute, is a group).
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "run": ("run", "run", False),
    "validate": ("validate", "validate", False),
    "serve": ("serve", "serve", False),
    "worker": ("worker", "worker", False),
    "migrate": ("migrate", "migrate", False),
    "deploy": ("deploy", "deploy", False),
    "events": ("events", "app", True),
    "subscriptions": ("subscriptions", "app", True),
    "runs": ("runs", "app", True),
    "tokens": ("tokens", "app", True),
    "webhooks": ("webhooks", "app", True),
    "destinations": ("destinations", "app", True),
}


def _version(value: bool) -> None:
    if value:
        from emitflow import __version__

        typer.echo(f"emitflow {__version__}")
        raise typer.Exit()


def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Event-driven workflows: Serverless Workflow DSL 1.0 and Python code steps."""


def _root(cls: type[TyperGroup] | None = None) -> typer.Typer:
    root = typer.Typer(
        name="emitflow",
        help="Event-driven workflows: Serverless Workflow DSL 1.0 and Python code steps.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        cls=cls,
    )
    root.callback()(_options)
    return root


def _build(name: str) -> "Command":
    """The click command of ``name``, built by typer exactly as in a tree of all commands."""
    module, attribute, group = COMMANDS[name]
    target: Any = getattr(import_module(f"emitflow.cli.{module}"), attribute)
    root = _root()
    if group:
        root.add_typer(target)
    else:
        root.command(name)(target)
    built = typer.main.get_group(root).commands[name]
    return built


class _Commands(MutableMapping[str, "Command"]):
    """The root's subcommands, each built on first lookup (``--help`` builds them all)."""

    def __init__(self) -> None:
        self._built: dict[str, Command] = {}

    def __getitem__(self, name: str) -> "Command":
        command = self._built.get(name)
        if command is None:
            if name not in COMMANDS:
                raise KeyError(name)
            command = self._built[name] = _build(name)
        return command

    def __setitem__(self, name: str, command: "Command") -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("the emitflow commands cannot be removed")

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._built if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + sum(1 for name in self._built if name not in COMMANDS)

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._built


class _LazyGroup(TyperGroup):
    """The ``emitflow`` group, whose commands are imported when they are looked up."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands()


app = _root(_LazyGroup)


def main() -> None:
    """Entry point of the ``emitflow`` command."""
    run: Callable[[], Any] = app
    try:
        run()
    except KeyboardInterrupt:
        sys.exit(130)
