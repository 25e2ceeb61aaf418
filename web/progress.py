"""Progress of a long command on a terminal: done / total, the rate and the time left.
Silent when the output is not a terminal (a log file, CI), where a final summary suffices."""

import sys
import time
from typing import TextIO


class TerminalProgress:
    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else 0.0
        self.stream.write(
            f"\r{self.label}: {done:,}/{total:,} ({done / total:.0%}), "
            f"{rate:,.0f}/s, {_duration(left)} left   "
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
