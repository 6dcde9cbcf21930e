"""Posting, the image proxy, likes, bookmarks, comments, follows, search and notifications
through the site, without JavaScript and as its scripts call it (frontend.md §5 to §9)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from tests.api.conftest import Bucket, Database
from tests.api.sample_images import photo_jpeg
from tests.frontend.conftest import Member, Visitor, alert_of, text_of


def image_part(data: bytes, name: str = "photo.jpg", kind: str = "image/jpeg") -> Any:
    return (io.BytesIO(data), name, kind)


def share(member: Member, caption: str = "", **fields: Any) -> str:
    """Post a photo through the upload form; the new post's id (from the feed)."""
    response = member.visitor.post(
        "/upload", data={"image": image_part(photo_jpeg()), "description": caption, **fields}
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/feed")
    ids = re.findall(r'data-post="([0-9a-f-]{36})"', member.visitor.get("/feed").get_data(True))
    return ids[0]


# -- upload ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({}, 400, "Please select an image."),
        ({"image": image_part(b"", "empty.jpg")}, 400, "Please select an image."),
        (
            {"image": image_part(b"just some text", "notes.txt", "text/plain")},
            400,
            "Please select a JPEG, PNG, GIF, or WEBP image.",
        ),
        (
            {"image": image_part(b"\xff\xd8\xff" + bytes(1_000_000))},
            413,
            "Image must be smaller than 1 MB.",
        ),
        (
            {"image": image_part(b"\xff\xd8\xff\xe0 truncated jpeg")},
            400,
            "Image upload failed. Please try again.",
        ),
        (
            {"image": image_part(photo_jpeg()), "description": "c" * 1001},
            400,
            "Caption must be 1,000 characters or fewer.",
        ),
    ],
)
def test_upload_rejects_bad_images_and_writes_nothing(
    member: Member,
    database: Database,
    bucket: Bucket,
    data: dict[str, Any],
    status: int,
    message: str,
) -> None:
    before = database.counts("uploads", "posts", "outbox")
    blobs = bucket.keys()
    response = member.visitor.post("/upload", data={"description": "kept caption", **data})
    assert response.status_code == status
    assert alert_of(response) == message
    if "description" not in data:
        assert "kept caption" in response.get_data(as_text=True)
    assert database.counts("uploads", "posts", "outbox") == before
    assert bucket.keys() == blobs


def test_upload_publishes_the_post_with_its_caption(member: Member, database: Database) -> None:
    caption = f"Dawn with @{member.username} #Sunrise https://example.com/a?b=1"
    before = database.counts("uploads", "posts")
    post_id = share(member, caption, alt_text="A red and blue square")
    after = database.counts("uploads", "posts")
    assert after == {"uploads": before["uploads"], "posts": before["posts"] + 1}  # consumed
    page = member.visitor.get(f"/posts/{post_id}")
    html = page.get_data(as_text=True)
    assert f"<title>{caption[:60]} - Phasma</title>".replace("&", "&amp;") in html
    assert f'<a class="rich-link" href="/@{member.username}">@{member.username}</a>' in html
    assert '<a class="rich-link" href="/search?q=%23sunrise">#Sunrise</a>' in html
    assert (
        '<a class="rich-url" href="https://example.com/a?b=1" target="_blank"'
        ' rel="noopener noreferrer">https://example.com/a?b=1</a>'
    ) in html
    assert "0 likes" in text_of(page) and "0 comments" in text_of(page)


def test_user_text_is_never_markup(member: Member) -> None:
    post_id = share(member, "<img src=x onerror=alert(1)> & <b>bold</b>")
    member.visitor.post(f"/posts/{post_id}/comments", data={"body": "<script>alert(2)</script>"})
    html = member.visitor.get(f"/posts/{post_id}").get_data(as_text=True)
    assert "<img src=x" not in html and "<script>alert" not in html and "<b>bold" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


# -- the image proxy -------------------------------------------------------------------


def test_image_proxy_streams_with_cache_headers_and_304(member: Member, visitor: Visitor) -> None:
    post_id = share(member)
    page = member.visitor.get(f"/posts/{post_id}").get_data(as_text=True)
    filename = re.search(r'src="/uploads/([0-9a-f]{32})"', page).group(1)  # type: ignore[union-attr]
    image = visitor.get(f"/uploads/{filename}")  # public: no session needed
    assert image.status_code == 200
    assert image.data[:3] == b"\xff\xd8\xff"
    assert image.headers["Content-Type"] == "image/jpeg"
    assert image.headers["Content-Length"] == str(len(image.data))
    assert image.headers["ETag"] == f'"{filename}"'
    assert image.headers["Cache-Control"] == "public, max-age=86400, immutable"
    assert image.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    again = visitor.get(f"/uploads/{filename}", headers={"If-None-Match": image.headers["ETag"]})
    assert (again.status_code, again.data) == (304, b"")
    assert again.headers["ETag"] == f'"{filename}"'
    thumbnail = visitor.get(f"/uploads/{filename}?variant=thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.data[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize(
    "path",
    [
        "/uploads/" + "A" * 32,
        "/uploads/" + "a" * 31,
        "/uploads/" + "a" * 32 + ".jpg",
        "/uploads/" + "0" * 32,  # well-formed, but nothing is stored under it
        "/uploads/" + "a" * 32 + "?variant=huge",
    ],
)
def test_image_proxy_not_found(visitor: Visitor, path: str) -> None:
    assert visitor.get(path).status_code == 404


# -- likes, comments, deleting ------------------------------------------------------------


def test_like_and_unlike_as_forms_and_as_fetches(member: Member, database: Database) -> None:
    post_id = share(member)
    plain = member.visitor.post(f"/posts/{post_id}/like", data={"next": "/feed#post-x"})
    assert (plain.status_code, plain.headers["Location"]) == (303, "/feed#post-x")
    assert database.value("SELECT like_count FROM posts WHERE public_id = :p", p=post_id) == 1
    fetched = member.visitor.fetch(f"/posts/{post_id}/unlike")
    assert fetched.json == {"ok": True, "liked": False}
    assert database.value("SELECT like_count FROM posts WHERE public_id = :p", p=post_id) == 0
    missing = member.visitor.fetch("/posts/00000000-0000-4000-8000-000000000000/like")
    assert missing.status_code == 404 and missing.json == {"ok": False, "error": "Not found."}
    page = member.visitor.post("/posts/00000000-0000-4000-8000-000000000000/like")
    assert page.status_code == 404 and "Page not found" in text_of(page)


def saved_count(database: Database, post_id: str) -> int:
    return int(
        database.value(
            "SELECT count(*) FROM bookmarks b JOIN posts p ON p.id = b.post_id "
            "WHERE p.public_id = CAST(:p AS uuid)",
            p=post_id,
        )
    )


def save_button(html: str, post_id: str) -> str:
    """The save form of one post card: its action and the button's pressed state."""
    match = re.search(
        rf'<form class="bookmark-form" method="post" action="(/posts/{post_id}/(?:un)?save)"'
        r'[^>]*>.*?aria-pressed="(true|false)"',
        html,
        re.DOTALL,
    )
    assert match is not None, "no save button"
    return f"{match.group(1)} {match.group(2)}"


def test_save_and_unsave_as_forms_and_as_fetches(member: Member, database: Database) -> None:
    post_id = share(member)
    feed = member.visitor.get("/feed").get_data(as_text=True)
    assert save_button(feed, post_id) == f"/posts/{post_id}/save false"
    plain = member.visitor.post(f"/posts/{post_id}/save", data={"next": "/feed#post-x"})
    assert (plain.status_code, plain.headers["Location"]) == (303, "/feed#post-x")
    assert saved_count(database, post_id) == 1
    # The post page and the feed now offer "unsave", pressed.
    for path in (f"/posts/{post_id}", "/feed"):
        html = member.visitor.get(path).get_data(as_text=True)
        assert save_button(html, post_id) == f"/posts/{post_id}/unsave true", path
    again = member.visitor.fetch(f"/posts/{post_id}/save")
    assert again.json == {"ok": True, "saved": True} and saved_count(database, post_id) == 1
    fetched = member.visitor.fetch(f"/posts/{post_id}/unsave")
    assert fetched.json == {"ok": True, "saved": False}
    assert saved_count(database, post_id) == 0

    before = database.counts("bookmarks")
    missing = member.visitor.fetch("/posts/00000000-0000-4000-8000-000000000000/save")
    assert missing.status_code == 404 and missing.json == {"ok": False, "error": "Not found."}
    page = member.visitor.post("/posts/not-a-post/save")
    assert page.status_code == 404 and "Page not found" in text_of(page)
    anonymous = Visitor(member.visitor.frontend)
    assert anonymous.fetch(f"/posts/{post_id}/save").status_code == 401
    assert database.counts("bookmarks") == before
    signed_out = anonymous.get(f"/posts/{post_id}").get_data(as_text=True)
    assert "bookmark-form" not in signed_out and "Log in to save this post" in signed_out


@pytest.mark.parametrize("body", ["", "   ", "x" * 401])
def test_comment_length_is_checked(member: Member, database: Database, body: str) -> None:
    post_id = share(member)
    before = database.counts("comments", "outbox")
    response = member.visitor.post(f"/posts/{post_id}/comments", data={"body": body})
    assert response.status_code == 400
    assert alert_of(response) == "Comment must be 1\u2013400 characters."
    fetched = member.visitor.fetch(f"/posts/{post_id}/comments", data={"body": body})
    assert fetched.json == {"ok": False, "error": "Comment must be 1\u2013400 characters."}
    assert database.counts("comments", "outbox") == before


def test_comment_then_delete_it(member: Member, sign_up, database: Database) -> None:  # type: ignore[no-untyped-def]
    post_id = share(member)
    plain = member.visitor.post(f"/posts/{post_id}/comments", data={"body": "  first!  "})
    assert plain.headers["Location"] == f"/posts/{post_id}#comments"
    fetched = member.visitor.fetch(f"/posts/{post_id}/comments", data={"body": "second"})
    assert fetched.json["ok"] is True
    assert "second" in fetched.json["html"] and "Delete comment" in fetched.json["html"]
    page = member.visitor.get(f"/posts/{post_id}")
    assert "2 comments" in text_of(page)
    assert database.value("SELECT body FROM comments ORDER BY id DESC LIMIT 1") == "second"
    comment_ids = re.findall(r'id="comment-([0-9a-f-]{36})"', page.get_data(as_text=True))

    stranger = sign_up("stranger")
    before = database.counts("comments")
    refused = stranger.visitor.post(f"/posts/{post_id}/comments/{comment_ids[0]}/delete")
    assert refused.status_code == 403 and "Access denied" in text_of(refused)
    assert database.counts("comments") == before
    signed_out = Visitor(member.visitor.frontend)
    assert signed_out.get(f"/posts/{post_id}").status_code == 200
    assert "Log in to comment" in text_of(signed_out.get(f"/posts/{post_id}"))

    deleted = member.visitor.fetch(f"/posts/{post_id}/comments/{comment_ids[0]}/delete")
    assert deleted.json == {"ok": True}
    assert database.counts("comments")["comments"] == before["comments"] - 1


def test_only_the_author_deletes_a_post(member: Member, sign_up, database: Database) -> None:  # type: ignore[no-untyped-def]
    post_id = share(member)
    stranger = sign_up("other")
    assert stranger.visitor.get(f"/posts/{post_id}/delete").status_code == 403
    before = database.counts("posts")
    refused = stranger.visitor.post(f"/posts/{post_id}/delete")
    assert refused.status_code == 403 and database.counts("posts") == before
    confirm = member.visitor.get(f"/posts/{post_id}/delete")
    assert confirm.status_code == 200 and "Delete post?" in text_of(confirm)
    done = member.visitor.post(f"/posts/{post_id}/delete")
    assert (done.status_code, done.headers["Location"]) == (303, "/feed")
    assert database.counts("posts")["posts"] == before["posts"] - 1
    gone = member.visitor.get(f"/posts/{post_id}")
    assert gone.status_code == 404 and "Post not found" in text_of(gone)


# -- profiles, follows, load more --------------------------------------------------------


def test_profiles_follow_and_load_more(member: Member, sign_up, database: Database) -> None:  # type: ignore[no-untyped-def]
    for number in range(11):
        share(member, f"picture {number}")
    fan = sign_up("fan")
    anonymous = Visitor(member.visitor.frontend)
    profile = anonymous.get(f"/@{member.username}")
    assert profile.status_code == 200
    html = profile.get_data(as_text=True)
    assert f"<title>@{member.username} - Phasma</title>" in html
    assert html.count('class="thumb media-box"') == 10
    cursor = re.search(r'data-next-cursor="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    fragment = anonymous.get(
        f"/@{member.username}?cursor={cursor}", headers={"X-Phasma-Fragment": "1"}
    )
    assert fragment.status_code == 200 and "X-Next-Cursor" not in fragment.headers
    assert fragment.get_data(as_text=True).count('class="thumb media-box"') == 1
    assert "<html" not in fragment.get_data(as_text=True)
    assert anonymous.get(f"/@{member.username}/likes").headers["Location"] == "/login"
    assert anonymous.get("/@nobody_here_at_all").status_code == 404

    follow = fan.visitor.fetch(f"/@{member.username}/follow")
    assert follow.json == {"ok": True, "following": True}
    followers = fan.visitor.get(f"/@{member.username}/followers")
    assert followers.status_code == 200
    assert f"Followers for @{member.username} - Phasma" in followers.get_data(as_text=True)
    assert f"@{fan.username}" in text_of(followers)
    following = fan.visitor.get(f"/@{fan.username}/following")
    assert f"@{member.username}" in text_of(following)
    self_follow = fan.visitor.fetch(f"/@{fan.username}/follow")
    assert self_follow.status_code == 400
    assert self_follow.json == {"ok": False, "error": "The request could not be completed."}
    plain = fan.visitor.post(f"/@{member.username}/unfollow", data={"next": "/search"})
    assert plain.headers["Location"] == "/search"
    assert (
        database.value("SELECT follower_count FROM users WHERE username = :u", u=member.username)
        == 0
    )


def test_the_saved_tab_is_the_owners_alone(member: Member, sign_up, database: Database) -> None:  # type: ignore[no-untyped-def]
    posts = [share(member, f"keep {number}") for number in range(12)]
    for post_id in posts[:11]:
        assert member.visitor.fetch(f"/posts/{post_id}/save").json["ok"] is True
    saved_tab = f'href="/@{member.username}/saved"'
    own = member.visitor.get(f"/@{member.username}").get_data(as_text=True)
    assert saved_tab in own

    page = member.visitor.get(f"/@{member.username}/saved")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<title>Saved posts - Phasma</title>" in html
    assert 'aria-current="page"' in html.split(saved_tab)[1].split(">")[0]
    # Newest bookmark first, ten to a page, then "Load More" with the list's cursor.
    shown = re.findall(r'class="thumb media-box" href="/posts/([0-9a-f-]{36})"', html)
    assert shown == posts[10:0:-1]
    cursor = re.search(r'data-next-cursor="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert f'data-url="/@{member.username}/saved"' in html
    fragment = member.visitor.get(
        f"/@{member.username}/saved?cursor={cursor}", headers={"X-Phasma-Fragment": "1"}
    )
    assert fragment.status_code == 200 and "X-Next-Cursor" not in fragment.headers
    rest = fragment.get_data(as_text=True)
    assert re.findall(r'href="/posts/([0-9a-f-]{36})"', rest) == [posts[0]]

    stranger = sign_up("nosy")
    theirs = stranger.visitor.get(f"/@{member.username}").get_data(as_text=True)
    assert saved_tab not in theirs
    assert f'href="/@{stranger.username}/saved"' in stranger.visitor.get(
        f"/@{stranger.username}"
    ).get_data(as_text=True)
    for headers in ({}, {"X-Phasma-Fragment": "1"}):
        refused = stranger.visitor.get(f"/@{member.username}/saved", headers=headers)
        assert refused.status_code == 404
        assert not any(post_id in refused.get_data(as_text=True) for post_id in posts)
    empty = stranger.visitor.get(f"/@{stranger.username}/saved")
    assert empty.status_code == 200 and "No saved posts yet" in text_of(empty)

    anonymous = Visitor(member.visitor.frontend)
    assert saved_tab not in anonymous.get(f"/@{member.username}").get_data(as_text=True)
    assert anonymous.get(f"/@{member.username}/saved").headers["Location"] == "/login"


def test_load_more_failures_are_bare_statuses(member: Member) -> None:
    bad = member.visitor.get("/feed?cursor=not-a-cursor", headers={"X-Phasma-Fragment": "1"})
    assert (bad.status_code, bad.data) == (400, b"")
    page = member.visitor.get("/feed?cursor=not-a-cursor")
    assert page.status_code == 400 and "The request could not be completed." in text_of(page)


# -- search and notifications ----------------------------------------------------------------


def test_suggestions_and_recent_searches(member: Member, sign_up, database: Database) -> None:  # type: ignore[no-untyped-def]
    other = sign_up("findme")
    users = member.visitor.get(f"/suggest?type=users&q={other.username[:9]}")
    assert users.status_code == 200
    found = [item for item in users.json["items"] if item["username"] == other.username]
    assert found and found[0]["avatarUrl"] == "/assets/placeholder.svg"
    assert member.visitor.get("/suggest?type=posts&q=x").json == {"items": []}
    assert member.visitor.get("/suggest?type=users&q=" + "x" * 51).json == {"items": []}

    before = database.counts("recent_searches")
    for body in (
        {"type": "people", "reference": "x"},
        {"type": "posts", "reference": ""},
        {"type": "posts", "reference": "x" * 51},
        ["not", "an", "object"],
    ):
        refused = member.visitor.fetch("/search/recent", json=body)
        assert refused.status_code == 400, body
    assert database.counts("recent_searches") == before
    recorded = member.visitor.fetch(
        "/search/recent", json={"type": "users", "reference": other.username.upper()}
    )
    assert recorded.json == {"ok": True}
    discovery = member.visitor.get("/search")
    assert f"@{other.username}" in text_of(discovery) and "Recent" in text_of(discovery)
    recent_id = re.search(r'data-recent-id="([0-9a-f-]{36})"', discovery.get_data(True)).group(1)  # type: ignore[union-attr]
    removed = member.visitor.post(f"/search/recent/{recent_id}/delete")
    assert removed.headers["Location"] == "/search"
    assert database.counts("recent_searches") == before
    assert member.visitor.post("/search/recent/clear").headers["Location"] == "/search"


def test_search_results_for_a_hashtag(member: Member) -> None:
    share(member, "Alpine lake #zzfrontendtag")
    results = member.visitor.get("/search?q=%23zzfrontendtag")
    assert results.status_code == 200
    assert '"#zzfrontendtag" - Search - Phasma' in text_of(results)
    assert results.get_data(as_text=True).count('class="thumb media-box"') == 1
    none = member.visitor.get("/search?q=%23zznothinghere")
    assert "No results" in text_of(none)
    assert "Nothing matched \u201c#zznothinghere\u201d. Try a different query." in text_of(none)


def test_notifications_page_and_marking_read(member: Member) -> None:
    page = member.visitor.get("/notifications")
    assert page.status_code == 200 and "No notifications yet" in text_of(page)
    ids = {"ids": ["00000000-0000-4000-8000-000000000000", "not-a-uuid", 7]}
    marked = member.visitor.fetch("/notifications/read", json=ids)
    assert marked.json == {"ok": True, "unread": 0}  # single failures are ignored
    plain = member.visitor.post("/notifications/read", data={"ids": "x"})
    assert plain.headers["Location"] == "/notifications"
