"""Times, counts and plurals as the pages show them (frontend.md §8, §7.9)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

_UNITS: Final = (
    ("year", "y", 365 * 86400),
    ("month", "mo", 30 * 86400),
    ("week", "w", 7 * 86400),
    ("day", "d", 86400),
    ("hour", "h", 3600),
    ("minute", "m", 60),
    ("second", "s", 1),
)
_NOW_SECONDS: Final = 5
_PLURALS: Final = {"following": "following", "reply": "replies"}


def parse_timestamp(value: str | datetime | None) -> datetime | None:
    """An RFC 3339 API timestamp (`Z` suffix) as an aware datetime; None when unreadable."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def plural(count: int, singular: str) -> str:
    """`1 like`, `0 likes`; `following` is invariant."""
    if count == 1:
        return singular
    return _PLURALS.get(singular, singular + "s")


def counted(count: int, singular: str) -> str:
    """`count` followed by the right form of `singular`."""
    return f"{count} {plural(count, singular)}"


def relative_time(value: str | datetime | None, *, compact: bool = False) -> str:
    """`16 minutes ago` (long) or `16m ago` (compact); `now` under five seconds."""
    moment = parse_timestamp(value)
    if moment is None:
        return ""
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    if seconds < _NOW_SECONDS:
        return "now"
    for name, short, size in _UNITS:
        if seconds >= size:
            amount = seconds // size
            if compact:
                return f"{amount}{short} ago"
            if name == "day" and amount == 1:
                return "yesterday"
            return f"{counted(amount, name)} ago"
    return "now"


def session_time(value: str | datetime | None) -> str:
    """`Jun 22, 2026, 12:00 PM UTC` (Active Sessions)."""
    moment = parse_timestamp(value)
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    hour = moment.hour % 12 or 12
    meridiem = "AM" if moment.hour < 12 else "PM"
    return f"{moment:%b} {moment.day}, {moment.year}, {hour}:{moment:%M} {meridiem} UTC"


def iso(value: str | datetime | None) -> str:
    """The timestamp in RFC 3339 for a `<time datetime>` attribute."""
    moment = parse_timestamp(value)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else ""
