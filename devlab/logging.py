"""One JSON object per log line, for request logs and the audit mirror."""

import json
import logging
import logging.handlers
import os
from datetime import UTC, datetime

from devlab import context

# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Formats a record as ``{"time", "level", "logger", "message", ...extra}``.

    The current request id is added when the record does not carry one, so a
    warning logged deep inside a view can be matched to its request line.
    """

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS})
        if "request_id" not in payload and (ctx := context.current()) is not None:
            payload["request_id"] = ctx.request_id
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class AppendFileHandler(logging.handlers.WatchedFileHandler):
    """A log file shared by every worker process, rotated from outside (logrotate).

    Each record is one ``write(2)`` of the whole line on a file opened with
    ``O_APPEND``, so lines of concurrent processes never interleave or
    overwrite each other; before each record the file is reopened when it was
    renamed or removed (``WatchedFileHandler``), so that after a rotation every
    process writes to the new file and none to the old one for longer than one
    line. The processes never rotate the file themselves: with one
    ``RotatingFileHandler`` per worker, each renames the others' files from
    under them and lines are lost. Rotate by renaming (logrotate's default,
    never ``copytruncate``): docs/operations.md.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.reopenIfNeeded()
            if self.stream is None:
                self.stream = self._open()
            data = (self.format(record) + self.terminator).encode(self.encoding or "utf-8")
            fd = self.stream.fileno()
            written = os.write(fd, data)
            while written < len(data):  # only on a full disk or a signal; the rest still goes on
                written += os.write(fd, data[written:])
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
