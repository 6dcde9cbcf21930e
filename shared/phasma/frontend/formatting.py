"""Times, counts and plurals as the pages show them (docs/frontend.md §8, §7.9)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from markupsafe import Markup

# The one relative format of the site: "now", "3 min", "2 h", "5 d", then the date.
# `static/js/core.js` (`Phasma.relativeTime`) mirrors these rules for live items.
_MINUTE: Final = 60
_HOUR: Final = 3600
_DAY: Final = 86400
_RELATIVE_DAYS: Final = 7
_MONTHS: Final = (
    *("Jan", "Feb", "Mar", "Apr", "May", "Jun"),
    *("Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
)
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


def relative_time(value: str | datetime | None, now: datetime | None = None) -> str:
    """`now` under a minute, `3 min`, `2 h`, `5 d`; from a week on the date (`Jun 22`,
    with the year when it is not this year's), all in UTC."""
    moment = parse_timestamp(value)
    if moment is None:
        return ""
    current = (now or datetime.now(UTC)).astimezone(UTC)
    moment = moment.astimezone(UTC)
    seconds = int((current - moment).total_seconds())
    if seconds < _MINUTE:
        return "now"
    if seconds < _HOUR:
        return f"{seconds // _MINUTE} min"
    if seconds < _DAY:
        return f"{seconds // _HOUR} h"
    if seconds < _RELATIVE_DAYS * _DAY:
        return f"{seconds // _DAY} d"
    day = f"{_MONTHS[moment.month - 1]} {moment.day}"
    return day if moment.year == current.year else f"{day}, {moment.year}"


def absolute_time(value: str | datetime | None) -> str:
    """`Jun 22, 2026, 12:00 PM UTC`: a relative time's `title`, and Active Sessions."""
    moment = parse_timestamp(value)
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    hour = moment.hour % 12 or 12
    meridiem = "AM" if moment.hour < 12 else "PM"
    day = f"{_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"
    return f"{day}, {hour}:{moment:%M} {meridiem} UTC"


def time_tag(value: str | datetime | None, class_name: str = "") -> Markup:
    """`<time datetime title data-relative>3 min</time>`: the relative time, the absolute one
    on hover, and the machine-readable one for scripts (which keep the text current)."""
    moment = parse_timestamp(value)
    if moment is None:
        return Markup("")
    css = Markup(' class="{}"').format(class_name) if class_name else Markup("")
    return Markup('<time{} datetime="{}" title="{}" data-relative>{}</time>').format(
        css, iso(moment), absolute_time(moment), relative_time(moment)
    )


def iso(value: str | datetime | None) -> str:
    """The timestamp in RFC 3339 for a `<time datetime>` attribute."""
    moment = parse_timestamp(value)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else ""
