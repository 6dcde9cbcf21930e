"""Every page and form endpoint of the site (docs/frontend.md §4), with who may use it.

These are the frontend's own routes, not API routes: the API gateway never sees
them, and the function registry lists the frontend without routes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug import Response

from phasma.frontend.context import Context
from phasma.frontend.pages import (
    auth,
    exports,
    feed,
    media,
    notifications,
    post_edit,
    posts,
    profiles,
    recovery,
    search,
    settings,
    tags,
    upload,
)


class Access(enum.Enum):
    """Who may use a route (docs/frontend.md §2.4)."""

    PUBLIC = "public"  # anyone; a session only personalises
    PAGE = "page"  # signed in; otherwise 303 /login
    ENDPOINT = "endpoint"  # signed in; a fetch without a session gets a bare 401


@dataclass(frozen=True)
class PageRoute:
    """One frontend route: `METHOD /template` handled by `handler`."""

    method: str
    path: str
    handler: Callable[[Context], Response]
    access: Access = Access.PAGE
    shell: bool = True  # a full page with the navbar; False for bytes, streams and JSON


ROUTES: tuple[PageRoute, ...] = (
    PageRoute("GET", "/", feed.home, Access.PUBLIC),
    PageRoute("GET", "/login", auth.login_page, Access.PUBLIC),
    PageRoute("POST", "/login", auth.log_in, Access.PUBLIC),
    PageRoute("GET", "/register", auth.register_page, Access.PUBLIC),
    PageRoute("POST", "/register", auth.register, Access.PUBLIC),
    PageRoute("POST", "/logout", auth.log_out, Access.PUBLIC),
    PageRoute("GET", "/verify-email", recovery.verify_page, Access.PUBLIC),
    PageRoute("POST", "/verify-email", recovery.verify, Access.PUBLIC),
    PageRoute("POST", "/settings/verification", recovery.resend_verification),
    PageRoute("GET", "/forgot-password", recovery.forgot_page, Access.PUBLIC),
    PageRoute("POST", "/forgot-password", recovery.forgot, Access.PUBLIC),
    PageRoute("GET", "/reset-password", recovery.reset_page, Access.PUBLIC),
    PageRoute("POST", "/reset-password", recovery.reset, Access.PUBLIC),
    PageRoute("GET", "/feed", feed.feed),
    PageRoute("GET", "/posts/{post_id}", posts.post_page, Access.PUBLIC),
    PageRoute("POST", "/posts/{post_id}/like", posts.like, Access.ENDPOINT),
    PageRoute("POST", "/posts/{post_id}/unlike", posts.unlike, Access.ENDPOINT),
    PageRoute("POST", "/posts/{post_id}/save", posts.save, Access.ENDPOINT),
    PageRoute("POST", "/posts/{post_id}/unsave", posts.unsave, Access.ENDPOINT),
    PageRoute("POST", "/posts/{post_id}/comments", posts.add_comment, Access.ENDPOINT),
    PageRoute("GET", "/posts/{post_id}/comments/{comment_id}/delete", posts.confirm_delete_comment),
    PageRoute(
        "POST",
        "/posts/{post_id}/comments/{comment_id}/delete",
        posts.delete_comment,
        Access.ENDPOINT,
    ),
    PageRoute("GET", "/posts/{post_id}/edit", post_edit.edit_page),
    PageRoute("POST", "/posts/{post_id}/edit", post_edit.save_edit, Access.ENDPOINT),
    PageRoute("GET", "/posts/{post_id}/delete", posts.confirm_delete),
    PageRoute("POST", "/posts/{post_id}/delete", posts.delete_post, Access.ENDPOINT),
    PageRoute("GET", "/{handle}", profiles.posts, Access.PUBLIC),
    PageRoute("GET", "/{handle}/likes", profiles.likes),
    PageRoute("GET", "/{handle}/saved", profiles.saved),
    # Followers and following read signed out (docs/api.md §F); an unknown mode is a 404.
    PageRoute("GET", "/{handle}/{mode}", profiles.connections, Access.PUBLIC),
    PageRoute("POST", "/{handle}/follow", profiles.follow, Access.ENDPOINT),
    PageRoute("POST", "/{handle}/unfollow", profiles.unfollow, Access.ENDPOINT),
    PageRoute("GET", "/search", search.search),
    PageRoute("GET", "/tags/{name}", tags.tag_page, Access.PUBLIC),
    PageRoute("POST", "/tags/{name}/follow", tags.follow, Access.ENDPOINT),
    PageRoute("POST", "/tags/{name}/unfollow", tags.unfollow, Access.ENDPOINT),
    PageRoute("GET", "/suggest", search.suggest, Access.ENDPOINT, shell=False),
    PageRoute("POST", "/search/recent", search.record_recent, Access.ENDPOINT),
    PageRoute("POST", "/search/recent/{recent_id}/delete", search.delete_recent, Access.ENDPOINT),
    PageRoute("POST", "/search/recent/clear", search.clear_recent, Access.ENDPOINT),
    PageRoute("GET", "/notifications", notifications.notifications),
    PageRoute("POST", "/notifications/read", notifications.mark_read, Access.ENDPOINT),
    PageRoute("GET", "/notifications/stream", notifications.stream, Access.ENDPOINT, shell=False),
    PageRoute("GET", "/upload", upload.upload_page),
    PageRoute("POST", "/upload", upload.create_post, Access.ENDPOINT),
    PageRoute("GET", "/settings", settings.settings_page),
    PageRoute("POST", "/settings/theme", settings.choose_theme, Access.PUBLIC),
    PageRoute("GET", "/settings/profile", settings.profile_page),
    PageRoute("POST", "/settings/profile", settings.save_profile, Access.ENDPOINT),
    PageRoute("GET", "/settings/password", settings.password_page),
    PageRoute("POST", "/settings/password", settings.change_password, Access.ENDPOINT),
    PageRoute("GET", "/settings/sessions", settings.sessions_page),
    PageRoute("GET", "/settings/export", exports.export_page),
    PageRoute("POST", "/settings/export", exports.request_export, Access.ENDPOINT),
    PageRoute("GET", "/settings/export/{export_id}/download", exports.download, shell=False),
    PageRoute("GET", "/settings/delete-account", settings.delete_account_page),
    PageRoute("POST", "/settings/delete-account", settings.delete_account, Access.ENDPOINT),
    PageRoute(
        "POST",
        "/settings/sessions/{session_id}/revoke",
        settings.revoke_session,
        Access.ENDPOINT,
    ),
    PageRoute("GET", "/uploads/{key}", media.image, Access.PUBLIC, shell=False),
)
