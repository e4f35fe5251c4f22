"""``qharness`` with the delivery commands registered, for subprocess tests.

Until the CLI registers ``send`` and ``test-destination`` itself this adds them; afterwards it
is exactly ``qharness``.
"""

from __future__ import annotations

import sys

from connector.cli import cli, main
from connector.cli.send import send, test_destination

__all__ = ["main"]

for command in (send, test_destination):
    if command.name not in cli.commands:
        cli.add_command(command)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
