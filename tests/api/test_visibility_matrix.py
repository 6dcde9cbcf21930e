"""The visibility matrix (docs/api.md §D, §E): every read route against every relation.

Two worlds share one database of their own (so global lists such as popular posts and
suggestions hold only what is built here). In each, a subject account has posts (one
materialised in feeds, one read live as a celebrity's, one only on a followed hashtag),
comments and likes on another account's post, follows both ways with that account,
likes on each viewer's own post (a notification) and a place in each viewer's likes,
saved posts and recent searches. Then the relation is applied:

- public subject: a viewer who blocked it, a viewer it blocked, a viewer who muted it, a
  plain follower (`stranger`) and an anonymous visitor;
- private subject: a follower, a non-follower and an anonymous visitor.

Each read route of the registry has a case observing `(status, present)`: the status of
the route on the subject's own resource (200 where the route is not about one) and
whether the subject or its items appear in the answer. `EXPECTED` says what the contract
requires for each relation. A read route without a case (or an exemption with its
reason) fails `test_every_read_route_has_a_case`, so a new read route cannot skip the rule.

Blocks, mutes and privacy are made by `tests/api/audience.py`, the one place to switch
them to the API. The relations a block would remove (follows) are not made for the two
blocked relations, as after a real block; their feed rows are left, as a prune that has
not run yet would leave them.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from phasma.devstack.services import DependencyUrls
from phasma.registry import http_functions
from tests.api.audience import block, make_private, mute
from tests.api.conftest import (
    Account,
    Api,
    ApiStack,
    Database,
    build_settings,
    migrated_database,
    new_identity,
    start_api,
)
from tests.api.posting import assert_error, walk
from tests.api.server_sent_events import open_stream

Seen = tuple[int, bool | None]

PUBLIC_RELATIONS = ("blocker", "blocked", "muter", "stranger", "anonymous")
PRIVATE_RELATIONS = ("follower", "nonfollower", "anonymous_private")
RELATIONS = PUBLIC_RELATIONS + PRIVATE_RELATIONS
ANONYMOUS = ("anonymous", "anonymous_private")
# Relations that follow the subject (and so see its posts in the feed's live branch).
FOLLOWING = ("muter", "stranger", "follower")


def word() -> str:
    """Letters only, so full-text search and trigram matching see one word."""
    return "zv" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))


@dataclass
class World:
    subject: Account
    other: Account  # follows the subject and is followed by it; owns `other_post`
    viewers: dict[str, Account | None]  # None: anonymous
    anonymous: Api
    posts: list[str]  # the subject's: materialised, celebrity-live, tag-only
    other_post: str
    tag: str  # on the first post
    feed_tag: str  # on the third post, followed by every signed-in viewer
    text: str  # in every post's description
    viewer_posts: dict[str, str] = field(default_factory=dict)

    def client(self, relation: str) -> Api:
        viewer = self.viewers[relation]
        return self.anonymous if viewer is None else viewer.client


@dataclass
class Matrix:
    database: Database
    worlds: dict[str, World]  # relation -> its world

    def world(self, relation: str) -> World:
        return self.worlds[relation]


def register(base_url: str) -> Account:
    identity = new_identity()
    client = Api(base_url)
    assert client.post("/users", json=identity).status_code == 201
    login = {"email": identity["email"], "password": identity["password"]}
    assert client.post("/sessions", json=login).status_code == 201
    return Account(client=client, **identity)


def insert_post(
    database: Database, author: Account, description: str, created: datetime, tags: list[str]
) -> str:
    """A post written as `POST /posts` would leave it: counters and tag links included."""
    [[post_id, public_id]] = database.rows(
        """
        INSERT INTO posts (user_id, filename, description, created)
        SELECT id, md5(random()::text), :description, :created FROM users WHERE username = :u
        RETURNING id, public_id
        """,
        u=author.username,
        description=description,
        created=created,
    )
    database.rows(
        "UPDATE users SET post_count = post_count + 1 WHERE username = :u", u=author.username
    )
    for tag in tags:
        database.rows(
            """
            WITH tag AS (
                INSERT INTO hashtags (name, post_count) VALUES (:tag, 1)
                ON CONFLICT (name) DO UPDATE SET post_count = hashtags.post_count + 1
                RETURNING id
            )
            INSERT INTO post_hashtags (post_id, hashtag_id, created)
            SELECT :post_id, tag.id, :created FROM tag
            """,
            tag=tag,
            post_id=post_id,
            created=created,
        )
    return str(public_id)


def follow(database: Database, follower: Account, followee: Account) -> None:
    database.rows(
        """
        INSERT INTO follows (follower_id, followee_id)
        SELECT a.id, b.id FROM users a, users b WHERE a.username = :a AND b.username = :b
        """,
        a=follower.username,
        b=followee.username,
    )
    database.rows(
        "UPDATE users SET follower_count = follower_count + 1 WHERE username = :u",
        u=followee.username,
    )


def like(database: Database, liker: Account, post: str) -> None:
    database.rows(
        """
        INSERT INTO likes (post_id, user_id)
        SELECT p.id, u.id FROM posts p, users u WHERE p.public_id = :p AND u.username = :u
        """,
        p=post,
        u=liker.username,
    )
    database.rows("UPDATE posts SET like_count = like_count + 1 WHERE public_id = :p", p=post)


def comment(database: Database, author: Account, post: str, body: str) -> None:
    database.rows(
        """
        INSERT INTO comments (post_id, user_id, body)
        SELECT p.id, u.id, :body FROM posts p, users u WHERE p.public_id = :p AND u.username = :u
        """,
        p=post,
        u=author.username,
        body=body,
    )
    database.rows("UPDATE posts SET comment_count = comment_count + 1 WHERE public_id = :p", p=post)


def build_world(database: Database, base_url: str, relations: tuple[str, ...]) -> World:
    now = datetime.now(UTC)
    subject, other = register(base_url), register(base_url)
    text, tag, feed_tag = word(), word(), word()
    posts = [
        insert_post(database, subject, f"{text} #{tag}", now - timedelta(hours=3), [tag]),
        insert_post(database, subject, text, now - timedelta(hours=2), []),
        insert_post(database, subject, f"{text} #{feed_tag}", now - timedelta(hours=1), [feed_tag]),
    ]
    other_post = insert_post(database, other, "the other's post", now - timedelta(hours=4), [])
    follow(database, subject, other)
    follow(database, other, subject)
    comment(database, subject, other_post, f"a comment by {subject.username}")
    comment(database, other, posts[0], "a comment on the subject's post")
    like(database, subject, other_post)
    viewers: dict[str, Account | None] = {}
    world = World(subject, other, viewers, Api(base_url), posts, other_post, tag, feed_tag, text)
    for relation in relations:
        if relation in ANONYMOUS:
            viewers[relation] = None
            continue
        viewer = viewers[relation] = register(base_url)
        if relation != "nonfollower":
            # The first post reached the viewer's feed by fan-out (for the two blocked
            # relations it stays there until a prune that has not run yet).
            database.rows(
                """
                INSERT INTO feed (user_id, post_id, created)
                SELECT u.id, p.id, p.created FROM users u, posts p
                WHERE u.username = :u AND p.public_id = :p
                """,
                u=viewer.username,
                p=posts[0],
            )
        if relation in FOLLOWING:
            follow(database, viewer, subject)
        database.rows(
            """
            INSERT INTO hashtag_follows (user_id, hashtag_id)
            SELECT u.id, h.id FROM users u, hashtags h WHERE u.username = :u AND h.name = :tag
            """,
            u=viewer.username,
            tag=feed_tag,
        )
        like(database, viewer, posts[0])
        database.rows(
            """
            INSERT INTO bookmarks (user_id, post_id)
            SELECT u.id, p.id FROM users u, posts p WHERE u.username = :u AND p.public_id = :p
            """,
            u=viewer.username,
            p=posts[0],
        )
        own = world.viewer_posts[relation] = insert_post(
            database, viewer, "a viewer's post", now - timedelta(hours=5), []
        )
        like(database, subject, own)
        database.rows(
            """
            INSERT INTO notifications (external_id, user_id, actor_id, type, entity_id, post_id)
            SELECT :external_id, v.id, s.id, 'like', :entity, p.id
            FROM users v, users s, posts p
            WHERE v.username = :v AND s.username = :s AND p.public_id = :post
            """,
            external_id=secrets.token_hex(16),
            v=viewer.username,
            s=subject.username,
            entity=own,
            post=own,
        )
        database.rows(
            """
            INSERT INTO recent_searches (user_id, entity_type, reference)
            SELECT id, 'users', :reference FROM users WHERE username = :u
            """,
            u=viewer.username,
            reference=subject.username,
        )
    database.rows("UPDATE users SET is_celebrity = true WHERE username = :u", u=subject.username)
    for relation, viewer in viewers.items():
        if viewer is None:
            continue
        if relation == "blocker":
            block(viewer, subject)
        elif relation == "blocked":
            block(subject, viewer)
        elif relation == "muter":
            mute(viewer, subject)
    return world


@pytest.fixture(scope="module")
def matrix(
    api_stack: ApiStack, dependencies: DependencyUrls, template_database: str
) -> Iterator[Matrix]:
    # `api_stack` first: it creates the bucket and the topics this stack publishes to.
    owner_url, app_url = migrated_database(
        dependencies, template_database, "phasma_visibility_matrix"
    )
    started = start_api(build_settings(app_url, dependencies))
    database = Database(owner_url)
    try:
        public = build_world(database, started.url, PUBLIC_RELATIONS)
        private = build_world(database, started.url, PRIVATE_RELATIONS)
        make_private(private.subject)
        worlds = {relation: public for relation in PUBLIC_RELATIONS}
        worlds |= {relation: private for relation in PRIVATE_RELATIONS}
        yield Matrix(database, worlds)
    finally:
        started.stop()


# -- the cases: one per read route --------------------------------------------------------


def items(response: Any) -> list[dict[str, Any]]:
    body = response.json()
    return body["items"] if isinstance(body, dict) else body


def post_ids(response: Any) -> set[str]:
    return {item.get("publicId") or item.get("id") for item in items(response)}


def usernames(response: Any) -> set[str]:
    return {item["username"] for item in items(response)}


def all_or_none(found: int, of: int) -> bool | None:
    """True when all `of` items were found, False when none: a partial answer is None,
    which matches no expectation."""
    return True if found == of else False if found == 0 else None


def profile(world: World, relation: str) -> Seen:
    response = world.client(relation).get(f"/users/{world.subject.username}")
    return response.status_code, response.status_code == 200


def user_posts(world: World, relation: str) -> Seen:
    response = world.client(relation).get(f"/users/{world.subject.username}/posts")
    if response.status_code != 200:
        return response.status_code, False
    return 200, all_or_none(len(post_ids(response) & set(world.posts)), len(world.posts))


def follow_list(direction: str) -> Callable[[World, str], Seen]:
    def case(world: World, relation: str) -> Seen:
        client = world.client(relation)
        status = client.get(f"/users/{world.subject.username}/{direction}").status_code
        # The subject follows the other account and is followed by it: an item of both lists.
        listed = client.get(f"/users/{world.other.username}/{direction}")
        assert listed.status_code == 200, listed.text
        return status, world.subject.username in usernames(listed)

    return case


def post_page(world: World, relation: str) -> Seen:
    response = world.client(relation).get(f"/posts/{world.posts[0]}")
    return response.status_code, response.status_code == 200


def comments(world: World, relation: str) -> Seen:
    client = world.client(relation)
    status = client.get(f"/posts/{world.posts[0]}/comments").status_code
    listed = client.get(f"/posts/{world.other_post}/comments")
    assert listed.status_code == 200, listed.text
    return status, world.subject.username in usernames(listed)


def popular(world: World, relation: str) -> Seen:
    response = world.client(relation).get("/posts/popular")
    return response.status_code, world.posts[0] in post_ids(response)


def hashtag(world: World, relation: str) -> Seen:
    return world.client(relation).get(f"/hashtags/{world.tag}").status_code, None


def hashtag_posts(world: World, relation: str) -> Seen:
    response = world.client(relation).get(f"/hashtags/{world.tag}/posts")
    return response.status_code, world.posts[0] in post_ids(response)


Read = Callable[[World, str, Account], Seen]


def signed_in(path: Callable[[World], str]) -> Callable[[Read], Callable[[World, str], Seen]]:
    """A route that needs a session: an anonymous visitor gets its 401 at `path`."""

    def decorate(read: Read) -> Callable[[World, str], Seen]:
        def case(world: World, relation: str) -> Seen:
            viewer = world.viewers[relation]
            if viewer is None:
                return world.anonymous.get(path(world)).status_code, None
            return read(world, relation, viewer)

        return case

    return decorate


@signed_in(lambda world: f"/users/{world.subject.username}/likes")
def likes_given(world: World, relation: str, viewer: Account) -> Seen:
    # The status: the subject's own list (only its owner may read it); the items: the
    # viewer's own list, where the subject's post was liked.
    status = viewer.client.get(f"/users/{world.subject.username}/likes").status_code
    response = viewer.client.get(f"/users/{viewer.username}/likes")
    assert response.status_code == 200, response.text
    return status, world.posts[0] in post_ids(response)


@signed_in(lambda world: "/users/me/bookmarks")
def bookmarks(world: World, relation: str, viewer: Account) -> Seen:
    response = viewer.client.get("/users/me/bookmarks")
    return response.status_code, world.posts[0] in post_ids(response)


@signed_in(lambda world: "/feed")
def feed(world: World, relation: str, viewer: Account) -> Seen:
    response = viewer.client.get("/feed")
    found = post_ids(response) & set(world.posts)
    if relation in FOLLOWING:
        # The three branches: materialised row, celebrity read live, followed tag.
        return response.status_code, all_or_none(len(found), len(world.posts))
    # Not following: only the materialised row (left by a late prune) and the tag branch
    # could bring the subject's posts.
    reachable = {world.posts[0], world.posts[2]} if relation != "nonfollower" else {world.posts[2]}
    return response.status_code, all_or_none(len(found & reachable), len(reachable))


@signed_in(lambda world: "/notifications")
def notifications(world: World, relation: str, viewer: Account) -> Seen:
    response = viewer.client.get("/notifications")
    return response.status_code, world.subject.username in {
        item["actorUsername"] for item in items(response)
    }


@signed_in(lambda world: "/notifications/unread-count")
def unread_count(world: World, relation: str, viewer: Account) -> Seen:
    # The subject's like is the viewer's only notification.
    response = viewer.client.get("/notifications/unread-count")
    return response.status_code, response.json()["count"] > 0


@signed_in(lambda world: "/notifications/stream")
def notification_stream(world: World, relation: str, viewer: Account) -> Seen:
    stream = open_stream(viewer.client)
    try:
        count = stream.next_of("unread-count").json["count"]
    finally:
        stream.response.close()
    return stream.response.status_code, count > 0


@signed_in(lambda world: f"/search?q={world.text}")
def search(world: World, relation: str, viewer: Account) -> Seen:
    by_text = viewer.client.get("/search", params={"q": world.text, "type": "posts"})
    by_tag = viewer.client.get("/search", params={"q": f"#{world.tag}", "type": "posts"})
    users = viewer.client.get("/search", params={"q": world.subject.username, "type": "users"})
    assert by_text.status_code == by_tag.status_code == users.status_code == 200
    found = [
        set(world.posts) <= post_ids(by_text),
        world.posts[0] in post_ids(by_tag),
    ]
    if relation in PUBLIC_RELATIONS:
        # The users index follows the same rule as the profile: a private subject is found.
        found.append(world.subject.username in usernames(users))
    return 200, all_or_none(sum(found), len(found))


@signed_in(lambda world: f"/users/search?q={world.subject.username}")
def user_typeahead(world: World, relation: str, viewer: Account) -> Seen:
    response = viewer.client.get("/users/search", params={"q": world.subject.username})
    return response.status_code, world.subject.username in usernames(response)


@signed_in(lambda world: f"/hashtags/search?q={world.tag}")
def hashtag_typeahead(world: World, relation: str, viewer: Account) -> Seen:
    # Hashtags have no author: nothing of the subject's to hide.
    return viewer.client.get("/hashtags/search", params={"q": world.tag}).status_code, None


@signed_in(lambda world: "/search/recent")
def recent_searches(world: World, relation: str, viewer: Account) -> Seen:
    response = viewer.client.get("/search/recent")
    listed = {entry["item"]["username"] for entry in items(response) if entry["type"] == "users"}
    return response.status_code, world.subject.username in listed


@signed_in(lambda world: "/users/suggested")
def suggestions(world: World, relation: str, viewer: Account) -> Seen:
    response = viewer.client.get("/users/suggested")
    return response.status_code, world.subject.username in usernames(response)


CASES: dict[str, Callable[[World, str], Seen]] = {
    "/users/{username}": profile,
    "/users/{username}/posts": user_posts,
    "/users/{username}/followers": follow_list("followers"),
    "/users/{username}/following": follow_list("following"),
    "/posts/{id}": post_page,
    "/posts/{id}/comments": comments,
    "/posts/popular": popular,
    "/hashtags/{name}": hashtag,
    "/hashtags/{name}/posts": hashtag_posts,
    "/users/{username}/likes": likes_given,
    "/users/me/bookmarks": bookmarks,
    "/feed": feed,
    "/notifications": notifications,
    "/notifications/unread-count": unread_count,
    "/notifications/stream": notification_stream,
    "/search": search,
    "/users/search": user_typeahead,
    "/hashtags/search": hashtag_typeahead,
    "/search/recent": recent_searches,
    "/users/suggested": suggestions,
}

# Read routes where no other account can appear, and why.
EXEMPT: dict[str, str] = {
    "/users/me": "the caller's own account",
    "/sessions": "the caller's own sessions",
    "/users/me/exports/{id}": "the caller's own export's status",
    "/users/me/exports/{id}/download": "the caller's own data, as it was exported",
    "/uploads/{filename}": (
        "streams a blob by its unguessable name: which names a viewer learns is what the "
        "routes above decide, and a private account's images also need the signed token "
        "only those routes hand out (tests/api/test_private_media_api.py)"
    ),
    "/users/me/blocks": "the caller's own list: whom they blocked is what it is for",
    "/users/me/mutes": "the caller's own list: whom they muted is what it is for",
    "/users/me/follow-requests": (
        "the caller's own pending requests; a block withdraws them both ways "
        "(tests/api/test_blocks_api.py)"
    ),
    "/moderation/reports": (
        "the platform's queue, not a viewer's: moderators see every report, whoever "
        "blocked whom, and members get 403 (tests/api/test_moderation_api.py)"
    ),
}

# -- what the contract says ----------------------------------------------------------------

OK, GONE, PRIVATE, UNAUTHORISED = 200, 404, 403, 401


def expect(default: Seen, anonymous: Seen | None = None, **relations: Seen) -> dict[str, Seen]:
    table = {relation: default for relation in RELATIONS}
    if anonymous is not None:
        table |= {relation: anonymous for relation in ANONYMOUS}
    return table | relations


HIDDEN = ("blocker", "blocked")
NOT_SHOWN = ("nonfollower", "anonymous_private")  # the private subject's non-followers


def hidden(seen: Seen, *also: str) -> dict[str, Seen]:
    return {relation: seen for relation in (*HIDDEN, *also)}


SIGNED_IN_ONLY: Seen = (UNAUTHORISED, None)

EXPECTED: dict[str, dict[str, Seen]] = {
    # A private account's header and counts stay public; a block hides it.
    "/users/{username}": expect((OK, True), **hidden((GONE, False))),
    "/users/{username}/posts": expect(
        (OK, True), **hidden((GONE, False)), **{r: (PRIVATE, False) for r in NOT_SHOWN}
    ),
    # The status is the subject's own list; `present` is the subject as an item of the
    # other account's list, which a private subject's non-followers still see.
    "/users/{username}/followers": expect(
        (OK, True), **hidden((GONE, False)), **{r: (PRIVATE, True) for r in NOT_SHOWN}
    ),
    "/users/{username}/following": expect(
        (OK, True), **hidden((GONE, False)), **{r: (PRIVATE, True) for r in NOT_SHOWN}
    ),
    "/posts/{id}": expect((OK, True), **hidden((GONE, False), *NOT_SHOWN)),
    "/posts/{id}/comments": expect(
        (OK, True), **hidden((GONE, False)), **{r: (GONE, True) for r in NOT_SHOWN}
    ),
    "/posts/popular": expect((OK, True), **hidden((OK, False), *NOT_SHOWN)),
    "/hashtags/{name}": expect((OK, None)),
    "/hashtags/{name}/posts": expect((OK, True), **hidden((OK, False), *NOT_SHOWN)),
    # Liked and saved before the block or before the account went private.
    "/users/{username}/likes": expect(
        (PRIVATE, True),
        SIGNED_IN_ONLY,
        **hidden((GONE, False)),
        nonfollower=(PRIVATE, False),
    ),
    "/users/me/bookmarks": expect((OK, True), SIGNED_IN_ONLY, **hidden((OK, False), "nonfollower")),
    # Mutes matter here only.
    "/feed": expect((OK, True), SIGNED_IN_ONLY, **hidden((OK, False), "muter", "nonfollower")),
    # A mute stops new notifications (written by the worker), not the list of old ones.
    "/notifications": expect((OK, True), SIGNED_IN_ONLY, **hidden((OK, False))),
    "/notifications/unread-count": expect((OK, True), SIGNED_IN_ONLY, **hidden((OK, False))),
    "/notifications/stream": expect((OK, True), SIGNED_IN_ONLY, **hidden((OK, False))),
    "/search": expect((OK, True), SIGNED_IN_ONLY, **hidden((OK, False), "nonfollower")),
    "/users/search": expect((OK, True), SIGNED_IN_ONLY, **hidden((OK, False))),
    "/hashtags/search": expect((OK, None), SIGNED_IN_ONLY),
    "/search/recent": expect((OK, True), SIGNED_IN_ONLY, **hidden((OK, False))),
    # Suggestions leave out whom the viewer follows already: only the non-follower of the
    # private subject (its header is public) has it suggested.
    "/users/suggested": expect((OK, False), SIGNED_IN_ONLY, nonfollower=(OK, True)),
}


def read_routes() -> set[str]:
    return {
        route.path
        for function in http_functions()
        for route in function.routes
        if route.method == "GET"
    }


def test_every_read_route_has_a_case() -> None:
    assert set(CASES) & set(EXEMPT) == set()
    assert read_routes() == set(CASES) | set(EXEMPT)
    assert set(EXPECTED) == set(CASES)


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("path", sorted(CASES))
def test_each_relation_sees_what_the_contract_says(
    matrix: Matrix, path: str, relation: str
) -> None:
    seen = CASES[path](matrix.world(relation), relation)
    assert seen == EXPECTED[path][relation], f"{relation} on GET {path}"


def test_refusals_carry_the_contract_message(matrix: Matrix) -> None:
    public, private = matrix.world("blocker"), matrix.world("nonfollower")
    for relation, world, status in (
        ("blocker", public, GONE),
        ("blocked", public, GONE),
        ("nonfollower", private, PRIVATE),
        ("anonymous_private", private, PRIVATE),
    ):
        for path in ("posts", "followers", "following"):
            response = world.client(relation).get(f"/users/{world.subject.username}/{path}")
            assert_error(response, status)
            if status == PRIVATE:
                assert response.json() == {"message": "This account is private"}


def test_hidden_rows_never_shorten_a_page_or_end_a_list(matrix: Matrix) -> None:
    """The rule is applied before each list's cut: with more hidden rows than a page holds
    on top, every page is still full and the cursor still reaches the visible rows."""
    database = matrix.database
    world = matrix.world("stranger")
    base_url = world.anonymous.base_url
    viewer, hidden_author, author = (register(base_url) for _ in range(3))
    mute(viewer, hidden_author)
    tag = word()
    now = datetime.now(UTC)
    visible_posts = [
        insert_post(database, author, "shown", now - timedelta(minutes=30 + n), [tag])
        for n in range(4)
    ]
    hidden_posts = [
        insert_post(database, hidden_author, "hidden", now - timedelta(minutes=n), [tag])
        for n in range(12)
    ]
    database.rows(
        """
        INSERT INTO feed (user_id, post_id, created)
        SELECT v.id, p.id, p.created FROM users v, posts p
        WHERE v.username = :v AND p.public_id = ANY(CAST(:posts AS uuid[]))
        """,
        v=viewer.username,
        posts=visible_posts + hidden_posts,
    )
    pages = walk(viewer.client, "/feed", 3)
    assert [len(page) for page in pages] == [3, 1]
    assert [item["publicId"] for page in pages for item in page] == visible_posts
    # The hashtag page hides the posts of an account that blocked the viewer.
    block(hidden_author, viewer)
    pages = walk(viewer.client, f"/hashtags/{tag}/posts", 3)
    assert [len(page) for page in pages] == [3, 1]
    assert [item["publicId"] for page in pages for item in page] == visible_posts
