"""Captions, comments and bios as safe HTML (frontend.md §6).

Scanned left to right, first match wins: a mention links to the profile, a
hashtag to its search, an http(s) URL opens in a new tab; everything else is
escaped text with its line breaks kept. User text never becomes markup.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from markupsafe import Markup, escape

# Both letter cases are spelled out rather than using IGNORECASE, which would also let
# the Kelvin sign and the long s match (they case-fold to ASCII letters).
_TOKENS = re.compile(
    r"(?P<mention>@[A-Za-z0-9._]{3,30})"
    r"|(?P<hashtag>#[A-Za-z0-9_]{1,50})"
    r"|(?P<url>https?://\S+)"
)


def _text(value: str) -> str:
    return str(escape(value)).replace("\r\n", "\n").replace("\n", "<br>")


def rich_text(value: str | None) -> Markup:
    """`value` as HTML with mention, hashtag and URL links."""
    if not value:
        return Markup("")
    parts: list[str] = []
    position = 0
    for match in _TOKENS.finditer(value):
        parts.append(_text(value[position : match.start()]))
        token = match.group(0)
        if match.lastgroup == "mention":
            href = "/@" + quote(token[1:].lower(), safe="._")
            parts.append(f'<a class="rich-link" href="{href}">{escape(token)}</a>')
        elif match.lastgroup == "hashtag":
            href = "/search?q=" + quote("#" + token[1:].lower(), safe="")
            parts.append(f'<a class="rich-link" href="{href}">{escape(token)}</a>')
        else:
            parts.append(
                f'<a class="rich-url" href="{escape(token)}" target="_blank"'
                f' rel="noopener noreferrer">{escape(token)}</a>'
            )
        position = match.end()
    parts.append(_text(value[position:]))
    return Markup("".join(parts))
