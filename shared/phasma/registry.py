"""The function registry: the single list of deployable functions.

Each entry names the function, its kind, the routes it owns (with their access
class, rate-limit policy and handler), and the scaling profile Knative gives it.
The local gateway, the HTTP entry point, the manifest generator, the docs and
the tests all read this list; nothing else declares a route.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal


class Access(enum.Enum):
    """Auth class of a route (api.md §5.3)."""

    PUBLIC = "public"  # session never read for auth; cookie never refreshed
    OPTIONAL = "optional"  # a valid session personalises; otherwise anonymous
    REQUIRED = "required"  # no valid session -> 401


RateLimitPolicy = Literal["strict", "typeahead", "read", "mutation"]


@dataclass(frozen=True)
class Route:
    """One HTTP route: `METHOD /template/{param}` handled by `module:function`."""

    method: str
    path: str
    handler: str
    access: Access = Access.REQUIRED
    policy: RateLimitPolicy | None = None  # None: "read" for GET/HEAD, else "mutation"
    json_body: bool = False  # parse a JSON object body (api.md §7)

    @property
    def rate_limit_policy(self) -> RateLimitPolicy:
        if self.policy is not None:
            return self.policy
        return "read" if self.method in ("GET", "HEAD") else "mutation"

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))

    def resolve_handler(self) -> Callable[..., Any]:
        module_name, _, attribute = self.handler.partition(":")
        return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class Scaling:
    """Knative scaling and resources for one function (operations.md §1)."""

    min_scale: int
    max_scale: int
    target: int
    container_concurrency: int | None
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    timeout_seconds: int


@dataclass(frozen=True)
class Function:
    """One independently deployed function."""

    name: str
    kind: Literal["http", "event"]
    summary: str
    scaling: Scaling
    routes: tuple[Route, ...] = ()
    topics: tuple[str, ...] = field(default=())
    uses_database: bool = True
    hashes_passwords: bool = False  # computes the Argon2 decoy hash at start-up

    @property
    def source(self) -> str:
        """Path of the function's entry module, relative to the repository root."""
        return f"functions/{self.name}/main.py"


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="users",
        kind="http",
        summary="Registration, profiles and the signed-in account",
        hashes_passwords=True,
        scaling=Scaling(1, 6, 30, None, "100m", "1", "192Mi", "384Mi", 30),
        routes=(
            Route(
                "POST",
                "/users",
                "phasma.users.routes:register",
                access=Access.PUBLIC,
                policy="strict",
                json_body=True,
            ),
            Route("GET", "/users/me", "phasma.users.routes:get_me"),
            Route("PUT", "/users/me", "phasma.users.routes:update_me", json_body=True),
            Route(
                "GET",
                "/users/{username}",
                "phasma.users.routes:get_user",
                access=Access.OPTIONAL,
            ),
        ),
    ),
    Function(
        name="sessions",
        kind="http",
        summary="Log in, list and revoke sessions, log out",
        hashes_passwords=True,
        scaling=Scaling(1, 6, 8, 16, "500m", "1", "192Mi", "384Mi", 30),
        routes=(
            Route(
                "POST",
                "/sessions",
                "phasma.sessions.routes:log_in",
                access=Access.PUBLIC,
                policy="strict",
                json_body=True,
            ),
            Route("GET", "/sessions", "phasma.sessions.routes:list_sessions"),
            Route(
                "DELETE",
                "/sessions",
                "phasma.sessions.routes:log_out",
                access=Access.PUBLIC,
            ),
            Route("DELETE", "/sessions/{id}", "phasma.sessions.routes:revoke"),
        ),
    ),
)

_BY_NAME = {function.name: function for function in FUNCTIONS}


def get_function(name: str) -> Function:
    """The registered function called `name` (KeyError when unknown)."""
    return _BY_NAME[name]


def http_functions() -> tuple[Function, ...]:
    return tuple(function for function in FUNCTIONS if function.kind == "http")
