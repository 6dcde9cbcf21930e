"""Profile pages: posts, likes, saved posts, followers, following; follow and unfollow
(docs/frontend.md §7.5)."""

from __future__ import annotations

import re
from concurrent.futures import Future
from typing import Any

from werkzeug import Response

from phasma.config import Limits
from phasma.frontend.backend import BackendResponse, api_path
from phasma.frontend.context import Context, PageError, SignInRequired
from phasma.frontend.pages import cursor_param, page_of, respond, submit, username_param
from phasma.frontend.rendering import USERNAME_INPUT, profile_url
from phasma.frontend.sharing import profile_meta
from phasma.http import probes

BARE_USERNAME = re.compile(USERNAME_INPUT)
CONNECTION_MODES = ("followers", "following")
USER_NOT_FOUND = "User not found"
LIKES_ARE_PRIVATE = "Liked posts are visible to their owner only."


def posts(context: Context) -> Response:
    """`GET /@{u}`: the header and the user's posts grid (public). `/{u}` without the
    `@` is a permanent redirect there, so a typed or shared `/alice` works."""
    bare = BARE_USERNAME.fullmatch(context.params["handle"])
    # A probe path the scraper may not read stays an unknown page, never a profile.
    if bare is not None and not _reserved(bare.group(0).lower()):
        location = profile_url(bare.group(0).lower())
        query = context.request.query_string.decode("latin-1")
        response = Response(status=301)
        response.headers["Location"] = f"{location}?{query}" if query else location
        return response
    return _grid(context, "posts", "/users/{}/posts", public=True)


def _reserved(name: str) -> bool:
    return name in Limits.RESERVED_USERNAMES or f"/{name}" in probes.PATHS


def likes(context: Context) -> Response:
    """`GET /@{u}/likes`: posts the user liked, for that user only (docs/api.md §F); anyone
    else gets the 403 page without a list call."""
    username = username_param(context)
    viewer = context.require_viewer()
    if viewer.get("username") != username:
        raise PageError(403, LIKES_ARE_PRIVATE)
    return _grid(context, "likes", "/users/{}/likes", public=False)


def saved(context: Context) -> Response:
    """`GET /@{u}/saved`: the posts the viewer saved, on their own profile only.

    Bookmarks are private (docs/api.md §F): anyone else's `/@{u}/saved` is a 404,
    decided before the list is read, so it never shows whether the page exists.
    """
    username = username_param(context)
    if context.require_viewer().get("username") != username:
        raise PageError(404)
    return _grid(context, "saved", "/users/me/bookmarks", public=False)


def connections(context: Context) -> Response:
    """`GET /@{u}/followers` and `/@{u}/following`."""
    mode = context.params["mode"]
    if mode not in CONNECTION_MODES:
        raise PageError(404)
    username = username_param(context)
    # Readable signed out (docs/api.md §F): the lists are optional-session reads.
    user_call, list_response = _user_and_list(context, username, "/users/{}/" + mode)
    if list_response.status == 404:
        raise PageError(404, USER_NOT_FOUND)
    people, next_cursor = _list_page(context, list_response)
    if context.is_fragment:
        return context.render_fragment("fragments/connections.html", next_cursor, people=people)
    user = _user(context, user_call.result())
    locked = _locked(context, user)
    label = "Followers for" if mode == "followers" else "Following by"
    return context.render(
        "connections.html",
        title=f"{label} @{user['username']}",
        user=user,
        section=mode,
        people=[] if locked else people,
        next_cursor=None if locked else next_cursor,
        locked=locked,
        more_url=profile_url(username, mode),
    )


def follow(context: Context) -> Response:
    """`POST /@{u}/follow`."""
    return _set_follow(context, "POST")


def unfollow(context: Context) -> Response:
    """`POST /@{u}/unfollow`."""
    return _set_follow(context, "DELETE")


def _set_follow(context: Context, method: str) -> Response:
    username = username_param(context)
    location = context.next_path(profile_url(username))
    path = api_path("/users/{}/follow", username)
    if method == "POST":
        response = context.api.call(method, path)
        if response.status == 202:
            # A private account (docs/api.md §E): asked, not followed; the page shows "Requested".
            return context.done(location, following=False, requested=True)
        return respond(context, response, location, following=True)
    return submit(context, method, path, location, following=False)


def _grid(context: Context, section: str, list_path: str, *, public: bool) -> Response:
    username = username_param(context)
    if not public and not context.has_session:
        raise SignInRequired()
    user_call, list_response = _user_and_list(context, username, list_path)
    if list_response.status in (400, 404):
        raise PageError(404, USER_NOT_FOUND)
    grid, next_cursor = _list_page(context, list_response)
    if context.is_fragment:
        return context.render_fragment("fragments/thumbnails.html", next_cursor, posts=grid)
    user = _user(context, user_call.result())
    locked = section == "posts" and _locked(context, user)
    title = {
        "posts": f"@{user['username']}",
        "likes": f"Liked posts by @{user['username']}",
        "saved": "Saved posts",
    }[section]
    return context.render(
        "profile.html",
        title=title,
        user=user,
        section=section,
        posts=[] if locked else grid,
        next_cursor=None if locked else next_cursor,
        locked=locked,
        more_url=profile_url(username, "" if section == "posts" else section),
        # Only the public grid is worth a link preview; likes and saved are private.
        meta=profile_meta(context.settings.public_origin, user) if public else None,
    )


def _list_page(
    context: Context, response: BackendResponse
) -> tuple[list[dict[str, Any]], str | None]:
    """A list's items and cursor; a `403` (a private account's list, docs/api.md §E) is an
    empty list: the page shows the private notice instead."""
    if response.status == 403:
        return [], None
    return page_of(context.expect(response))


def _locked(context: Context, user: dict[str, Any]) -> bool:
    """Whether the viewer sees a private account from outside: the header and counts, a
    lock and "follow to see their photos", no posts and no lists (docs/api.md §E)."""
    if not user.get("private") or user.get("isFollowing"):
        return False
    viewer = context.viewer
    return not (viewer and viewer.get("username") == user.get("username"))


def _user_and_list(
    context: Context, username: str, list_path: str
) -> tuple[Future[BackendResponse], BackendResponse]:
    """The profile call (in the background) and the list call, side by side; a "Load More"
    fragment needs no profile, so it only gets the list."""
    if context.is_fragment:
        user_call: Future[BackendResponse] = Future()
        user_call.set_result(BackendResponse(200, {}, b"{}"))
    else:
        user_call = context.api.backend.submit(
            lambda: context.api.get(api_path("/users/{}", username))
        )
    list_response = context.api.get(api_path(list_path, username), cursor=cursor_param(context))
    return user_call, list_response


def _user(context: Context, response: BackendResponse) -> dict[str, Any]:
    if response.status in (400, 404):
        raise PageError(404, USER_NOT_FOUND)
    user = context.expect(response).json()
    if not isinstance(user, dict) or not isinstance(user.get("username"), str):
        raise PageError(502)
    return user
