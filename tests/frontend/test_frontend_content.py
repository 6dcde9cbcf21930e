"""Posting, the image proxy, likes, bookmarks, comments, follows, search and notifications
through the site, without JavaScript and as its scripts call it (docs/frontend.md §5 to §9)."""

from __future__ import annotations

import html
import io
import re
import secrets
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import pytest

from phasma.events.worker import EventFunction
from phasma.registry import get_function
from phasma.runtime import Runtime
from tests.api.conftest import Bucket, Database
from tests.api.event_delivery import Worker, outbox_rows
from tests.api.posting import outbox_position
from tests.api.sample_images import noisy_jpeg, opened, photo_jpeg
from tests.frontend.conftest import Member, SiteStack, Visitor, alert_of, text_of


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


def test_an_over_long_caption_is_refused_whole_never_cut(
    member: Member, database: Database
) -> None:
    page = member.visitor.get("/upload").get_data(as_text=True)
    caption_field = re.search(r"<textarea[^>]*id=\"description\"[^>]*>", page, re.S)
    assert caption_field is not None
    assert "maxlength" not in caption_field.group(0)  # a browser would cut a paste silently
    assert 'data-max-chars="1000"' in caption_field.group(0)
    before = database.counts("uploads", "posts")
    caption = "long " * 1000
    response = member.visitor.post(
        "/upload", data={"image": image_part(photo_jpeg()), "description": caption}
    )
    assert response.status_code == 400
    assert alert_of(response) == "Caption must be 1,000 characters or fewer."
    assert f">{caption.strip()}</textarea>" in response.get_data(as_text=True)
    assert database.counts("uploads", "posts") == before


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({}, 400, "Please select an image."),
        ({"image": image_part(b"", "empty.jpg")}, 400, "Please select an image."),
        (
            {"image": image_part(b"just some text", "notes.txt", "text/plain")},
            400,
            "Please select a JPEG, PNG, GIF, WEBP, or HEIC image.",
        ),
        (
            {"image": image_part(b"\xff\xd8\xff" + bytes(20_000_000))},
            413,
            "Image must be smaller than 20 MB.",
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
    assert '<a class="rich-link" href="/tags/sunrise">#Sunrise</a>' in html
    assert (
        '<a class="rich-url" href="https://example.com/a?b=1" target="_blank"'
        ' rel="noopener noreferrer">https://example.com/a?b=1</a>'
    ) in html
    assert "0 likes" in text_of(page) and "0 comments" in text_of(page)


def test_a_20_megabyte_phone_photo_is_posted_without_javascript(
    member: Member, database: Database, bucket: Bucket
) -> None:
    # What a browser without JavaScript sends: the camera's original, 48 MP and ~20 MB.
    photo = noisy_jpeg((8000, 6000), 76, 85)
    assert 19_000_000 < len(photo) <= 20_000_000
    before = database.counts("uploads", "posts")
    response = member.visitor.post(
        "/upload",
        data={"image": image_part(photo, "IMG_0001.JPG"), "description": "Straight off the camera"},
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/feed")
    assert database.counts("uploads", "posts") == {**before, "posts": before["posts"] + 1}
    filename = database.value(
        "SELECT filename FROM posts WHERE description = 'Straight off the camera'"
    )
    stored = bucket.get(filename)
    assert stored is not None and len(stored) <= 1_000_000
    assert opened(stored).size == (2048, 1536)


def album_images(database: Database, post_id: str) -> list[tuple[str, str | None]]:
    """(filename, alt text) of every image of the post, in display order."""
    rows = database.rows(
        "SELECT p.filename, p.alt_text, 0 FROM posts p WHERE p.public_id = CAST(:p AS uuid)"
        " UNION ALL SELECT i.filename, i.alt_text, i.position FROM post_images i"
        " JOIN posts p ON p.id = i.post_id WHERE p.public_id = CAST(:p AS uuid) ORDER BY 3",
        p=post_id,
    )
    return [(filename, alt_text) for filename, alt_text, _ in rows]


def test_several_files_without_javascript_make_an_album_in_selection_order(
    member: Member, database: Database
) -> None:
    photos = [photo_jpeg((64 + 16 * index, 48)) for index in range(3)]
    before = database.counts("uploads", "posts", "post_images")
    post_id = share(
        member,
        "three at once",
        image=[image_part(photo, f"photo{index}.jpg") for index, photo in enumerate(photos)],
        alt_text="The first one",
    )
    after = database.counts("uploads", "posts", "post_images")
    added = {"posts": before["posts"] + 1, "post_images": before["post_images"] + 2}
    assert after == {**before, **added}
    images = album_images(database, post_id)
    # The one alt text field describes the first photo; the order is the selection's.
    assert [alt_text for _, alt_text in images] == ["The first one", None, None]
    widths = database.rows(
        "SELECT width FROM posts WHERE public_id = CAST(:p AS uuid)"
        " UNION ALL SELECT i.width FROM post_images i JOIN posts p ON p.id = i.post_id"
        " WHERE p.public_id = CAST(:p AS uuid)",
        p=post_id,
    )
    assert sorted(width for [width] in widths) == [64, 80, 96]

    page = member.visitor.get(f"/posts/{post_id}").get_data(as_text=True)
    carousel = re.search(r"<div class=\"post-media media-box carousel\".*?</ol>", page, re.S)
    assert carousel is not None
    markup = carousel.group(0)
    assert 'aria-label="Album of 3 photos"' in markup and "data-carousel" in markup
    sources = re.findall(r'<img class="post-image" src="/uploads/([0-9a-f]{32})"', markup)
    assert sources == [filename for filename, _ in images]
    loading = re.findall(r'<img class="post-image"[^>]*?loading="(\w+)"', markup, re.S)
    assert loading == ["eager", "lazy", "lazy"]  # the post page's photo first; the rest wait
    assert markup.count("data-carousel-dot") == 3
    assert 'aria-label="Next photo"' in markup and 'aria-label="Previous photo"' in markup
    assert 'alt="The first one"' in markup and "Photo 2 of 3 shared by @" in markup


def test_the_scripts_alt_text_fields_give_each_photo_its_own(
    member: Member, database: Database
) -> None:
    post_id = share(
        member,
        image=[image_part(photo_jpeg(), "a.jpg"), image_part(photo_jpeg(), "b.jpg")],
        alt_texts=["  First ", "Second"],
    )
    assert [alt for _, alt in album_images(database, post_id)] == ["First", "Second"]


@pytest.mark.parametrize(
    ("count", "alt_texts", "status", "message"),
    [
        (11, [], 400, "Please select at most 10 photos."),
        (2, ["fine", "a" * 1001], 400, "Alt text must be 1,000 characters or fewer."),
    ],
)
def test_a_bad_album_is_refused_and_writes_nothing(
    member: Member,
    database: Database,
    bucket: Bucket,
    count: int,
    alt_texts: list[str],
    status: int,
    message: str,
) -> None:
    before = database.counts("uploads", "posts", "post_images", "outbox")
    blobs = bucket.keys()
    files = [image_part(photo_jpeg((16, 12)), f"p{index}.jpg") for index in range(count)]
    response = member.visitor.post(
        "/upload", data={"image": files, "alt_texts": alt_texts, "description": "kept"}
    )
    assert response.status_code == status
    assert alert_of(response) == message
    assert "kept" in response.get_data(as_text=True)
    assert database.counts("uploads", "posts", "post_images", "outbox") == before
    assert bucket.keys() == blobs


def test_one_photo_keeps_the_single_markup_and_the_grid_marks_albums(
    member: Member,
) -> None:
    single = share(member)
    album = share(member, image=[image_part(photo_jpeg()), image_part(photo_jpeg())])
    page = member.visitor.get(f"/posts/{single}").get_data(as_text=True)
    assert "data-carousel" not in page
    assert re.search(r'<div class="post-media media-box"[^>]*>\s*<img class="post-image"', page)
    grid = member.visitor.get(f"/@{member.username}").get_data(as_text=True)
    thumbs = re.findall(r'<a class="thumb media-box" href="/posts/([0-9a-f-]{36})"', grid)
    assert thumbs == [album, single]
    marked = re.findall(
        r'href="/posts/([0-9a-f-]{36})"(?:(?!</a>).)*class="thumb-album"', grid, re.S
    )
    assert marked == [album]
    assert ", album of 2 photos" in grid


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
        "/uploads/" + "a" * 32 + "?w=320",
        "/uploads/" + "a" * 32 + "?w=640&variant=thumbnail",
    ],
)
def test_image_proxy_not_found(visitor: Visitor, path: str) -> None:
    assert visitor.get(path).status_code == 404


def test_photos_offer_their_renditions_and_the_first_loads_first(
    member: Member, visitor: Visitor
) -> None:
    for _ in range(2):
        response = member.visitor.post(
            "/upload", data={"image": image_part(photo_jpeg((1600, 900)))}
        )
        assert response.status_code == 303
    feed = member.visitor.get("/feed").get_data(as_text=True)
    images = re.findall(r'<img class="post-image"[^>]*>', feed)
    assert len(images) == 2
    filename = re.search(r'src="/uploads/([0-9a-f]{32})"', images[0]).group(1)  # type: ignore[union-attr]
    srcset = (
        f"/uploads/{filename}?w=640 640w, /uploads/{filename}?w=1080 1080w,"
        f" /uploads/{filename} 1600w"
    )
    assert f'srcset="{srcset}"' in images[0]
    assert 'sizes="(max-width: 608px) calc(100vw - 34px), 574px"' in images[0]
    assert 'width="1600" height="900"' in images[0]
    assert 'loading="eager" fetchpriority="high"' in images[0]
    assert 'loading="lazy"' in images[1] and "fetchpriority" not in images[1]
    post_id = re.findall(r'data-post="([0-9a-f-]{36})"', feed)[1]
    page = member.visitor.get(f"/posts/{post_id}").get_data(as_text=True)
    [image] = re.findall(r'<img class="post-image"[^>]*>', page)
    assert 'srcset="' in image and 'sizes="(min-width: 1024px) 629px' in image
    assert 'loading="eager" fetchpriority="high"' in image
    assert 'class="card post-card post-split"' in page

    for width in (640, 1080):
        rendition = visitor.get(f"/uploads/{filename}?w={width}")
        assert rendition.status_code == 200 and rendition.data[:3] == b"\xff\xd8\xff"
        assert rendition.headers["ETag"] == f'"{filename}-w{width}"'
        assert rendition.headers["Cache-Control"] == "public, max-age=86400, immutable"
        again = visitor.get(
            f"/uploads/{filename}?w={width}", headers={"If-None-Match": rendition.headers["ETag"]}
        )
        assert (again.status_code, again.data) == (304, b"")
    original = visitor.get(f"/uploads/{filename}")
    assert len(visitor.get(f"/uploads/{filename}?w=640").data) < len(original.data)


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
    assert "Log in or sign up to comment." in text_of(signed_out.get(f"/posts/{post_id}"))

    # Without JS the trash is a link to a confirmation page; showing it deletes nothing.
    delete_path = f"/posts/{post_id}/comments/{comment_ids[0]}/delete"
    assert f'href="{delete_path}"' in page.get_data(as_text=True)
    confirm = member.visitor.get(delete_path)
    assert confirm.status_code == 200 and "Delete comment?" in text_of(confirm)
    assert f'action="{delete_path}"' in confirm.get_data(as_text=True)
    assert database.counts("comments") == before

    deleted = member.visitor.fetch(delete_path)
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
    landed = member.visitor.get("/feed")  # the page it lands on says so, once
    assert "Post deleted." in text_of(landed)
    assert "Post deleted." not in text_of(member.visitor.get("/feed"))
    gone = member.visitor.get(f"/posts/{post_id}")
    assert gone.status_code == 404 and "Post not found" in text_of(gone)


# -- editing a post ----------------------------------------------------------------------


def edit_form_values(response: Any) -> tuple[str | None, str | None]:
    """The caption and alt text the edit form shows, unescaped."""
    page = response.get_data(as_text=True)

    def value(name: str) -> str | None:
        match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
        return html.unescape(match.group(1)) if match else None

    return value("description"), value("alt_text")


def post_texts(database: Database, post_id: str) -> list[Any]:
    return database.rows(
        "SELECT description, alt_text, edited FROM posts WHERE public_id = CAST(:p AS uuid)",
        p=post_id,
    )[0]


def test_the_author_edits_a_caption_and_the_post_shows_edited(
    member: Member,
    sign_up,
    database: Database,  # type: ignore[no-untyped-def]
) -> None:
    post_id = share(member, "first caption #before", alt_text="old alt")
    page = member.visitor.get(f"/posts/{post_id}").get_data(as_text=True)
    assert f'href="/posts/{post_id}/edit"' in page and "post-edited" not in page
    stranger = sign_up("other")
    assert f"/posts/{post_id}/edit" not in stranger.visitor.get(f"/posts/{post_id}").get_data(True)

    form = member.visitor.get(f"/posts/{post_id}/edit")
    assert form.status_code == 200
    assert edit_form_values(form) == ("first caption #before", "old alt")
    assert f'action="/posts/{post_id}/edit"' in form.get_data(as_text=True)

    saved = member.visitor.post(
        f"/posts/{post_id}/edit",
        data={"description": "  better caption #after <b>x</b> ", "alt_text": "new alt"},
    )
    assert (saved.status_code, saved.headers["Location"]) == (303, f"/posts/{post_id}")
    description, alt_text, edited = post_texts(database, post_id)
    assert (description, alt_text) == ("better caption #after <b>x</b>", "new alt")

    shown = member.visitor.get(saved.headers["Location"])
    html_text = shown.get_data(as_text=True)
    assert "<span>Post updated.</span>" in html_text
    assert "better caption" in text_of(shown) and "first caption" not in text_of(shown)
    assert "&lt;b&gt;x&lt;/b&gt;" in html_text and 'alt="new alt"' in html_text
    marker = re.search(
        r'<time class="post-edited" datetime="([^"]+)" title="([^"]+)">edited</time>', html_text
    )
    assert marker is not None
    assert marker.group(1) == edited.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert marker.group(2).startswith("Edited ") and marker.group(2).endswith(" UTC")
    # The notice is said once; the feed shows the marker too.
    assert "Post updated." not in member.visitor.get(f"/posts/{post_id}").get_data(as_text=True)
    feed = member.visitor.get("/feed").get_data(as_text=True)
    assert 'class="post-edited"' in feed and "better caption" in feed


def test_only_the_author_may_open_or_submit_the_edit_form(
    member: Member,
    sign_up,
    visitor: Visitor,
    database: Database,  # type: ignore[no-untyped-def]
) -> None:
    post_id = share(member, "not yours")
    stranger = sign_up("other")
    before = database.counts("posts", "outbox")
    assert stranger.visitor.get(f"/posts/{post_id}/edit").status_code == 403
    refused = stranger.visitor.post(f"/posts/{post_id}/edit", data={"description": "mine now"})
    assert refused.status_code == 403
    too_long = stranger.visitor.post(f"/posts/{post_id}/edit", data={"description": "c" * 1001})
    assert too_long.status_code == 403 and "c" * 1001 not in too_long.get_data(as_text=True)
    unknown = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    missing = member.visitor.get(f"/posts/{unknown}/edit")
    assert missing.status_code == 404 and "Post not found" in text_of(missing)
    missing = member.visitor.post(f"/posts/{unknown}/edit", data={"description": "x"})
    assert missing.status_code == 404
    assert member.visitor.get("/posts/not-a-uuid/edit").status_code == 404
    anonymous = visitor.get(f"/posts/{post_id}/edit")
    assert (anonymous.status_code, anonymous.headers["Location"]) == (303, "/login")
    anonymous = visitor.post(f"/posts/{post_id}/edit", data={"description": "x"})
    assert (anonymous.status_code, anonymous.headers["Location"]) == (303, "/login")
    assert database.counts("posts", "outbox") == before
    assert post_texts(database, post_id)[:2] == ["not yours", None]


CAPTION_TOO_LONG = "Caption must be 1,000 characters or fewer."
ALT_TOO_LONG = "Alt text must be 1,000 characters or fewer."
EDIT_FAILED = "Could not save your changes. Please try again."


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"description": "c" * 1001, "alt_text": "kept alt"}, CAPTION_TOO_LONG),
        ({"description": "kept caption", "alt_text": "a" * 1001}, ALT_TOO_LONG),
        # Refused by the API (a NUL cannot be stored): the generic copy, values kept.
        ({"description": "kept \x00 caption", "alt_text": "kept alt"}, EDIT_FAILED),
    ],
)
def test_edit_errors_keep_the_entered_values_and_write_nothing(
    member: Member, database: Database, fields: dict[str, str], message: str
) -> None:
    post_id = share(member, "original", alt_text="original alt")
    before = database.counts("posts", "outbox")
    response = member.visitor.post(f"/posts/{post_id}/edit", data=fields)
    assert response.status_code == 400
    assert alert_of(response) == message
    assert edit_form_values(response) == (fields["description"], fields["alt_text"])
    assert database.counts("posts", "outbox") == before
    assert post_texts(database, post_id) == ["original", "original alt", None]


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
    # "Load More" names the page's viewer, as loadmore.js does: fragments make no viewer call.
    fragment = member.visitor.get(
        f"/@{member.username}/saved?cursor={cursor}",
        headers={"X-Phasma-Fragment": "1", "X-Phasma-Viewer": member.username},
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
    as_fragment = {"X-Phasma-Fragment": "1", "X-Phasma-Viewer": stranger.username}
    for headers in ({}, as_fragment):
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
    post_id = share(member, "Alpine lake #zzfrontendtag")
    results = member.visitor.get("/search?q=%23zzfrontendtag")
    assert results.status_code == 200
    assert '"#zzfrontendtag" - Search - Phasma' in text_of(results)
    html = results.get_data(as_text=True)
    assert html.count('class="thumb media-box"') == 1
    # The top page leads with the tag, which links to its page; the tabs are plain links.
    assert html.index('data-result-section="hashtags"') < html.index('data-result-section="posts"')
    assert 'href="/tags/zzfrontendtag"' in html
    assert 'href="/search?q=%23zzfrontendtag&amp;tab=accounts"' in html
    posts_tab = member.visitor.get("/search?q=%23zzfrontendtag&tab=posts")
    assert posts_tab.get_data(as_text=True).count('class="thumb media-box"') == 1
    tag = member.visitor.get("/tags/zzfrontendtag")
    assert tag.status_code == 200 and "<title>#zzfrontendtag - Phasma</title>" in tag.get_data(True)
    assert f'href="/posts/{post_id}"' in tag.get_data(as_text=True)
    assert member.visitor.get("/tags/ZZFrontendTag").headers["Location"] == "/tags/zzfrontendtag"
    assert member.visitor.get("/tags/no-such!").status_code == 404
    assert Visitor(member.visitor.frontend).get("/tags/zzfrontendtag").status_code == 200
    none = member.visitor.get("/search?q=%23zznothinghere")
    assert "No results" in text_of(none)
    assert "Nothing matched \u201c#zznothinghere\u201d. Try a different query." in text_of(none)


def test_a_tag_page_counts_its_posts_and_follows_the_tag(member: Member) -> None:
    tag = f"zzfollow{secrets.token_hex(3)}"
    older, newer = share(member, f"Dusk #{tag}"), share(member, f"Dawn #{tag.upper()}")
    page = member.visitor.get(f"/tags/{tag}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "2 posts" in text_of(page)
    assert html.index(f'href="/posts/{newer}"') < html.index(f'href="/posts/{older}"')
    assert f'action="/tags/{tag}/follow"' in html and 'aria-pressed="false"' in html
    assert "Sign up to follow" not in text_of(page)

    # Without JavaScript: a plain form post, back to the page, now following.
    followed = member.visitor.post(f"/tags/{tag}/follow", data={"next": f"/tags/{tag}"})
    assert followed.status_code == 303 and followed.headers["Location"] == f"/tags/{tag}"
    html = member.visitor.get(f"/tags/{tag}").get_data(as_text=True)
    assert f'action="/tags/{tag}/unfollow"' in html and 'aria-pressed="true"' in html
    # With JavaScript, follow.js sends the same form with fetch.
    assert member.visitor.fetch(f"/tags/{tag}/unfollow", data={}).json == {
        "ok": True,
        "following": False,
    }
    assert f'action="/tags/{tag}/follow"' in member.visitor.get(f"/tags/{tag}").get_data(True)
    unknown = member.visitor.fetch(f"/tags/zznosuch{secrets.token_hex(3)}/follow", data={})
    assert unknown.status_code == 404 and unknown.json["ok"] is False


def test_a_tag_page_is_readable_signed_out_with_a_sign_up_prompt(member: Member) -> None:
    tag = f"zzopen{secrets.token_hex(3)}"
    post_id = share(member, f"Open to all #{tag}")
    stranger = Visitor(member.visitor.frontend)
    page = stranger.get(f"/tags/{tag}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "1 post" in text_of(page)
    assert f'href="/posts/{post_id}"' in html
    assert "Sign up to follow" in text_of(page) and 'href="/register"' in html
    assert "data-tag-follow-form" not in html
    # Following needs an account: a fetch gets a bare 401, nothing is written.
    assert stranger.fetch(f"/tags/{tag}/follow", data={}).status_code == 401
    # A tag nobody used: an empty page without a button, not an error.
    empty = stranger.get(f"/tags/zznothing{secrets.token_hex(3)}")
    assert empty.status_code == 200 and "No posts yet" in text_of(empty)
    assert "Sign up to follow" not in text_of(empty)


def test_notifications_page_and_marking_read(member: Member) -> None:
    page = member.visitor.get("/notifications")
    assert page.status_code == 200 and "No notifications yet" in text_of(page)
    ids = {"ids": ["00000000-0000-4000-8000-000000000000", "not-a-uuid", 7]}
    marked = member.visitor.fetch("/notifications/read", json=ids)
    assert marked.json == {"ok": True, "unread": 0}  # single failures are ignored
    plain = member.visitor.post("/notifications/read", data={"ids": "x"})
    assert plain.headers["Location"] == "/notifications"
    # "Mark all as read" (a form without JS, `{all: true}` with it) is one backend call.
    assert '<input type="hidden" name="all" value="1">' in page.get_data(as_text=True)
    every = member.visitor.post("/notifications/read", data={"all": "1"})
    assert (every.status_code, every.headers["Location"]) == (303, "/notifications")
    assert member.visitor.fetch("/notifications/read", json={"all": True}).json == {
        "ok": True,
        "unread": 0,
    }
    assert member.visitor.fetch("/notifications/read", json={"all": "yes"}).status_code == 400


@pytest.fixture
def notifications_worker(site_stack: SiteStack) -> Iterator[Worker]:
    """The real `notifications-worker` on the site's database, fed the outbox by hand."""
    function = get_function("notifications-worker")
    runtime = Runtime(function, site_stack.api_settings)
    yield Worker(EventFunction(function, runtime))
    runtime.close()


def test_notifications_group_likes_link_their_post_show_it_and_quote_the_comment(
    member: Member, sign_up, database: Database, notifications_worker: Worker
) -> None:  # type: ignore[no-untyped-def]
    post_id = share(member, "evening walk")
    filename = database.value("SELECT filename FROM posts WHERE public_id = :id", id=post_id)
    fans = [sign_up("fan") for _ in range(4)]
    position = outbox_position(database)
    for fan in fans:
        assert fan.visitor.fetch(f"/posts/{post_id}/like").json == {"ok": True, "liked": True}
    commenter = fans[0]
    commenter.visitor.post(
        f"/posts/{post_id}/comments", data={"body": f"@{member.username} what a <light>"}
    )
    comment_id = database.value(
        "SELECT c.public_id::text FROM comments c JOIN posts p ON p.id = c.post_id"
        " WHERE p.public_id = :id",
        id=post_id,
    )
    mention_post = share(fans[1], f"met @{member.username} today")
    notifications_worker.deliver_all(outbox_rows(database, position))

    page = member.visitor.get("/notifications")
    body = page.get_data(as_text=True)
    rows = re.findall(r'<li class="notification[^"]*"[^>]*>.*?</li>', body, re.S)
    texts = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]
    # Newest first: the caption mention, the comment mention, the comment, then the four
    # likes in one row under the newest liker; the quotes are escaped text.
    quote = f"@{member.username} what a <light>"
    assert len(rows) == 4
    assert texts[0].startswith(f"{fans[1].name} mentioned you in a post met @{member.username}")
    assert texts[1].startswith(f"{commenter.name} mentioned you in a comment {quote}")
    assert texts[2].startswith(f"{commenter.name} commented on your post {quote}")
    assert texts[3].startswith(f"{fans[3].name} and 3 others liked your post")
    assert "<light>" not in body
    assert f'href="/posts/{mention_post}">mentioned you in a post</a>' in rows[0]
    assert f'href="/posts/{post_id}#comment-{comment_id}">mentioned you' in rows[1]
    assert f'href="/posts/{post_id}#comment-{comment_id}">commented' in rows[2]
    assert f'and 3 others <a class="notification-target" href="/posts/{post_id}">liked' in rows[3]
    # Likes and comments show the post's thumbnail, through the site's image proxy.
    thumbnail = f'src="/uploads/{filename}?variant=thumbnail"'
    assert thumbnail in rows[2] and thumbnail in rows[3]
    # The grouped row stands for every like it shows, so leaving marks them all read.
    ids = re.search(r'data-notification-ids="([^"]*)"', rows[3]).group(1).split()  # type: ignore[union-attr]
    assert len(ids) == 4
    assert member.visitor.fetch("/notifications/read", json={"ids": ids}).json == {
        "ok": True,
        "unread": 3,
    }


def test_the_likes_tab_is_the_owners_only(member: Member, sign_up) -> None:  # type: ignore[no-untyped-def]
    post_id = share(member, "liked by its author")
    assert member.visitor.fetch(f"/posts/{post_id}/like").json == {"ok": True, "liked": True}
    own = member.visitor.get(f"/@{member.username}/likes")
    assert own.status_code == 200
    assert f'href="/posts/{post_id}"' in own.get_data(as_text=True)
    likes_tab = f'href="/@{member.username}/likes"'
    assert likes_tab in member.visitor.get(f"/@{member.username}").get_data(as_text=True)

    other = sign_up("other")
    profile = other.visitor.get(f"/@{member.username}").get_data(as_text=True)
    assert likes_tab not in profile  # the count stays, as plain text
    assert re.search(
        r'<span class="stat-count">1</span>\s*<span class="stat-label">like</span>', profile
    )
    refused = other.visitor.get(f"/@{member.username}/likes")
    assert refused.status_code == 403
    assert "Liked posts are visible to their owner only." in text_of(refused)
    assert f'href="/posts/{post_id}"' not in refused.get_data(as_text=True)


# -- the first run ------------------------------------------------------------------------


def test_a_stranger_at_the_root_sees_what_phasma_is_and_popular_photos(
    member: Member, visitor: Visitor, database: Database
) -> None:
    post_id = share(member, "popular with strangers")
    assert member.visitor.fetch(f"/posts/{post_id}/like").json == {"ok": True, "liked": True}
    # Far more likes than any other test's post: first on the popular list.
    database.rows(
        "UPDATE posts SET like_count = 1000000 WHERE public_id = CAST(:p AS uuid)", p=post_id
    )
    landing = visitor.get("/")
    assert landing.status_code == 200
    page = landing.get_data(as_text=True)
    assert "Popular this week" in page and f'href="/posts/{post_id}"' in page
    assert 'href="/register"' in page and 'href="/login"' in page
    assert '<meta name="phasma-viewer"' not in page
    home = member.visitor.get("/")
    assert (home.status_code, home.headers["Location"]) == (303, "/feed")
    database.rows("UPDATE posts SET like_count = 1 WHERE public_id = CAST(:p AS uuid)", p=post_id)


def test_an_empty_feed_suggests_accounts_to_follow_that_work_without_javascript(
    sign_up,  # type: ignore[no-untyped-def]
) -> None:
    sign_up("popular")  # at least one account to suggest
    newcomer = sign_up("newcomer")
    page = newcomer.visitor.get("/feed").get_data(as_text=True)
    assert "Your feed is empty" in page and "Suggested for you" in page
    suggested = re.findall(r'action="/@([a-z0-9._]+)/follow" data-follow-form', page)
    assert suggested and newcomer.username not in suggested
    followed = newcomer.visitor.post(f"/@{suggested[0]}/follow", data={"next": "/feed"})
    assert (followed.status_code, followed.headers["Location"]) == (303, "/feed")
    following = newcomer.visitor.get(f"/@{newcomer.username}/following")
    assert f"@{suggested[0]}" in text_of(following)


def test_a_bare_username_redirects_to_the_profile(member: Member, visitor: Visitor) -> None:
    for path, location in (
        (f"/{member.username}", f"/@{member.username}"),
        (f"/{member.username.upper()}", f"/@{member.username}"),
        (f"/{member.username}?cursor=x", f"/@{member.username}?cursor=x"),
    ):
        response = visitor.get(path)
        assert (response.status_code, response.headers["Location"]) == (301, location)
    assert visitor.get("/search").headers["Location"] == "/login"  # reserved paths still work
    assert visitor.get("/login").status_code == 200
    assert visitor.get("/suggested").status_code == 404
    assert visitor.get("/no").status_code == 404  # too short to be a username
