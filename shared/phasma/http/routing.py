"""Route matching shared by every function and the local gateway.

A literal path segment beats a path parameter (docs/api.md §1), so `/users/me` wins
over `/users/{username}` whichever function owns each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

Target = TypeVar("Target")


@dataclass(frozen=True)
class Matched(Generic[Target]):
    """The path and method matched a route; `params` holds the path parameters."""

    template: str
    target: Target
    params: dict[str, str]


@dataclass(frozen=True)
class MethodNotAllowed:
    """The path is known but not for this method; `allowed` goes in the `Allow` header."""

    template: str
    allowed: tuple[str, ...]
    targets: tuple[object, ...]


def _specificity(segments: tuple[str, ...]) -> tuple[int, ...]:
    # Lower sorts first: literal segments (0) beat parameters (1), left to right.
    return tuple(1 if segment.startswith("{") else 0 for segment in segments)


class RouteTable(Generic[Target]):
    """Maps `(method, template)` pairs to targets and resolves request paths."""

    def __init__(self, entries: Iterable[tuple[str, str, Target]]) -> None:
        by_template: dict[str, dict[str, Target]] = {}
        for method, template, target in entries:
            methods = by_template.setdefault(template, {})
            if method in methods:
                raise ValueError(f"duplicate route {method} {template}")
            methods[method] = target
            if method == "GET":
                methods.setdefault("HEAD", target)
        self._templates = sorted(
            (
                (tuple(template.strip("/").split("/")), template, methods)
                for template, methods in by_template.items()
            ),
            key=lambda item: (len(item[0]), _specificity(item[0])),
        )

    def resolve(self, method: str, path: str) -> Matched[Target] | MethodNotAllowed | None:
        """The best route for `path`; None when no template matches the path at all."""
        segments = tuple(path.strip("/").split("/"))
        for template_segments, template, methods in self._templates:
            params = _match(template_segments, segments)
            if params is None:
                continue
            if method in methods:
                return Matched(template, methods[method], params)
            return MethodNotAllowed(template, tuple(sorted(methods)), tuple(methods.values()))
        return None


def _match(template: tuple[str, ...], segments: tuple[str, ...]) -> dict[str, str] | None:
    if len(template) != len(segments):
        return None
    params: dict[str, str] = {}
    for expected, actual in zip(template, segments, strict=True):
        if expected.startswith("{"):
            if not actual:
                return None
            params[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return params
