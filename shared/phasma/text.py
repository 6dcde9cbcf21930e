"""Usernames, hashtags and mentions in user text (docs/domain.md §2.1, §2.4, docs/frontend.md §6).

Pure functions, no I/O: `POST /posts` stores what `extract_hashtags` finds, and
the frontend links what `find_mentions` finds, and the notifications-worker notifies
those accounts. Character classes are spelled out in ASCII instead of using
IGNORECASE, which would also let `[a-z]` match the Kelvin sign and the long s (they
case-fold to ASCII letters).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from phasma.config import Limits

# A username, matched whole (`fullmatch`); mentions are the same characters after `@`.
_USERNAME_LENGTH = f"{{{Limits.USERNAME_MIN_CHARS},{Limits.USERNAME_MAX_CHARS}}}"
USERNAME_PATTERN = re.compile(rf"[a-z0-9._]{_USERNAME_LENGTH}")
# No word boundary: `a#b` yields `b`, `##x` yields `x`; a longer run yields its first 50.
HASHTAG_PATTERN = re.compile(rf"#([A-Za-z0-9_]{{1,{Limits.HASHTAG_MAX_CHARS}}})")
MENTION_PATTERN = re.compile(rf"@([A-Za-z0-9._]{_USERNAME_LENGTH})")


class Mention(NamedTuple):
    """One `@username` in a text: `text[start:end]` is the `@` and the name as written."""

    start: int
    end: int
    username: str  # lowercased: the profile it links to


def extract_hashtags(text: str) -> list[str]:
    """The post's hashtags: lowercased, first-occurrence order, at most 20 (the rest ignored)."""
    tags: list[str] = []
    seen: set[str] = set()
    for match in HASHTAG_PATTERN.finditer(text):
        tag = match.group(1).lower()
        if tag in seen:
            continue
        seen.add(tag)
        tags.append(tag)
        if len(tags) == Limits.HASHTAGS_PER_POST:
            break
    return tags


def find_mentions(text: str) -> list[Mention]:
    """Every non-overlapping `@name` (3-30 of `[A-Za-z0-9._]`), left to right, as link spans."""
    return [
        Mention(match.start(), match.end(), match.group(1).lower())
        for match in MENTION_PATTERN.finditer(text)
    ]
