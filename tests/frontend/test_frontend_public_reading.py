"""A stranger who follows a shared link (docs/api.md §F public reading): post, profile and
connection pages read signed out, sign-in prompts that come back, and link previews."""

from __future__ import annotations

import html
import re

from tests.api.conftest import Database
from tests.api.sample_images import photo_jpeg
from tests.frontend.conftest import ORIGIN, Member, Visitor, identity, text_of
from tests.frontend.test_frontend_content import image_part, share

TRICKY_CAPTION = 'Sunset "golden hour" <b>bold</b> & <script>alert(1)</script> at the pier'


def head_of(page: str) -> str:
    return page.split("</head>", 1)[0]


def meta_tags(page: str) -> dict[str, str]:
    """The head's `<meta property|name=… content=…>` values, unescaped."""
    tags = re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', head_of(page))
    return {key: html.unescape(value) for key, value in tags}


def canonical_of(page: str) -> str | None:
    match = re.search(r'<link rel="canonical" href="([^"]*)">', head_of(page))
    return html.unescape(match.group(1)) if match else None


def post_filename(database: Database, post_id: str) -> str:
    return str(
        database.value("SELECT filename FROM posts WHERE public_id = CAST(:p AS uuid)", p=post_id)
    )


# -- the post page -------------------------------------------------------------------------


def test_a_signed_out_visitor_reads_a_post_and_its_comments_with_prompts_to_join(
    member: Member,
    sign_up,
    visitor: Visitor,  # type: ignore[no-untyped-def]
) -> None:
    post_id = share(member, "Seen from the pier")
    fan = sign_up("fan")
    for number in range(11):
        comment = fan.visitor.fetch(f"/posts/{post_id}/comments", data={"body": f"wow {number}"})
        assert comment.json["ok"] is True

    response = visitor.get(f"/posts/{post_id}")
    assert response.status_code == 200  # never a redirect to /login
    page = response.get_data(as_text=True)
    text = text_of(response)
    assert "Seen from the pier" in text and '<img class="post-image"' in page
    # The newest ten comments, read-only: no composer, no delete buttons.
    assert [f"wow {n}" in text for n in range(11)] == [False] + [True] * 10
    assert 'class="composer"' not in page and "data-delete-comment" not in page
    assert 'role="dialog"' not in page  # nothing to delete signed out
    assert "Log in or sign up to comment." in text
    here = f"/posts/{post_id}"
    assert f'<a href="/login?next={here}">Log in</a>' in page
    assert f'<a href="/register?next={here}">sign up</a>' in page
    # Like and save are ways in as well, and so are the navbar's pills.
    assert f'class="action like-button" href="/login?next={here}"' in page
    assert f'class="action action-muted bookmark-button" href="/login?next={here}"' in page
    assert "like-form" not in page and "bookmark-form" not in page
    assert f'class="pill pill-ghost" href="/login?next={here}"' in page
    assert f'class="pill pill-solid" href="/register?next={here}"' in page
    assert '<meta name="phasma-viewer"' not in page

    # "Load More" for comments works signed out too.
    cursor = re.search(r'data-next-cursor="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    more = visitor.get(f"{here}?cursor={cursor}", headers={"X-Phasma-Fragment": "1"})
    assert more.status_code == 200 and "wow 0" in more.get_data(as_text=True)
    assert "<html" not in more.get_data(as_text=True)


def test_a_stale_session_cookie_reads_the_post_signed_out(member: Member) -> None:
    post_id = share(member, "still readable")
    comment = member.visitor.fetch(f"/posts/{post_id}/comments", data={"body": "first"})
    assert comment.json["ok"] is True
    stale = Visitor(member.visitor.frontend)
    stale.client.set_cookie("session", "x" * 28, domain="frontend.test")
    response = stale.get(f"/posts/{post_id}")
    assert response.status_code == 200
    assert "first" in text_of(response) and "Log in or sign up to comment." in text_of(response)


def test_an_unknown_post_is_still_404_signed_out(visitor: Visitor) -> None:
    response = visitor.get("/posts/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404 and "Post not found" in text_of(response)


def test_the_post_page_previews_its_photo_caption_and_address(
    member: Member, visitor: Visitor, database: Database
) -> None:
    wide = member.visitor.post(
        "/upload",
        data={"image": image_part(photo_jpeg((1600, 900))), "description": TRICKY_CAPTION},
    )
    assert wide.status_code == 303
    post_id = re.findall(
        r'data-post="([0-9a-f-]{36})"', member.visitor.get("/feed").get_data(True)
    )[0]
    filename = post_filename(database, post_id)

    page = visitor.get(f"/posts/{post_id}").get_data(as_text=True)
    tags = meta_tags(page)
    assert tags["og:type"] == "article"
    assert tags["og:title"] == f"Photo by @{member.username} on Phasma"
    assert tags["og:description"] == TRICKY_CAPTION
    assert tags["description"] == TRICKY_CAPTION
    # The 1080 px rendition, absolute on the public origin, with its size.
    assert tags["og:image"] == f"{ORIGIN}/uploads/{filename}?w=1080"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1080", "608")
    assert tags["og:url"] == f"{ORIGIN}/posts/{post_id}" == canonical_of(page)
    assert tags["twitter:card"] == "summary_large_image"
    # Escaped: the caption's quotes and tags never become markup in the head.
    head = head_of(page)
    assert "<b>" not in head and "<script>alert" not in head
    assert "&#34;golden hour&#34; &lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in head

    # A photo without renditions previews its original; no caption says whose it is.
    small_id = share(member)
    small = meta_tags(visitor.get(f"/posts/{small_id}").get_data(as_text=True))
    assert small["og:image"] == f"{ORIGIN}/uploads/{post_filename(database, small_id)}"
    assert (small["og:image:width"], small["og:image:height"]) == ("64", "48")
    assert small["og:description"] == f"A photo shared by @{member.username} on Phasma."


def test_a_long_caption_previews_as_an_excerpt(member: Member, visitor: Visitor) -> None:
    caption = " ".join(["word"] * 120)  # 599 characters
    post_id = share(member, caption)
    description = meta_tags(visitor.get(f"/posts/{post_id}").get_data(as_text=True))[
        "og:description"
    ]
    assert len(description) <= 200 and description.endswith("word\u2026")


# -- profiles and their connections ----------------------------------------------------


def test_a_profile_previews_its_name_bio_and_avatar(
    member: Member, visitor: Visitor, database: Database
) -> None:
    post_id = share(member)
    avatar = post_filename(database, post_id)
    bio = 'Photographer "on the road" <i>always</i>'
    database.rows(
        "UPDATE users SET bio = :b, avatar = :a WHERE username = :u",
        b=bio,
        a=avatar,
        u=member.username,
    )
    page = visitor.get(f"/@{member.username}").get_data(as_text=True)
    tags = meta_tags(page)
    assert tags["og:type"] == "profile"
    assert tags["og:title"] == f"{member.name} (@{member.username})"
    assert tags["og:description"] == bio
    assert tags["og:image"] == f"{ORIGIN}/uploads/{avatar}"
    assert tags["og:url"] == f"{ORIGIN}/@{member.username}" == canonical_of(page)
    assert "<i>" not in head_of(page)

    database.rows("UPDATE users SET bio = '', avatar = NULL WHERE username = :u", u=member.username)
    bare = meta_tags(visitor.get(f"/@{member.username}").get_data(as_text=True))
    assert bare["og:description"] == f"Photos shared by @{member.username} on Phasma."
    assert "og:image" not in bare and bare["twitter:card"] == "summary"


def test_pages_that_are_not_shared_carry_no_preview(member: Member) -> None:
    for path in ("/feed", f"/@{member.username}/saved", f"/@{member.username}/followers"):
        page = member.visitor.get(path).get_data(as_text=True)
        assert "og:title" not in page and canonical_of(page) is None, path


def test_followers_and_following_read_signed_out(
    member: Member,
    sign_up,
    visitor: Visitor,  # type: ignore[no-untyped-def]
) -> None:
    fan = sign_up("fan")
    assert fan.visitor.fetch(f"/@{member.username}/follow").json["following"] is True

    followers = visitor.get(f"/@{member.username}/followers")
    assert followers.status_code == 200
    assert f"Followers for @{member.username} - Phasma" in followers.get_data(as_text=True)
    assert f"@{fan.username}" in text_of(followers)
    page = followers.get_data(as_text=True)
    # Following anyone asks to log in first, then comes back to this list.
    here = f"/@{member.username}/followers"
    assert f'href="/login?next={here}"' in page and "data-follow-form" not in page

    following = visitor.get(f"/@{fan.username}/following")
    assert following.status_code == 200 and f"@{member.username}" in text_of(following)
    assert visitor.get("/@nobody_here_at_all/followers").status_code == 404
    assert visitor.get(f"/@{member.username}/likes").headers["Location"] == "/login"


# -- the way in, and back ----------------------------------------------------------------


def test_logging_in_or_registering_returns_to_the_page_that_asked(
    member: Member, visitor: Visitor
) -> None:
    here = "/posts/00000000-0000-4000-8000-000000000000"
    login = visitor.get(f"/login?next={here}").get_data(as_text=True)
    assert f'<input type="hidden" name="next" value="{here}">' in login
    assert f'href="/register?next={here}"' in login  # "Create one" keeps it
    signed_in = visitor.post(
        "/login", data={"email": member.email, "password": member.password, "next": here}
    )
    assert (signed_in.status_code, signed_in.headers["Location"]) == (303, here)
    profile = f"/@{member.username}"
    assert visitor.get(f"/login?next={profile}").headers["Location"] == profile

    stranger = Visitor(member.visitor.frontend)
    register = stranger.get(f"/register?next={here}").get_data(as_text=True)
    assert f'<input type="hidden" name="next" value="{here}">' in register
    assert f'href="/login?next={here}"' in register
    created = stranger.post("/register", data={**identity("joiner"), "next": here})
    assert (created.status_code, created.headers["Location"]) == (303, here)


def test_an_unsafe_next_is_never_offered_or_followed(member: Member, visitor: Visitor) -> None:
    for unsafe in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        page = visitor.get("/login", query_string={"next": unsafe}).get_data(as_text=True)
        assert '<input type="hidden" name="next" value="/feed">' in page, unsafe
        assert 'href="/register"' in page, unsafe
    created = visitor.post("/register", data={**identity("joiner"), "next": "//evil.example/"})
    assert created.headers["Location"] == "/feed"
