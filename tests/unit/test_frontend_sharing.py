"""Link previews and sign-in links that come back (frontend/sharing.py, rendering.auth_url)."""

from __future__ import annotations

import pytest

from phasma.frontend.rendering import auth_url
from phasma.frontend.sharing import excerpt, post_meta, profile_meta

ORIGIN = "https://phasma.example"
FILENAME = "a" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ""),
        ("  two\n\nlines  ", "two lines"),
        ("x" * 200, "x" * 200),
        ("word " * 50, ("word " * 39).strip() + "\u2026"),  # cut at a word, within 200
        ("y" * 250, "y" * 199 + "\u2026"),  # one long word: cut inside it
        ("done. " + "z" * 300, "done\u2026"),  # no dangling punctuation
    ],
)
def test_excerpts_are_one_line_and_at_most_200_characters(text: str | None, expected: str) -> None:
    assert excerpt(text) == expected
    assert len(excerpt(text)) <= 200


def test_a_post_previews_its_1080_rendition_else_its_original() -> None:
    post = {
        "publicId": "p-1",
        "username": "alice",
        "filename": FILENAME,
        "width": 1600,
        "height": 900,
        "renditions": [640, 1080],
    }
    meta = post_meta(ORIGIN + "/", post)
    assert meta.image == f"{ORIGIN}/uploads/{FILENAME}?w=1080"
    assert (meta.image_width, meta.image_height) == (1080, 608)
    assert meta.url == f"{ORIGIN}/posts/p-1" and meta.twitter_card == "summary_large_image"
    small = post_meta(ORIGIN, {**post, "renditions": [640], "width": 900, "height": 900})
    assert small.image == f"{ORIGIN}/uploads/{FILENAME}"
    assert (small.image_width, small.image_height) == (900, 900)
    # A post whose filename is not one of ours previews no image rather than a wrong one.
    assert post_meta(ORIGIN, {**post, "filename": "../etc/passwd"}).image is None


def test_a_profile_previews_its_avatar_or_no_image() -> None:
    user = {"username": "bob", "name": "  Bob   Builder ", "bio": "", "avatar": FILENAME}
    meta = profile_meta(ORIGIN, user)
    assert meta.title == "Bob Builder (@bob)" and meta.type == "profile"
    assert meta.image == f"{ORIGIN}/uploads/{FILENAME}"
    assert meta.description == "Photos shared by @bob on Phasma."
    bare = profile_meta(ORIGIN, {**user, "avatar": None, "name": ""})
    assert bare.image is None and bare.twitter_card == "summary" and bare.title == "@bob"


@pytest.mark.parametrize(
    ("next_path", "expected"),
    [
        ("/posts/abc", "/login?next=/posts/abc"),
        ("/@alice/followers", "/login?next=/@alice/followers"),
        ("/tags/sun?cursor=a b", "/login?next=/tags/sun%3Fcursor%3Da%20b"),
        (None, "/login"),
        ("/", "/login"),
        ("/feed", "/login"),
        ("/login", "/login"),
        ("/register", "/login"),
        ("//evil.example/x", "/login"),
        ("https://evil.example/", "/login"),
        ("/\\evil.example", "/login"),
    ],
)
def test_sign_in_links_return_only_to_safe_pages_worth_returning_to(
    next_path: str | None, expected: str
) -> None:
    assert auth_url("/login", next_path) == expected
