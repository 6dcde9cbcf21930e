"""The Jinja2 environment of the site: autoescaping on, helpers for the templates."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape

from phasma.frontend import formatting
from phasma.frontend.assets import AssetCatalogue
from phasma.frontend.icons import icon
from phasma.frontend.richtext import rich_text

PLACEHOLDER_AVATAR = "/assets/placeholder.svg"
_FILENAME = re.compile(r"[0-9a-f]{32}")


def image_url(filename: str | None, *, thumbnail: bool = False) -> str:
    """The frontend's proxy URL of an upload (the thumbnail variant for grids)."""
    if not filename or not _FILENAME.fullmatch(filename):
        return PLACEHOLDER_AVATAR
    return f"/uploads/{filename}" + ("?variant=thumbnail" if thumbnail else "")


def avatar_url(filename: str | None) -> str:
    """An avatar's URL; no avatar shows the placeholder."""
    if not filename or not _FILENAME.fullmatch(filename):
        return PLACEHOLDER_AVATAR
    return f"/uploads/{filename}?variant=thumbnail"


def profile_url(username: str, section: str = "") -> str:
    """`/@username` or `/@username/<section>`."""
    base = "/@" + quote(username, safe="._")
    return f"{base}/{section}" if section else base


def search_url(query: str, tab: str = "") -> str:
    """The results page of `query`, on one of its tabs when `tab` is given."""
    url = "/search?q=" + quote(query, safe="")
    return f"{url}&tab={tab}" if tab else url


def tag_url(name: str) -> str:
    """The page of hashtag `name` (without its `#`)."""
    return "/tags/" + quote(name.lower(), safe="")


def with_cursor(url: str, cursor: str) -> str:
    """`url` asking for the page after `cursor` ("Load More" without JavaScript)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}cursor={quote(cursor, safe='')}"


def title_snippet(text: str | None, fallback: str, limit: int = 60) -> str:
    """The first `limit` characters of `text` on one line, or `fallback`."""
    single_line = " ".join((text or "").split())
    return single_line[:limit] if single_line else fallback


def build_environment(templates: Path, assets: AssetCatalogue) -> Environment:
    """The template environment, escaping everything (backend shapes may gain or lack fields,
    so a missing one renders empty rather than failing the page)."""
    environment = Environment(
        loader=FileSystemLoader(templates),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    globals_: dict[str, Any] = {
        "asset": assets.url,
        "icon": icon,
        "image_url": image_url,
        "avatar_url": avatar_url,
        "profile_url": profile_url,
        "search_url": search_url,
        "tag_url": tag_url,
        "with_cursor": with_cursor,
        "plural": formatting.plural,
        "counted": formatting.counted,
        "when": formatting.time_tag,
    }
    environment.globals.update(globals_)
    environment.filters.update(
        {
            "rich": rich_text,
            "ago": formatting.relative_time,
            "session_time": formatting.absolute_time,
            "iso": formatting.iso,
        }
    )
    return environment
