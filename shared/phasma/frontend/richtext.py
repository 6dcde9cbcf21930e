"""Captions, comments and bios as safe HTML (docs/frontend.md §6).

Scanned left to right, first match wins: a mention links to the profile, a
hashtag to its tag page, an http(s) URL opens in a new tab; everything else is
escaped text with its line breaks kept. User text never becomes markup.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from markupsafe import Markup, escape

from phasma.text import HASHTAG_PATTERN, MENTION_PATTERN

# The mention and hashtag rules are the server's (phasma.text), so a link here is
# exactly what the backend counts as a mention or stores as a hashtag.
_TOKENS = re.compile(
    rf"(?P<mention>{MENTION_PATTERN.pattern})"
    rf"|(?P<hashtag>{HASHTAG_PATTERN.pattern})"
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
            href = "/tags/" + quote(token[1:].lower(), safe="")
            parts.append(f'<a class="rich-link" href="{href}">{escape(token)}</a>')
        else:
            parts.append(
                f'<a class="rich-url" href="{escape(token)}" target="_blank"'
                f' rel="noopener noreferrer">{escape(token)}</a>'
            )
        position = match.end()
    parts.append(_text(value[position:]))
    return Markup("".join(parts))
