"""What every command-line entry point shares: one-line errors and exit statuses.

``picojoule`` (:mod:`sim.cli`) and the ``python -m`` entry points of the units run their parsed
command through :func:`run_command`: every error a user can cause (bad name, missing tool,
failed simulation) ends as one line on stderr and exit status 1, never a traceback (set
PICOJOULE_DEBUG=1 to see one); Ctrl-C ends with status 130.
"""

import argparse
import os
import sys
import time

from .flow.toolchain import ToolError

__all__ = ["Parser", "run_command"]


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + error
        raise ToolError(message)


def run_command(build_parser, argv=None) -> int:
    """Parse ``argv`` with ``build_parser()`` and run the chosen subcommand's ``func``."""
    from sim.rtl.runner import SimFailure

    started = time.monotonic()
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (ToolError, ValueError, TypeError, SimFailure, FileNotFoundError) as err:
        if os.environ.get("PICOJOULE_DEBUG"):
            raise
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"picojoule: error: {first}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"picojoule: interrupted after {time.monotonic() - started:.0f} s",
              file=sys.stderr)
        return 130
