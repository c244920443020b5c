"""The application log: every module logs through a ``portal.*`` logger (``portal.mail``,
``portal.sessions``...), and records go to the root logger's handlers, which the deployment
configures (``gunicorn --log-config``, a container's log driver).

Flask's default handler is taken off ``app.logger`` (the ``portal`` logger): it writes to
whatever ``sys.stderr`` is at that moment, one unformatted line, around every handler the
deployment set up. When nothing configured the root logger (``flask run``, ``make run``),
one handler is added: one line per record, with the time, level and logger name, on
standard error — where a process's log belongs — the ``portal`` loggers at ``LOG_LEVEL`` (default INFO).
"""

from __future__ import annotations

import logging
import os

from flask import Flask
from flask.logging import default_handler

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def init_app(app: Flask) -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    app.logger.removeHandler(default_handler)
    app.logger.setLevel(level)
    app.logger.propagate = True
    root = logging.getLogger()
    if not root.handlers:
        # The handler passes what reaches it; the root logger's own level stays as it is
        # (WARNING), so libraries' INFO chatter (alembic's plugins...) stays out, while the
        # portal's loggers (LOG_LEVEL) and werkzeug's request lines come through.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
