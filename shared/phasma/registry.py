"""The function registry: the single list of deployable functions.

Each entry names the function, its kind, the routes it owns (with their access
class, rate-limit policy and handler) — for the site, its pages (`PageRoute`) —
and the scaling profile Knative gives it. The local gateway, the HTTP entry
point, the site's router, the manifest generator, the docs and the tests all
read this list; nothing else declares a route.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal


class Access(enum.Enum):
    """Auth class of a route (docs/api.md §5.3)."""

    PUBLIC = "public"  # session never read for auth; cookie never refreshed
    OPTIONAL = "optional"  # a valid session personalises; otherwise anonymous
    REQUIRED = "required"  # no valid session -> 401


RateLimitPolicy = Literal["strict", "typeahead", "read", "mutation", "media"]


def resolve(reference: str) -> Callable[..., Any]:
    """The callable a `"module:function"` reference names (imported on demand)."""
    module_name, _, attribute = reference.partition(":")
    target: Callable[..., Any] = getattr(importlib.import_module(module_name), attribute)
    return target


@dataclass(frozen=True)
class Route:
    """One HTTP route: `METHOD /template/{param}` handled by `module:function`."""

    method: str
    path: str
    handler: str
    access: Access = Access.REQUIRED
    policy: RateLimitPolicy | None = None  # None: "read" for GET/HEAD, else "mutation"
    json_body: bool = False  # takes a JSON object, read by RequestContext.body (docs/api.md §7)
    # The path carries a secret (a mail token): the access log writes the template instead.
    secret_path: bool = False

    @property
    def rate_limit_policy(self) -> RateLimitPolicy:
        if self.policy is not None:
            return self.policy
        return "read" if self.method in ("GET", "HEAD") else "mutation"

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))

    def resolve_handler(self) -> Callable[..., Any]:
        return resolve(self.handler)


class PageAccess(enum.Enum):
    """Who may use a page route of the site (docs/frontend.md §2.4)."""

    PUBLIC = "public"  # anyone; a session only personalises
    PAGE = "page"  # signed in; otherwise 303 /login
    ENDPOINT = "endpoint"  # signed in; a fetch without a session gets a bare 401


@dataclass(frozen=True)
class PageRoute:
    """One page or form endpoint of the site: `METHOD /template` handled by `module:function`.

    The handler takes a `phasma.frontend.context.Context`. The API gateway never
    routes to these: the site calls the API's routes server-side.
    """

    method: str
    path: str
    handler: str
    access: PageAccess = PageAccess.PAGE
    shell: bool = True  # a full page with the navbar; False for bytes, streams and JSON

    def resolve_handler(self) -> Callable[..., Any]:
        return resolve(self.handler)


@dataclass(frozen=True)
class Scaling:
    """Knative scaling and resources for one function (docs/operations.md §1)."""

    min_scale: int
    max_scale: int
    target: int
    container_concurrency: int | None
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    timeout_seconds: int


@dataclass(frozen=True)
class Schedule:
    """A PingSource (docs/operations.md §2.3): `payload` posted to the function on `cron` (UTC).

    The local dispatcher pings once at start, then every `local_every_seconds`.
    """

    source_name: str
    cron: str
    payload: str
    local_every_seconds: float


@dataclass(frozen=True)
class Readiness:
    """A dependency `/ready` checks beyond the database, cache and bucket (docs/api.md §17).

    `check` is a `"module:function"` reference, imported on demand like a handler, to a
    function of the `Runtime` returning the probe to run (any exception: not ready), or
    None when the configuration has no such dependency.
    """

    name: str  # the `dependency` label of `phasma_dependency_up` and the log line
    check: str


@dataclass(frozen=True)
class Function:
    """One independently deployed function."""

    name: str
    # "frontend": the public site; it serves pages, never API routes, so the gateway skips it.
    kind: Literal["http", "event", "frontend"]
    summary: str
    scaling: Scaling
    routes: tuple[Route, ...] = ()
    pages: tuple[PageRoute, ...] = ()  # the site's pages and forms (kind "frontend")
    topics: tuple[str, ...] = field(default=())
    uses_database: bool = True
    uses_blob_store: bool = False  # reads, writes or deletes images in S3
    # `/ready` checks the bucket: only where requests cannot be served without it
    # (docs/api.md §17: uploads, media); best-effort deleters stay ready during an S3 outage.
    blob_store_readiness: bool = False
    # Further `/ready` checks this function's own dependencies need (see Readiness).
    readiness: tuple[Readiness, ...] = ()
    hashes_passwords: bool = False  # computes the Argon2 decoy hash at start-up
    # Request threads per process (functions-framework's THREADS); None keeps its default,
    # four per core. An open Server-Sent Events stream holds one thread for its lifetime.
    request_threads: int | None = None
    # Event functions: "module:function" receiving every delivered CloudEvent
    # (phasma.events.worker), and the PingSource that triggers scheduled ones.
    event_handler: str | None = None
    schedule: Schedule | None = None

    @property
    def source(self) -> str:
        """Path of the function's entry module, relative to the repository root."""
        return f"functions/{self.name}/main.py"

    def resolve_event_handler(self) -> Callable[..., Any]:
        """The event handler this function's registry entry names."""
        if self.event_handler is None:
            raise LookupError(f"function {self.name} has no event handler")
        return resolve(self.event_handler)


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="users",
        kind="http",
        summary="Accounts: registration, profiles, verification, resets, deletion, exports",
        hashes_passwords=True,
        uses_blob_store=True,  # deletes a replaced avatar's blob, streams export ZIPs
        scaling=Scaling(1, 6, 30, None, "100m", "1", "192Mi", "384Mi", 30),
        routes=(
            Route(
                "POST",
                "/users",
                "phasma.users.routes:register",
                access=Access.PUBLIC,
                policy="strict",
                json_body=True,
            ),
            Route("GET", "/users/me", "phasma.users.routes:get_me"),
            Route("PUT", "/users/me", "phasma.users.routes:update_me", json_body=True),
            Route("DELETE", "/users/me", "phasma.users.routes:delete_me", json_body=True),
            Route("POST", "/users/me/verification", "phasma.users.routes:resend_verification"),
            Route("POST", "/users/me/exports", "phasma.exports.routes:request_export"),
            Route("GET", "/users/me/exports/{id}", "phasma.exports.routes:get_export"),
            Route(
                "GET", "/users/me/exports/{id}/download", "phasma.exports.routes:download_export"
            ),
            Route(
                "POST",
                "/email-verifications",
                "phasma.users.routes:verify_email",
                access=Access.PUBLIC,
                json_body=True,
            ),
            Route(
                "POST",
                "/password-resets",
                "phasma.users.routes:request_password_reset",
                access=Access.PUBLIC,
                policy="strict",
                json_body=True,
            ),
            Route(
                "PUT",
                "/password-resets/{token}",
                "phasma.users.routes:reset_password",
                access=Access.PUBLIC,
                policy="strict",
                json_body=True,
                secret_path=True,
            ),
            Route("GET", "/users/suggested", "phasma.users.routes:suggested_users"),
            Route(
                "GET",
                "/users/{username}",
                "phasma.users.routes:get_user",
                access=Access.OPTIONAL,
            ),
        ),
    ),
    Function(
        name="sessions",
        kind="http",
        summary="Log in, list and revoke sessions, log out",
        hashes_passwords=True,
        scaling=Scaling(1, 6, 8, 16, "500m", "1", "192Mi", "384Mi", 30),
        routes=(
            Route(
                "POST",
                "/sessions",
                "phasma.sessions.routes:log_in",
                access=Access.PUBLIC,
                policy="strict",
                json_body=True,
            ),
            Route("GET", "/sessions", "phasma.sessions.routes:list_sessions"),
            Route(
                "DELETE",
                "/sessions",
                "phasma.sessions.routes:log_out",
                access=Access.PUBLIC,
            ),
            Route("DELETE", "/sessions/{id}", "phasma.sessions.routes:revoke"),
        ),
    ),
    Function(
        name="frontend",
        kind="frontend",
        summary="The server-rendered site: pages, forms, the image proxy; the only public entry",
        uses_database=False,
        # Never cold; two replicas keep its disruption budget satisfiable (docs/operations.md §1).
        scaling=Scaling(2, 10, 50, None, "250m", "1", "256Mi", "512Mi", 60),
        # Every open page relays its notification stream on one thread, beside the requests.
        request_threads=64,
        # Every page and form endpoint (docs/frontend.md §4), with who may use it.
        pages=(
            PageRoute("GET", "/", "phasma.frontend.pages.feed:home", PageAccess.PUBLIC),
            PageRoute("GET", "/login", "phasma.frontend.pages.auth:login_page", PageAccess.PUBLIC),
            PageRoute("POST", "/login", "phasma.frontend.pages.auth:log_in", PageAccess.PUBLIC),
            PageRoute(
                "GET", "/register", "phasma.frontend.pages.auth:register_page", PageAccess.PUBLIC
            ),
            PageRoute(
                "POST", "/register", "phasma.frontend.pages.auth:register", PageAccess.PUBLIC
            ),
            PageRoute("POST", "/logout", "phasma.frontend.pages.auth:log_out", PageAccess.PUBLIC),
            PageRoute(
                "GET",
                "/verify-email",
                "phasma.frontend.pages.recovery:verify_page",
                PageAccess.PUBLIC,
            ),
            PageRoute(
                "POST", "/verify-email", "phasma.frontend.pages.recovery:verify", PageAccess.PUBLIC
            ),
            PageRoute(
                "POST",
                "/settings/verification",
                "phasma.frontend.pages.recovery:resend_verification",
            ),
            PageRoute(
                "GET",
                "/forgot-password",
                "phasma.frontend.pages.recovery:forgot_page",
                PageAccess.PUBLIC,
            ),
            PageRoute(
                "POST",
                "/forgot-password",
                "phasma.frontend.pages.recovery:forgot",
                PageAccess.PUBLIC,
            ),
            PageRoute(
                "GET",
                "/reset-password",
                "phasma.frontend.pages.recovery:reset_page",
                PageAccess.PUBLIC,
            ),
            PageRoute(
                "POST", "/reset-password", "phasma.frontend.pages.recovery:reset", PageAccess.PUBLIC
            ),
            PageRoute("GET", "/feed", "phasma.frontend.pages.feed:feed"),
            PageRoute(
                "GET",
                "/posts/{post_id}",
                "phasma.frontend.pages.posts:post_page",
                PageAccess.PUBLIC,
            ),
            PageRoute(
                "POST",
                "/posts/{post_id}/like",
                "phasma.frontend.pages.posts:like",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "POST",
                "/posts/{post_id}/unlike",
                "phasma.frontend.pages.posts:unlike",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "POST",
                "/posts/{post_id}/save",
                "phasma.frontend.pages.posts:save",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "POST",
                "/posts/{post_id}/unsave",
                "phasma.frontend.pages.posts:unsave",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "POST",
                "/posts/{post_id}/comments",
                "phasma.frontend.pages.posts:add_comment",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "GET",
                "/posts/{post_id}/comments/{comment_id}/delete",
                "phasma.frontend.pages.posts:confirm_delete_comment",
            ),
            PageRoute(
                "POST",
                "/posts/{post_id}/comments/{comment_id}/delete",
                "phasma.frontend.pages.posts:delete_comment",
                PageAccess.ENDPOINT,
            ),
            PageRoute("GET", "/posts/{post_id}/edit", "phasma.frontend.pages.post_edit:edit_page"),
            PageRoute(
                "POST",
                "/posts/{post_id}/edit",
                "phasma.frontend.pages.post_edit:save_edit",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "GET", "/posts/{post_id}/delete", "phasma.frontend.pages.posts:confirm_delete"
            ),
            PageRoute(
                "POST",
                "/posts/{post_id}/delete",
                "phasma.frontend.pages.posts:delete_post",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "GET", "/{handle}", "phasma.frontend.pages.profiles:posts", PageAccess.PUBLIC
            ),
            PageRoute("GET", "/{handle}/likes", "phasma.frontend.pages.profiles:likes"),
            # Block and mute (docs/api.md §D): a confirmation page without JS, the form it posts.
            PageRoute("GET", "/{handle}/block", "phasma.frontend.pages.safety:confirm_block"),
            PageRoute(
                "POST", "/{handle}/block", "phasma.frontend.pages.safety:block", PageAccess.ENDPOINT
            ),
            PageRoute(
                "POST",
                "/{handle}/unblock",
                "phasma.frontend.pages.safety:unblock",
                PageAccess.ENDPOINT,
            ),
            PageRoute("GET", "/{handle}/mute", "phasma.frontend.pages.safety:confirm_mute"),
            PageRoute(
                "POST", "/{handle}/mute", "phasma.frontend.pages.safety:mute", PageAccess.ENDPOINT
            ),
            PageRoute(
                "POST",
                "/{handle}/unmute",
                "phasma.frontend.pages.safety:unmute",
                PageAccess.ENDPOINT,
            ),
            PageRoute("GET", "/{handle}/saved", "phasma.frontend.pages.profiles:saved"),
            # Followers and following read signed out (docs/api.md §F); an unknown mode is a 404.
            PageRoute(
                "GET",
                "/{handle}/{mode}",
                "phasma.frontend.pages.profiles:connections",
                PageAccess.PUBLIC,
            ),
            PageRoute(
                "POST",
                "/{handle}/follow",
                "phasma.frontend.pages.profiles:follow",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "POST",
                "/{handle}/unfollow",
                "phasma.frontend.pages.profiles:unfollow",
                PageAccess.ENDPOINT,
            ),
            # Moderators and admins: the API checks the role on every call (a member gets 403).
            PageRoute("GET", "/moderation", "phasma.frontend.pages.moderation:queue"),
            PageRoute(
                "POST",
                "/moderation/reports/{report_id}/decision",
                "phasma.frontend.pages.moderation:decide",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "POST",
                "/moderation/users/{handle}/reinstate",
                "phasma.frontend.pages.moderation:reinstate",
                PageAccess.ENDPOINT,
            ),
            PageRoute("GET", "/reports/new", "phasma.frontend.pages.safety:report_page"),
            PageRoute(
                "POST", "/reports", "phasma.frontend.pages.safety:report", PageAccess.ENDPOINT
            ),
            PageRoute("GET", "/search", "phasma.frontend.pages.search:search"),
            PageRoute(
                "GET", "/tags/{name}", "phasma.frontend.pages.tags:tag_page", PageAccess.PUBLIC
            ),
            PageRoute(
                "POST",
                "/tags/{name}/follow",
                "phasma.frontend.pages.tags:follow",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "POST",
                "/tags/{name}/unfollow",
                "phasma.frontend.pages.tags:unfollow",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "GET",
                "/suggest",
                "phasma.frontend.pages.search:suggest",
                PageAccess.ENDPOINT,
                shell=False,
            ),
            PageRoute(
                "POST",
                "/search/recent",
                "phasma.frontend.pages.search:record_recent",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "POST",
                "/search/recent/{recent_id}/delete",
                "phasma.frontend.pages.search:delete_recent",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "POST",
                "/search/recent/clear",
                "phasma.frontend.pages.search:clear_recent",
                PageAccess.ENDPOINT,
            ),
            PageRoute("GET", "/notifications", "phasma.frontend.pages.notifications:notifications"),
            PageRoute(
                "POST",
                "/notifications/requests/{handle}/accept",
                "phasma.frontend.pages.notifications:accept_request",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "POST",
                "/notifications/requests/{handle}/decline",
                "phasma.frontend.pages.notifications:decline_request",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "POST",
                "/notifications/read",
                "phasma.frontend.pages.notifications:mark_read",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "GET",
                "/notifications/stream",
                "phasma.frontend.pages.notifications:stream",
                PageAccess.ENDPOINT,
                shell=False,
            ),
            PageRoute("GET", "/upload", "phasma.frontend.pages.upload:upload_page"),
            PageRoute(
                "POST", "/upload", "phasma.frontend.pages.upload:create_post", PageAccess.ENDPOINT
            ),
            PageRoute("GET", "/settings", "phasma.frontend.pages.settings:settings_page"),
            PageRoute(
                "POST",
                "/settings/theme",
                "phasma.frontend.pages.settings:choose_theme",
                PageAccess.PUBLIC,
            ),
            PageRoute("GET", "/settings/profile", "phasma.frontend.pages.settings:profile_page"),
            PageRoute(
                "POST",
                "/settings/profile",
                "phasma.frontend.pages.settings:save_profile",
                PageAccess.ENDPOINT,
            ),
            PageRoute("GET", "/settings/password", "phasma.frontend.pages.settings:password_page"),
            PageRoute(
                "POST",
                "/settings/password",
                "phasma.frontend.pages.settings:change_password",
                PageAccess.ENDPOINT,
            ),
            PageRoute("GET", "/settings/sessions", "phasma.frontend.pages.settings:sessions_page"),
            PageRoute("GET", "/settings/blocked", "phasma.frontend.pages.safety:blocked_page"),
            PageRoute("GET", "/settings/export", "phasma.frontend.pages.exports:export_page"),
            PageRoute(
                "POST",
                "/settings/export",
                "phasma.frontend.pages.exports:request_export",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "GET",
                "/settings/export/{export_id}/download",
                "phasma.frontend.pages.exports:download",
                shell=False,
            ),
            PageRoute(
                "GET",
                "/settings/delete-account",
                "phasma.frontend.pages.settings:delete_account_page",
            ),
            PageRoute(
                "POST",
                "/settings/delete-account",
                "phasma.frontend.pages.settings:delete_account",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "POST",
                "/settings/sessions/{session_id}/revoke",
                "phasma.frontend.pages.settings:revoke_session",
                PageAccess.ENDPOINT,
            ),
            PageRoute(
                "GET",
                "/uploads/{key}",
                "phasma.frontend.pages.media:image",
                PageAccess.PUBLIC,
                shell=False,
            ),
        ),
    ),
    Function(
        name="uploads",
        kind="http",
        summary="Validate, re-encode and store an image as a pending upload",
        uses_blob_store=True,
        blob_store_readiness=True,
        # Hard limit 2: each decode may hold a 50 MP frame (up to 200 MB of pixels).
        scaling=Scaling(0, 4, 2, 2, "1", "2", "512Mi", "1Gi", 60),
        routes=(Route("POST", "/uploads", "phasma.uploads.routes:upload", policy="strict"),),
    ),
    Function(
        name="media",
        kind="http",
        summary="Stream stored images with immutable caching; private accounts' to their viewers",
        # Whether an image is a private account's, and then the viewer's session and the
        # visibility rule (docs/api.md §E, docs/security.md "Private media").
        uses_blob_store=True,
        blob_store_readiness=True,
        scaling=Scaling(1, 8, 100, None, "100m", "500m", "128Mi", "256Mi", 60),
        routes=(
            Route(
                "GET",
                "/uploads/{filename}",
                "phasma.media.routes:serve",
                access=Access.PUBLIC,
                policy="media",
            ),
        ),
    ),
    Function(
        name="follows",
        kind="http",
        summary=(
            "Follow and unfollow users; follower and following lists; follow requests;"
            " block and mute"
        ),
        scaling=Scaling(0, 4, 50, None, "100m", "500m", "128Mi", "256Mi", 30),
        routes=(
            Route("POST", "/users/{username}/follow", "phasma.follows.routes:follow"),
            Route("DELETE", "/users/{username}/follow", "phasma.follows.routes:unfollow"),
            # Private accounts (docs/api.md §E): the viewer's pending requests.
            Route("GET", "/users/me/follow-requests", "phasma.follows.routes:follow_requests"),
            Route(
                "POST",
                "/users/me/follow-requests/{username}",
                "phasma.follows.routes:accept_request",
            ),
            Route(
                "DELETE",
                "/users/me/follow-requests/{username}",
                "phasma.follows.routes:decline_request",
            ),
            # Readable signed out (docs/api.md §F): `isFollowing` is then false for everyone.
            Route(
                "GET",
                "/users/{username}/followers",
                "phasma.follows.routes:followers",
                access=Access.OPTIONAL,
            ),
            Route(
                "GET",
                "/users/{username}/following",
                "phasma.follows.routes:following",
                access=Access.OPTIONAL,
            ),
            # Blocks and mutes (docs/api.md §D): a block ends follows, so it lives beside them.
            Route("PUT", "/users/{username}/block", "phasma.follows.routes:block"),
            Route("DELETE", "/users/{username}/block", "phasma.follows.routes:unblock"),
            Route("GET", "/users/me/blocks", "phasma.follows.routes:list_blocks"),
            Route("PUT", "/users/{username}/mute", "phasma.follows.routes:mute"),
            Route("DELETE", "/users/{username}/mute", "phasma.follows.routes:unmute"),
            Route("GET", "/users/me/mutes", "phasma.follows.routes:list_mutes"),
        ),
    ),
    Function(
        name="posts",
        kind="http",
        summary="Create, edit and delete posts and albums; post pages, profiles, popular; hashtags",
        uses_blob_store=True,  # deletes a deleted post's image, thumbnail and renditions
        scaling=Scaling(1, 6, 50, None, "100m", "500m", "128Mi", "256Mi", 30),
        routes=(
            Route("POST", "/posts", "phasma.posts.routes:create_post", json_body=True),
            Route(
                "GET", "/posts/popular", "phasma.posts.routes:popular_posts", access=Access.OPTIONAL
            ),
            Route("GET", "/posts/{id}", "phasma.posts.routes:get_post", access=Access.OPTIONAL),
            Route("PATCH", "/posts/{id}", "phasma.posts.routes:edit_post", json_body=True),
            Route("DELETE", "/posts/{id}", "phasma.posts.routes:delete_post"),
            Route(
                "GET",
                "/users/{username}/posts",
                "phasma.posts.routes:list_user_posts",
                access=Access.OPTIONAL,
            ),
            # Hashtags as places: posts writes every tag and its links, and a tag's page is
            # a list of Posts; `GET /hashtags/search` (a literal, so it wins) stays with
            # search, whose backend (PostgreSQL or Meilisearch) the typeahead needs.
            Route(
                "GET",
                "/hashtags/{name}",
                "phasma.hashtags.routes:get_hashtag",
                access=Access.OPTIONAL,
            ),
            Route(
                "GET",
                "/hashtags/{name}/posts",
                "phasma.hashtags.routes:list_posts",
                access=Access.OPTIONAL,
            ),
            Route("PUT", "/hashtags/{name}/follow", "phasma.hashtags.routes:follow"),
            Route("DELETE", "/hashtags/{name}/follow", "phasma.hashtags.routes:unfollow"),
        ),
    ),
    Function(
        name="likes",
        kind="http",
        summary="Like and unlike posts; the posts a user liked; bookmarks and the saved list",
        scaling=Scaling(0, 4, 50, None, "100m", "500m", "128Mi", "256Mi", 30),
        routes=(
            Route("POST", "/posts/{id}/likes", "phasma.likes.routes:like"),
            Route("DELETE", "/posts/{id}/likes", "phasma.likes.routes:unlike"),
            Route("GET", "/users/{username}/likes", "phasma.likes.routes:list_liked"),
            # Bookmarks: the same per-viewer, per-post rows as likes, without counters or events.
            Route("PUT", "/posts/{id}/bookmark", "phasma.bookmarks.routes:bookmark"),
            Route("DELETE", "/posts/{id}/bookmark", "phasma.bookmarks.routes:unbookmark"),
            Route("GET", "/users/me/bookmarks", "phasma.bookmarks.routes:list_bookmarks"),
        ),
    ),
    Function(
        name="comments",
        kind="http",
        summary="Comment on posts, list comments, delete them",
        scaling=Scaling(0, 4, 50, None, "100m", "500m", "128Mi", "256Mi", 30),
        routes=(
            # Readable signed out (docs/api.md §F): a Comment has no viewer-dependent field.
            Route(
                "GET",
                "/posts/{id}/comments",
                "phasma.comments.routes:list_comments",
                access=Access.OPTIONAL,
            ),
            Route(
                "POST",
                "/posts/{id}/comments",
                "phasma.comments.routes:create_comment",
                json_body=True,
            ),
            Route(
                "DELETE",
                "/posts/{id}/comments/{commentId}",
                "phasma.comments.routes:delete_comment",
            ),
        ),
    ),
    Function(
        name="feed",
        kind="http",
        summary="The home feed: materialised rows plus own, celebrity and followed-tag posts",
        # The hottest read (the home page): never cold.
        scaling=Scaling(2, 10, 40, None, "250m", "1", "128Mi", "256Mi", 30),
        routes=(Route("GET", "/feed", "phasma.feed.routes:feed"),),
    ),
    Function(
        name="notifications",
        kind="http",
        summary="Notifications: list, unread count, mark read, live stream",
        scaling=Scaling(1, 6, 50, None, "100m", "500m", "128Mi", "256Mi", 30),
        # Up to the scaling target of open streams, plus threads for the short requests.
        request_threads=64,
        routes=(
            Route("GET", "/notifications", "phasma.notifications.routes:list_notifications"),
            Route("GET", "/notifications/unread-count", "phasma.notifications.routes:unread_count"),
            Route(
                "GET",
                "/notifications/stream",
                "phasma.notifications.routes:notification_stream",
            ),
            Route("PUT", "/notifications/read", "phasma.notifications.routes:mark_all_read"),
            Route("PUT", "/notifications/{id}/read", "phasma.notifications.routes:mark_read"),
        ),
    ),
    Function(
        name="search",
        kind="http",
        summary="Search users, posts and hashtags; typeahead; recent searches",
        scaling=Scaling(1, 6, 50, None, "100m", "500m", "128Mi", "256Mi", 15),
        routes=(
            Route("GET", "/search", "phasma.search.routes:search", policy="typeahead"),
            Route("GET", "/users/search", "phasma.search.routes:search_users", policy="typeahead"),
            Route(
                "GET",
                "/hashtags/search",
                "phasma.search.routes:search_hashtags",
                policy="typeahead",
            ),
            Route("GET", "/search/recent", "phasma.search.routes:list_recent"),
            Route("POST", "/search/recent", "phasma.search.routes:record_recent", json_body=True),
            Route("DELETE", "/search/recent", "phasma.search.routes:clear_recent"),
            Route("DELETE", "/search/recent/{id}", "phasma.search.routes:delete_recent"),
        ),
    ),
    Function(
        name="moderation",
        kind="http",
        summary="Report posts, comments and accounts; the moderation queue, decisions, reinstating",
        # A `remove` deletes the post's images after commit, as the post's author would.
        uses_blob_store=True,
        scaling=Scaling(0, 2, 50, None, "100m", "500m", "128Mi", "256Mi", 30),
        routes=(
            Route("POST", "/reports", "phasma.moderation.routes:create_report", json_body=True),
            # Moderators and admins only: the role is read from the database on every request.
            Route("GET", "/moderation/reports", "phasma.moderation.routes:list_reports"),
            Route(
                "POST",
                "/moderation/reports/{id}/decision",
                "phasma.moderation.routes:decide",
                json_body=True,
            ),
            Route(
                "POST",
                "/moderation/users/{username}/reinstate",
                "phasma.moderation.routes:reinstate",
            ),
        ),
    ),
    Function(
        name="notifications-worker",
        kind="event",
        summary="Create and delete notifications of likes, comments, mentions and follows",
        scaling=Scaling(1, 4, 10, None, "100m", "500m", "128Mi", "256Mi", 60),
        topics=("entity-changes", "activity"),
        event_handler="phasma.notifications.worker:handle",
    ),
    Function(
        name="feed-worker",
        kind="event",
        summary="Fan-out on write, follow backfill and unfollow prune of the feed",
        scaling=Scaling(1, 4, 10, None, "250m", "1", "128Mi", "256Mi", 120),
        topics=("entity-changes", "activity"),
        event_handler="phasma.feed.worker:handle",
    ),
    Function(
        name="search-indexer",
        kind="event",
        summary="Keep the Meilisearch indexes current (acknowledges everything without MEILI_URL)",
        scaling=Scaling(0, 2, 10, None, "100m", "500m", "128Mi", "256Mi", 60),
        topics=("entity-changes",),
        event_handler="phasma.search.indexer:handle",
        # docs/operations.md §6: Meilisearch gates only the indexer; search answers 503 per request.
        readiness=(Readiness("search", "phasma.search.indexer:engine_readiness"),),
    ),
    Function(
        name="account-remover",
        kind="event",
        summary="Remove a deleted account's posts, blobs, likes, follows and the rest in batches",
        uses_blob_store=True,  # deletes the account's images
        # Each removal runs for seconds; one or two at a time per replica is plenty.
        scaling=Scaling(0, 2, 2, None, "250m", "1", "128Mi", "256Mi", 300),
        topics=("entity-changes",),
        event_handler="phasma.removal.worker:handle",
    ),
    Function(
        name="mailer",
        kind="event",
        summary="Send verification, password-reset and notice mail through SMTP",
        # Each delivery waits on the mail server: a few at a time per replica is plenty.
        scaling=Scaling(0, 2, 5, None, "100m", "500m", "128Mi", "256Mi", 60),
        topics=("activity",),
        event_handler="phasma.mail.worker:handle",
    ),
    Function(
        name="exporter",
        kind="event",
        summary="Write a user's data export ZIP to the bucket, streamed with bounded memory",
        uses_blob_store=True,
        # One export streams hundreds of MB: one at a time per replica, a long timeout.
        scaling=Scaling(0, 2, 1, 1, "250m", "1", "192Mi", "384Mi", 600),
        topics=("activity",),
        event_handler="phasma.exports.worker:handle",
    ),
    Function(
        name="outbox-relay",
        kind="event",
        summary="Publish the outbox rows the writing functions did not",
        # One sweep at a time; row locks would make overlap safe anyway.
        scaling=Scaling(0, 1, 1, 1, "100m", "500m", "128Mi", "256Mi", 60),
        event_handler="phasma.events.relay:handle",
        schedule=Schedule(
            "outbox-relay-sweep", "* * * * *", '{"task":"outbox-sweep"}', local_every_seconds=3
        ),
    ),
    Function(
        name="janitor",
        kind="event",
        summary="Expired sessions, uploads, exports, mail rows; old outbox rows; stalled removals",
        uses_blob_store=True,  # deletes expired uploads' and exports' blobs
        scaling=Scaling(0, 1, 1, 1, "100m", "500m", "128Mi", "256Mi", 300),
        event_handler="phasma.janitor.tasks:handle",
        schedule=Schedule(
            "janitor-hourly", "17 * * * *", '{"task":"all"}', local_every_seconds=3600
        ),
    ),
)

_BY_NAME = {function.name: function for function in FUNCTIONS}


def get_function(name: str) -> Function:
    """The registered function called `name` (KeyError when unknown)."""
    return _BY_NAME[name]


def http_functions() -> tuple[Function, ...]:
    return tuple(function for function in FUNCTIONS if function.kind == "http")


def event_functions() -> tuple[Function, ...]:
    """Functions fed CloudEvents by a KafkaSource or a PingSource."""
    return tuple(function for function in FUNCTIONS if function.kind == "event")
