"""The ``needsmap`` command (and ``python -m needsmap``): :func:`needsmap.cli.main`, run
as a one-shot process.

Loading the libraries makes about a million objects and no garbage, yet the garbage
collector keeps walking them as they load: 0.4-0.8 s of a 2 s start. So they load with
the collector off, and are then frozen: no later collection walks them again, nor the
last sweep at exit (another 0.5 s). Tests call ``cli.main`` directly and keep the
collector as it is. Ctrl-C ends the command with one line and exit code 130, and never
lets a run replace its outputs (``integrity.on_interrupt``).
"""

from __future__ import annotations

import gc
import signal
import sys


def main() -> None:
    gc.disable()
    from needsmap import cli, integrity

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when ignored
        signal.signal(signal.SIGINT, integrity.on_interrupt)
    gc.freeze()
    gc.enable()
    try:
        code = cli.main()
    except KeyboardInterrupt:
        # A run puts the output folder back as it was before the interrupt reaches here.
        print("needsmap: interrupted", file=sys.stderr)
        code = 130
    gc.freeze()  # what the run made is freed with the process
    sys.exit(code)


if __name__ == "__main__":
    main()
