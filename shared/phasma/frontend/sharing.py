"""What a shared link shows: Open Graph and Twitter-card tags of post and profile pages.

Link previews are fetched by other sites' crawlers, so every URL here is absolute,
built on the site's public origin (`PUBLIC_ORIGIN`), never on the request's `Host`.
`base.html` renders a `ShareMeta` through `partials/share_meta.html` (autoescaped).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from phasma.frontend.rendering import PLACEHOLDER_AVATAR, image_url, profile_url
from phasma.frontend.security import origin_of

SITE_NAME: Final = "Phasma"
DESCRIPTION_MAX_CHARS: Final = 200
# The rendition a preview card asks for: large enough for every card, far lighter than
# an original of up to 2048 px.
PREVIEW_WIDTH: Final = 1080


@dataclass(frozen=True)
class ShareMeta:
    """One page's link preview; `image` is absent when there is no photo to show."""

    title: str
    description: str
    url: str
    type: str  # og:type: "article" for a post, "profile" for a person
    image: str | None = None
    image_alt: str = ""
    image_width: int | None = None
    image_height: int | None = None

    @property
    def twitter_card(self) -> str:
        return "summary_large_image" if self.image else "summary"


def excerpt(text: str | None, limit: int = DESCRIPTION_MAX_CHARS) -> str:
    """`text` on one line, cut at a word to at most `limit` characters with an ellipsis."""
    single_line = " ".join((text or "").split())
    if len(single_line) <= limit:
        return single_line
    cut = single_line[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "\u2026"


def post_meta(public_origin: str, post: Mapping[str, Any]) -> ShareMeta:
    """A post's preview: its photo (the 1080 px rendition when it lists one) and caption."""
    origin = origin_of(public_origin)
    username = str(post.get("username") or "")
    caption = excerpt(post.get("description"))
    image, width, height = _post_image(post)
    return ShareMeta(
        title=f"Photo by @{username} on {SITE_NAME}",
        description=caption or f"A photo shared by @{username} on {SITE_NAME}.",
        url=f"{origin}/posts/{post.get('publicId')}",
        type="article",
        image=f"{origin}{image}" if image else None,
        image_alt=excerpt(post.get("altText") or post.get("description"))
        or f"Photo shared by @{username}",
        image_width=width,
        image_height=height,
    )


def profile_meta(public_origin: str, user: Mapping[str, Any]) -> ShareMeta:
    """A profile's preview: the person's name, bio and avatar."""
    origin = origin_of(public_origin)
    username = str(user.get("username") or "")
    name = " ".join(str(user.get("name") or "").split())
    avatar = image_url(user.get("avatar"))
    return ShareMeta(
        title=f"{name} (@{username})" if name else f"@{username}",
        description=excerpt(user.get("bio")) or f"Photos shared by @{username} on {SITE_NAME}.",
        url=f"{origin}{profile_url(username)}",
        type="profile",
        image=None if avatar == PLACEHOLDER_AVATAR else f"{origin}{avatar}",
        image_alt=f"Profile photo of @{username}",
    )


def _post_image(post: Mapping[str, Any]) -> tuple[str | None, int | None, int | None]:
    """The path of the photo a preview shows, with its size when the post states it."""
    filename = post.get("filename")
    original = image_url(filename)
    if original == PLACEHOLDER_AVATAR:
        return None, None, None
    width, height = post.get("width"), post.get("height")
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        width = height = None  # a size the post does not state is not guessed
    if PREVIEW_WIDTH in (post.get("renditions") or ()):
        scaled = round(height * PREVIEW_WIDTH / width) if width and height else None
        return image_url(filename, width=PREVIEW_WIDTH), PREVIEW_WIDTH if width else None, scaled
    return original, width, height
