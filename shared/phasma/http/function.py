"""Entry point a function's `main.py` calls: build the named function for this process."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug import Request, Response

from phasma.config import get_settings
from phasma.http.pipeline import HttpFunction
from phasma.logs import configure_logging
from phasma.registry import get_function
from phasma.runtime import Runtime


def http_function(name: str) -> Callable[[Request], Response]:
    """The registered HTTP function `name`, wired to this process's runtime.

    functions-framework accepts only a plain function as its target, so the
    pipeline object is wrapped in one.
    """
    settings = get_settings()
    configure_logging(name, settings.log_level)
    function = get_function(name)
    pipeline = HttpFunction(function, Runtime(function, settings))

    def handle(request: Request) -> Response:
        return pipeline.handle(request)

    handle.__doc__ = f"The `{name}` function: {function.summary}."
    return handle
