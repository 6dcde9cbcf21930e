"""The Jinja2 environment of the site: autoescaping on, helpers for the templates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from phasma.config import Limits
from phasma.frontend import formatting
from phasma.frontend.assets import AssetCatalogue
from phasma.frontend.icons import icon
from phasma.frontend.messages import REPORT_REASONS
from phasma.frontend.richtext import rich_text
from phasma.frontend.security import safe_next

PLACEHOLDER_AVATAR = "/assets/placeholder.svg"
# Where signing in lands anyway, and the sign-in pages themselves: no `next` needed.
_NO_RETURN = frozenset({"/", "/feed", "/login", "/register"})
_FILENAME = re.compile(r"[0-9a-f]{32}")
# A username as typed: any case (the site lowercases it), the API's lengths.
USERNAME_INPUT = f"[A-Za-z0-9._]{{{Limits.USERNAME_MIN_CHARS},{Limits.USERNAME_MAX_CHARS}}}"
_MEDIA_TOKEN = re.compile(r"[0-9]{1,12}-[0-9a-f]{32}")  # `phasma.media_urls`' shape
# The CSS width of a post's photo box in each layout, as `sizes` states it (app.css: a
# 36rem column of a 1px-bordered card inside 16px of shell padding; from 900px the post
# page puts the photo beside a 360px comments column in the 64rem shell).
PHOTO_SLOTS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "feed": (("(max-width: 608px)", "calc(100vw - 34px)"), ("", "574px")),
    "post": (
        ("(min-width: 1024px)", "629px"),
        ("(min-width: 900px)", "calc(100vw - 395px)"),
        ("(max-width: 608px)", "calc(100vw - 34px)"),
        ("", "574px"),
    ),
}
# Photos narrower than 4:5 are letterboxed in a 4:5 box (app.css `.post-media`), so
# they are drawn narrower than the slot; `sizes` says so and the browser picks less.
TALLEST_BOX_RATIO: Final = 4 / 5


def image_url(
    filename: str | None,
    *,
    thumbnail: bool = False,
    width: int | None = None,
    token: str | None = None,
) -> str:
    """The frontend's proxy URL of an upload: the thumbnail variant for grids, a `width`
    px rendition for `srcset`, else the original; `token` is a private account's image
    signature (the Post's `mediaToken`, docs/security.md "Private media")."""
    if not filename or not _FILENAME.fullmatch(filename):
        return PLACEHOLDER_AVATAR
    query = []
    if width is not None:
        query.append(f"w={width}")
    elif thumbnail:
        query.append("variant=thumbnail")
    if token and _MEDIA_TOKEN.fullmatch(token):
        query.append(f"token={token}")
    return f"/uploads/{filename}" + ("?" + "&".join(query) if query else "")


def photo_srcset(post: Mapping[str, Any]) -> str:
    """The `srcset` of a post's photo: each rendition it lists, then the original, by width.

    Empty when the post lists none (a small image, or one not backfilled yet): `src`
    alone then names the only candidate.
    """
    filename = post.get("filename")
    widths = [width for width in post.get("renditions") or () if isinstance(width, int)]
    if not widths or not filename or not _FILENAME.fullmatch(filename):
        return ""
    token = post.get("mediaToken")
    candidates = [
        f"{image_url(filename, width=width, token=token)} {width}w" for width in sorted(widths)
    ]
    original_width = post.get("width")
    if isinstance(original_width, int) and original_width > max(widths):
        candidates.append(f"{image_url(filename, token=token)} {original_width}w")
    return ", ".join(candidates)


def photo_sizes(post: Mapping[str, Any], layout: str = "feed") -> str:
    """The `sizes` of a post's photo in `layout`: the slot's width, scaled down for a photo
    taller than 4:5, which is drawn narrower than its box."""
    width, height = post.get("width"), post.get("height")
    scale = 1.0
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        scale = min(1.0, width / height / TALLEST_BOX_RATIO)
    sizes = []
    for condition, slot in PHOTO_SLOTS[layout]:
        value = slot if scale == 1.0 else f"calc({slot} * {scale:.3f})"
        sizes.append(f"{condition} {value}".strip())
    return ", ".join(sizes)


def avatar_url(filename: str | None) -> str:
    """An avatar's URL; no avatar shows the placeholder."""
    if not filename or not _FILENAME.fullmatch(filename):
        return PLACEHOLDER_AVATAR
    return f"/uploads/{filename}?variant=thumbnail"


def profile_url(username: str, section: str = "") -> str:
    """`/@username` or `/@username/<section>`."""
    base = "/@" + quote(username, safe="._")
    return f"{base}/{section}" if section else base


def auth_url(page: str, next_path: str | None = None) -> str:
    """`page` (`/login` or `/register`) returning afterwards to `next_path`, when that is a
    same-origin path worth coming back to: a signed-out reader's prompt keeps their place."""
    target = safe_next(next_path, "")
    if not target or urlsplit(target).path in _NO_RETURN:
        return page
    return f"{page}?next={quote(target, safe='/@')}"


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
        "photo_srcset": photo_srcset,
        "photo_sizes": photo_sizes,
        "avatar_url": avatar_url,
        "profile_url": profile_url,
        "auth_url": auth_url,
        "search_url": search_url,
        "tag_url": tag_url,
        "with_cursor": with_cursor,
        "plural": formatting.plural,
        "counted": formatting.counted,
        "when": formatting.time_tag,
        # Form limits (`maxlength`, counters) are the API's own numbers.
        "limits": Limits,
        "report_reasons": REPORT_REASONS,
        "username_input": USERNAME_INPUT,
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
