"""Structured logging: structlog for our code, the standard library's loggers routed through it.

JSON lines when stderr is not a terminal (or when asked), readable console output otherwise.

A request id follows one request across services: Nginx sends ``X-Request-ID`` to every API,
the APIs bind it to their log context for the request (``shared.web``), ingestapi passes it on
in the Celery task's headers and the worker binds it for that task. Every log line written
meanwhile carries it as ``request_id``.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid

import structlog

from shared.config import LogSettings

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_TASK_HEADER = "request_id"  # the Celery message header carrying it to the worker
# What a caller may choose (Nginx's own ids are 32 hex digits). Anything else is replaced, so a
# client cannot forge log lines or fill log fields through the header.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def configure_logging(settings: LogSettings, service: str) -> None:
    json_output = (
        settings.json_output if settings.json_output is not None else not sys.stderr.isatty()
    )
    shared_processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level.upper())
    # pymilvus logs every failed RPC with a traceback at ERROR; we log our own, once.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def _add_service(service: str) -> structlog.typing.Processor:
    def add(_: object, __: str, event: structlog.typing.EventDict) -> structlog.typing.EventDict:
        event.setdefault("service", service)
        return event

    return add


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)


def valid_request_id(given: str | None) -> str | None:
    """``given`` when it is a request id we accept, else None."""
    return given if given is not None and _REQUEST_ID.fullmatch(given) else None


def request_id_or_new(given: str | None) -> str:
    """``given`` when it is a request id we accept, else a new one."""
    return valid_request_id(given) or uuid.uuid4().hex


def bind_request_id(request_id: str) -> None:
    """Every log line of this context (a request, a task) carries ``request_id`` from now on."""
    structlog.contextvars.bind_contextvars(request_id=request_id)


def unbind_request_id() -> None:
    structlog.contextvars.unbind_contextvars("request_id")


def current_request_id() -> str | None:
    """The request id bound in this context, if any."""
    found = structlog.contextvars.get_contextvars().get("request_id")
    return str(found) if found is not None else None
