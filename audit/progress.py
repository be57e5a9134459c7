"""A progress line for long commands: ``N/total rows, rate/s, ETA`` on a terminal, nothing in scripts.

``verify_audit`` and ``audit_export`` (and ``audit_bundle``) read millions of
rows; a person at a terminal wants to see them move, a cron job or a pipe wants
no noise. So the line goes to stderr (stdout may be the export itself), is
redrawn in place with a carriage return at most every ``interval`` seconds,
and is written only when stderr is a terminal and verbosity is at least 1.

The total is a hint: ``row_total`` gives a cheap one, and the line never shows
a total below the rows already done.
"""

import time
from collections.abc import Callable
from datetime import timedelta

from django.core.management.base import BaseCommand, OutputWrapper
from django.db import connection
from django.db.models import QuerySet

#: Seconds between two redraws.
INTERVAL = 0.5


def row_total(queryset: QuerySet) -> int:
    """How many rows ``queryset`` yields, cheaply enough to show progress against.

    An unfiltered queryset on PostgreSQL reads the planner's estimate
    (``pg_class.reltuples``, kept by ANALYZE and autovacuum): no scan of a
    table of millions of rows before the work starts. A filtered one (or a
    table never analysed, or SQLite) is a ``COUNT(*)``: the API's filters are
    indexed, and this runs only when a person watches a terminal.
    """
    if connection.vendor == "postgresql" and not queryset.query.where and not queryset.query.is_sliced:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table]
            )
            row = cursor.fetchone()
        if row is not None and row[0] >= 0:  # -1: never analysed
            return row[0]
    return queryset.count()


def _duration(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))


class Progress:
    """Reports ``done`` rows out of ``total`` to ``stream`` (see the module docstring).

    Call ``update(done)`` as often as convenient (it draws at most every
    ``interval`` seconds) and ``finish()`` once at the end. Disabled, it writes
    nothing and costs one comparison per call.
    """

    def __init__(
        self,
        stream,
        *,
        total: int | None,
        enabled: bool,
        unit: str = "rows",
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stream = stream
        self.total = total
        self.enabled = enabled
        self.unit = unit
        self.interval = INTERVAL if interval is None else interval
        self.clock = clock
        self.started = clock()
        self.next_draw = self.started + self.interval
        self.done = 0
        self._width = 0

    @classmethod
    def for_command(cls, command: BaseCommand, verbosity: int, total: Callable[[], int | None], **kwargs) -> "Progress":
        """A progress line on the command's stderr, drawn only on a terminal at verbosity 1 or more;
        ``total()`` is called only then (a script pays nothing for it)."""
        enabled = verbosity >= 1 and command.stderr.isatty()
        return cls(command.stderr, total=total() if enabled else None, enabled=enabled, **kwargs)

    def line(self) -> str:
        """``1,234/5,000 rows (24%), 2,000 rows/s, ETA 0:00:02``."""
        elapsed = self.clock() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.total is None:
            return f"{self.done:,} {self.unit}, {rate:,.0f} {self.unit}/s, {_duration(elapsed)} elapsed"
        total = max(self.total, self.done)
        percent = self.done * 100 // total if total else 100
        eta = _duration((total - self.done) / rate) if rate > 0 else "?"
        return f"{self.done:,}/{total:,} {self.unit} ({percent}%), {rate:,.0f} {self.unit}/s, ETA {eta}"

    def update(self, done: int) -> None:
        self.done = done
        if self.enabled and self.clock() >= self.next_draw:
            self._draw()
            self.next_draw = self.clock() + self.interval

    def finish(self) -> None:
        """Draws the final count (now the exact total) and ends the line."""
        if self.enabled:
            self.total = self.done
            self._draw()
            self._write("\n")

    def _draw(self) -> None:
        text = self.line()
        # Spaces wipe what is left of a longer previous line.
        self._write("\r" + text.ljust(self._width))
        self._width = len(text)

    def _write(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):  # without its error colour and newline
            self.stream.write(text, style_func=str, ending="")
        else:
            self.stream.write(text)
        self.stream.flush()
