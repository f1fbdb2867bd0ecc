"""``python -m emitflow``."""

from emitflow.cli import main

main()
