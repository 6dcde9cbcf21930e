"""`users` function over HTTP against the real stack (docs/api.md §10)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from phasma.devstack.services import DependencyUrls
from tests.api.conftest import Account, Api, ApiStack, Database, new_identity

WRITES = ("users", "outbox", "sessions", "audit_log")
TAKEN = {"username": "That username is taken.", "email": "That email is already registered."}


def test_register_creates_the_account_and_its_event_but_no_session(
    api: Api, database: Database
) -> None:
    identity = new_identity()
    identity["username"] = "  " + identity["username"].upper() + " "
    identity["email"] = " " + identity["email"].upper()
    response = api.post("/users", json=identity)
    username = identity["username"].strip().lower()
    assert response.status_code == 201
    assert response.json() == {"username": username}
    assert "set-cookie" not in response.headers
    email = database.value("SELECT email FROM users WHERE username = :u", u=username)
    assert email == identity["email"].strip().lower()
    stored_hash = database.value("SELECT password_hash FROM users WHERE username = :u", u=username)
    assert stored_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    event = database.rows(
        "SELECT type, source, topic, payload, subject FROM outbox WHERE payload->>'username' = :u",
        u=username,
    )
    assert len(event) == 1
    event_type, source, topic, payload, subject = event[0]
    assert (event_type, source, topic) == ("phasma.user.created", "/phasma/users", "entity-changes")
    assert set(payload) == {"userId", "username", "name", "bio", "avatar", "created"}
    assert payload["userId"] == subject
    assert payload["created"].endswith("Z")


def _bad(identity: dict[str, str], **changes: object) -> dict[str, object]:
    return {**identity, **changes}


@pytest.mark.parametrize(
    "changes",
    [
        {"name": ""},
        {"name": "   "},
        {"username": ""},
        {"email": ""},
        {"password": ""},
        {"name": "n" * 101},
        {"username": "ab"},
        {"username": "a" * 31},
        {"username": "Bad-Name"},
        {"username": "ali\nce"},  # whole-string match: no newline anywhere
        {"password": "short"},
        {"password": "p" * 129},
        {"password": "ää" * 33},  # 132 bytes, 66 characters
        {"email": "no-at-sign.example.com"},
        {"email": "two@@example.com"},
        {"email": "nodot@example"},
        {"email": "spa ce@example.com"},
        {"email": "a" * 250 + "@b.com"},
        {"name": 5},
        {"password": ["list"]},
        {"name": None},
        {"name": "nul\x00byte"},  # PostgreSQL text cannot hold NUL: a 400, never a 500
    ],
)
def test_register_rejects_bad_input_and_writes_nothing(
    api: Api, database: Database, changes: dict[str, object]
) -> None:
    before = database.counts(*WRITES)
    response = api.post("/users", json=_bad(new_identity(), **changes))
    assert response.status_code == 400
    assert isinstance(response.json()["message"], str) and response.json()["message"]
    assert database.counts(*WRITES) == before


def test_password_length_is_counted_in_bytes_untrimmed(api: Api) -> None:
    assert api.post("/users", json=_bad(new_identity(), password="       8")).status_code == 201
    assert api.post("/users", json=_bad(new_identity(), password="ä" * 64)).status_code == 201


@pytest.mark.parametrize("field", ["username", "email"])
def test_duplicate_username_or_email_is_a_conflict(
    api: Api, account: Account, database: Database, field: str
) -> None:
    before = database.counts(*WRITES)
    duplicate = _bad(new_identity(), **{field: getattr(account, field).upper()})
    response = api.post("/users", json=duplicate)
    assert response.status_code == 409
    assert response.json() == {"message": TAKEN[field]}
    assert database.counts(*WRITES) == before


@pytest.mark.parametrize("reserved", ["search", "suggested", "SEARCH"])
def test_reserved_usernames_are_a_conflict(api: Api, database: Database, reserved: str) -> None:
    before = database.counts(*WRITES)
    response = api.post("/users", json=_bad(new_identity(), username=reserved))
    assert response.status_code == 409
    assert response.json() == {"message": TAKEN["username"]}
    assert database.counts(*WRITES) == before


def test_me_shows_the_full_account(account: Account) -> None:
    response = account.client.get("/users/me")
    assert response.status_code == 200
    user = response.json()
    assert set(user) == {
        "id", "name", "username", "email", "avatar", "bio", "posts", "likes",
        "followers", "following", "isFollowing", "created", "emailVerified", "role", "private",
        "followRequested",
    }  # fmt: skip
    assert user["email"] == account.email
    assert user["emailVerified"] is False  # docs/api.md §B: nobody has followed the link yet
    assert user["role"] == "member"  # docs/api.md §D: own view only
    assert user["username"] == account.username
    assert (user["avatar"], user["bio"], user["isFollowing"]) == (None, None, False)
    assert (user["posts"], user["likes"], user["followers"], user["following"]) == (0, 0, 0, 0)
    assert user["created"].endswith("Z")


def test_me_can_carry_the_unread_count_for_the_sites_navbar(
    account: Account, make_account, database: Database
) -> None:
    other = make_account()
    for read, entity in ((False, "a"), (False, "b"), (True, "c")):
        database.rows(
            """
            INSERT INTO notifications (external_id, user_id, actor_id, type, entity_id, read)
            SELECT gen_random_uuid()::text, u.id, a.id, 'follow', :entity, :read
            FROM users u, users a WHERE u.username = :user AND a.username = :actor
            """,
            user=account.username,
            actor=other.username,
            entity=entity,
            read=read,
        )
    plain = account.client.get("/users/me").json()
    response = account.client.get("/users/me", params={"include": "unreadCount"})
    assert response.status_code == 200
    shell = response.json()
    assert shell.pop("unreadCount") == 2
    assert shell == plain
    bad = account.client.get("/users/me", params={"include": "everything"})
    assert (bad.status_code, bad.json()) == (400, {"message": "include must be unreadCount"})


def test_me_without_a_session_is_401(api: Api) -> None:
    response = api.get("/users/me")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_profile_hides_email_from_others_and_anonymous(
    api: Api, account: Account, make_account
) -> None:
    other = make_account()
    for client in (api, other.client):
        response = client.get(f"/users/{account.username.upper()}")
        assert response.status_code == 200
        assert response.json()["email"] == ""
        assert response.json()["isFollowing"] is False
    own = account.client.get(f"/users/{account.username}")
    assert own.json()["email"] == account.email


def test_profile_optional_session_refreshes_cookie_only_when_resolved(
    api: Api, account: Account
) -> None:
    signed_in = account.client.get(f"/users/{account.username}")
    assert "session=" in signed_in.headers["set-cookie"]
    anonymous = api.get(f"/users/{account.username}", cookies={"session": "x" * 28})
    assert anonymous.status_code == 200
    assert "set-cookie" not in anonymous.headers


def test_profile_bad_and_unknown_usernames(api: Api) -> None:
    bad = api.get("/users/a!")
    assert bad.status_code == 400 and bad.json()["message"]
    unknown = api.get("/users/nobody_here_at_all")
    assert unknown.status_code == 404 and unknown.json() == {"message": "Not Found"}


def profile(account: Account, **changes: object) -> dict[str, object]:
    return {"name": account.name, "username": account.username, "email": account.email, **changes}


def test_profile_update_replaces_fields_and_emits_event(
    account: Account, database: Database
) -> None:
    new_username = account.username + "_x"
    body = profile(account, username=new_username.upper(), name=" New Name ", bio=" hello ")
    response = account.client.put("/users/me", json=body)
    assert response.status_code == 204
    assert response.content == b"" and "content-type" not in response.headers
    me = account.client.get("/users/me").json()
    assert (me["username"], me["name"], me["bio"]) == (new_username, "New Name", "hello")
    payload = database.value(
        "SELECT payload FROM outbox WHERE type = 'phasma.user.updated' "
        "AND payload->>'username' = :u",
        u=new_username,
    )
    assert payload["previousUsername"] == account.username
    assert payload["bio"] == "hello"
    audit = database.value(
        "SELECT count(*) FROM audit_log a JOIN users u ON u.id = a.user_id "
        "WHERE u.username = :u AND a.action = 'profile_updated'",
        u=new_username,
    )
    assert audit == 1
    # An omitted bio clears it; the same username is no previousUsername.
    assert (
        account.client.put("/users/me", json=profile(account, username=new_username)).status_code
        == 204
    )
    assert account.client.get("/users/me").json()["bio"] is None
    last = database.value(
        "SELECT payload FROM outbox WHERE type = 'phasma.user.updated' ORDER BY id DESC LIMIT 1"
    )
    assert last["previousUsername"] is None


@pytest.mark.parametrize(
    "changes",
    [
        {"name": ""},
        {"username": "x"},
        {"email": "nope"},
        {"bio": "b" * 301},
        {"avatar": "0" * 32},  # not the user's post nor a pending upload
        {"avatar": "not-a-filename"},
        {"bio": 12},
    ],
)
def test_profile_update_rejects_bad_input_and_writes_nothing(
    account: Account, database: Database, changes: dict[str, object]
) -> None:
    before = database.counts(*WRITES)
    response = account.client.put("/users/me", json=profile(account, **changes))
    assert response.status_code == 400
    assert response.json()["message"]
    assert database.counts(*WRITES) == before
    assert account.client.get("/users/me").json()["username"] == account.username


def test_profile_update_to_taken_or_reserved_username_is_a_conflict(
    account: Account, make_account, database: Database
) -> None:
    other = make_account()
    before = database.counts(*WRITES)
    for username in (other.username, "search"):
        response = account.client.put("/users/me", json=profile(account, username=username))
        assert response.status_code == 409
        assert response.json() == {"message": TAKEN["username"]}
    taken_email = account.client.put(
        "/users/me", json=profile(account, email=other.email, oldPassword=account.password)
    )
    assert taken_email.status_code == 409
    assert taken_email.json() == {"message": TAKEN["email"]}
    assert database.counts(*WRITES) == before


def test_password_change_ends_other_sessions_and_keeps_current(
    account: Account, api_stack, database: Database
) -> None:
    second = Api(api_stack.base_url)
    login = {"email": account.email, "password": account.password}
    assert second.post("/sessions", json=login).status_code == 201
    new_password = account.password + "!new"
    response = account.client.put(
        "/users/me", json={"oldPassword": account.password, "password": new_password}
    )
    assert response.status_code == 204
    assert account.client.get("/users/me").status_code == 200
    assert second.get("/users/me").status_code == 401
    assert second.post("/sessions", json=login).status_code == 401
    assert second.post("/sessions", json={**login, "password": new_password}).status_code == 201
    audit = database.value(
        "SELECT count(*) FROM audit_log a JOIN users u ON u.id = a.user_id "
        "WHERE u.username = :u AND a.action = 'password_changed'",
        u=account.username,
    )
    assert audit == 1


@pytest.mark.parametrize(
    "body",
    [
        {"password": "a new password"},  # oldPassword missing
        {"oldPassword": "", "password": "a new password"},
        {"oldPassword": "wrong password", "password": "a new password"},
        {"oldPassword": "PLACEHOLDER", "password": "short"},
        {"oldPassword": "PLACEHOLDER", "password": "x" * 129},
    ],
)
def test_password_change_rejects_bad_input_and_writes_nothing(
    account: Account, database: Database, body: dict[str, str]
) -> None:
    if body.get("oldPassword") == "PLACEHOLDER":
        body = {**body, "oldPassword": account.password}
    stored = database.value(
        "SELECT password_hash FROM users WHERE username = :u", u=account.username
    )
    before = database.counts(*WRITES)
    response = account.client.put("/users/me", json=body)
    assert response.status_code == 400
    assert response.json()["message"]
    assert database.counts(*WRITES) == before
    after = database.value(
        "SELECT password_hash FROM users WHERE username = :u", u=account.username
    )
    assert after == stored


# -- re-authentication (docs/api.md §A.6) ----------------------------------------------------


@pytest.fixture
def cache(dependencies: DependencyUrls) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(dependencies.cache_url, decode_responses=True)
    yield client
    client.close()


def _account_row(database: Database, account: Account) -> list[list[object]]:
    return database.rows(
        "SELECT username, email, password_hash FROM users WHERE username = :u",
        u=account.username,
    )


@pytest.mark.parametrize(
    ("old_password", "message"),
    [
        (None, "oldPassword (the current password) is required to change the email"),
        ("", "oldPassword (the current password) is required to change the email"),
        ("wrong password", "current password is incorrect"),
    ],
)
def test_email_change_without_the_current_password_is_refused(
    account: Account, database: Database, old_password: str | None, message: str
) -> None:
    # A stolen session cookie alone must not be able to move the account's email.
    body = profile(account, email=f"taken.over.{account.username}@example.com")
    if old_password is not None:
        body["oldPassword"] = old_password
    row = _account_row(database, account)
    before = database.counts(*WRITES)
    response = account.client.put("/users/me", json=body)
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert database.counts(*WRITES) == before
    assert _account_row(database, account) == row


def test_email_change_with_the_current_password(account: Account, database: Database) -> None:
    new_email = f"moved.{account.username}@example.com"
    body = profile(account, email=new_email.upper(), oldPassword=account.password)
    assert account.client.put("/users/me", json=body).status_code == 204
    assert account.client.get("/users/me").json()["email"] == new_email
    login = {"email": new_email, "password": account.password}
    assert Api(account.client.base_url).post("/sessions", json=login).status_code == 201


def test_old_password_guessing_is_throttled_like_logins(
    account: Account, api_stack: ApiStack, database: Database, cache: redis.Redis
) -> None:
    # A stolen session cookie (without the owner's device cookie) guessing the password.
    client = Api(api_stack.base_url)
    client.http.cookies.set("session", account.client.session_token)
    guesses = [
        {"oldPassword": "guess one", "password": "a new password"},
        profile(account, email=f"other.{account.username}@example.com", oldPassword="guess two"),
    ]
    for attempt in range(5):
        response = client.put("/users/me", json=guesses[attempt % 2])
        assert response.status_code == 400
        assert response.json() == {"message": "current password is incorrect"}
    assert cache.get(f"login:email:{account.email}") == "5"
    row = _account_row(database, account)
    before = database.counts(*WRITES)
    for body in (
        {"oldPassword": account.password, "password": "a new password"},  # even the right one
        {**guesses[1], "oldPassword": account.password},
    ):
        blocked = client.put("/users/me", json=body)
        assert blocked.status_code == 429
        assert blocked.json() == {"message": "Too many password attempts; try again later"}
        assert 1 <= int(blocked.headers["Retry-After"]) <= 900
    # The same counters as logins: this address cannot log in either.
    login = {"email": account.email, "password": account.password}
    assert client.post("/sessions", json=login).status_code == 429
    assert database.counts(*WRITES) == before
    assert _account_row(database, account) == row
    # A profile change that needs no password is not throttled.
    assert client.put("/users/me", json=profile(account, bio="still here")).status_code == 204
    ip = ipaddress.ip_address(client.ip)
    assert cache.get(f"login:ip:{ip}") == "5"


def test_the_owner_on_a_known_device_can_change_the_password_during_a_lockout(
    account: Account, api_stack: ApiStack
) -> None:
    strangers = [Api(api_stack.base_url) for _ in range(50)]
    login = {"email": account.email, "password": "guess"}
    with ThreadPoolExecutor(10) as pool:
        statuses = set(pool.map(lambda c: c.post("/sessions", json=login).status_code, strangers))
    assert statuses == {401}
    body = {"oldPassword": account.password, "password": "a new password"}
    # The same request without this browser's device cookie is refused ...
    cookieless = Api(api_stack.base_url)
    cookieless.http.cookies.set("session", account.client.session_token)
    assert cookieless.put("/users/me", json=body).status_code == 429
    # ... and with it, the owner is never locked out by strangers.
    assert account.client.put("/users/me", json=body).status_code == 204
