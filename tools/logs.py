"""Loggers that behave as a guest: hragent never configures logging for its host.

`structlog.get_logger` on an unconfigured structlog prints every level to stdout, which a library
must not do (it would corrupt a stdio protocol and flood a service's output). So each hragent logger
asks at call time: has the host configured structlog? Then it is a structlog logger under the host's
configuration. Otherwise it goes through the standard `logging` module under its own name
(`graphs.solver`, `tools.ingest.pipeline`, ...), where the host's levels and handlers apply (by
default, warnings and errors only, to stderr). `agent.logging.configure_logging` opts in to
hragent's own structlog set-up (the CLI does).
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

_STDLIB_PROCESSORS: list[Any] = [
    structlog.stdlib.filter_by_level,  # cheap: a disabled level costs no formatting
    structlog.contextvars.merge_contextvars,
    structlog.processors.format_exc_info,
    structlog.processors.KeyValueRenderer(key_order=["event"], sort_keys=True),
]


class GuestLogger:
    """A structlog-style logger (`log.info("event", key=value)`, `log.bind(...)`) that defers to the
    host's configuration, decided at each call (a host may configure logging after importing us)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._stdlib: Any = None

    def _target(self) -> Any:
        if structlog.is_configured():
            return structlog.get_logger(self._name)
        if self._stdlib is None:
            self._stdlib = structlog.wrap_logger(
                logging.getLogger(self._name),
                processors=_STDLIB_PROCESSORS,
                wrapper_class=structlog.stdlib.BoundLogger,
            )
        return self._stdlib

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._target(), attr)


def get_logger(name: str) -> GuestLogger:
    """The logger every hragent module uses instead of `structlog.get_logger`."""
    return GuestLogger(name)
