"""A coarse, human label for the device behind a session ("Firefox on Android").

Derived once from the `User-Agent` at login and stored with the session, so a person
can tell their sessions apart on the settings page. The label comes from a fixed
vocabulary: nothing of the header itself is stored or shown.
"""

from __future__ import annotations

from typing import Final

UNKNOWN_DEVICE: Final = "Unknown browser"

# First match wins: Edge, Opera and Samsung Internet also say "Chrome", Chrome also says
# "Safari", and the iOS browsers name themselves with their own tokens.
_BROWSERS: Final = (
    ("Edge", ("Edg/", "EdgA/", "EdgiOS/", "Edge/")),
    ("Opera", ("OPR/", "Opera")),
    ("Samsung Internet", ("SamsungBrowser/",)),
    ("Firefox", ("Firefox/", "FxiOS/")),
    ("Chrome", ("Chrome/", "CriOS/", "Chromium/")),
    ("Safari", ("Safari/",)),
)
_SYSTEMS: Final = (
    ("iPhone", ("iPhone", "iPod")),
    ("iPad", ("iPad",)),
    ("Android", ("Android",)),
    ("Windows", ("Windows",)),
    ("ChromeOS", ("CrOS",)),
    ("macOS", ("Macintosh", "Mac OS X")),
    ("Linux", ("Linux", "X11")),
)


def _first(user_agent: str, table: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    for name, tokens in table:
        if any(token in user_agent for token in tokens):
            return name
    return None


def device_label(user_agent: str | None) -> str:
    """`"<browser> on <system>"`, the browser alone when the system is unknown, or
    `"Unknown browser"` when no browser is recognised."""
    if not user_agent:
        return UNKNOWN_DEVICE
    browser = _first(user_agent, _BROWSERS)
    if browser is None:
        return UNKNOWN_DEVICE
    system = _first(user_agent, _SYSTEMS)
    return browser if system is None else f"{browser} on {system}"
