"""Entry points a function's `main.py` calls: build the named function for this process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from werkzeug import Request, Response

from phasma.config import get_settings
from phasma.http.pipeline import HttpFunction
from phasma.logs import configure_logging
from phasma.registry import Function, get_function
from phasma.runtime import Runtime

Target = Callable[[Request], Response]


class RequestHandler(Protocol):
    def handle(self, request: Request) -> Response: ...


def as_target(name: str, summary: str, handler: RequestHandler) -> Target:
    """`handler` wrapped in the plain function functions-framework requires as its target."""

    def handle(request: Request) -> Response:
        return handler.handle(request)

    handle.__doc__ = f"The `{name}` function: {summary}."
    return handle


def start_process(name: str) -> tuple[Function, Runtime]:
    """Configure logging and build the runtime of the registered function `name`."""
    settings = get_settings()
    configure_logging(name, settings.log_level)
    function = get_function(name)
    return function, Runtime(function, settings)


def http_function(name: str) -> Target:
    """The registered HTTP function `name`, wired to this process's runtime."""
    function, runtime = start_process(name)
    return as_target(name, function.summary, HttpFunction(function, runtime))
