"""`sessions` function over HTTP against the real stack (docs/api.md §11, §5.2, §5.4 and §6.3)."""

from __future__ import annotations

import ipaddress
import re
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from argon2 import PasswordHasher, Type

from phasma.auth.tokens import token_key
from phasma.devstack.services import DependencyUrls
from tests.api.conftest import (
    Account,
    Api,
    ApiStack,
    Database,
    SourceAddressAdapter,
    direct,
    new_identity,
)


@pytest.fixture
def cache(dependencies: DependencyUrls) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(dependencies.cache_url, decode_responses=True)
    yield client
    client.close()


FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"


def login(client: Api, account: Account, password: str | None = None):
    body = {"email": account.email, "password": password or account.password}
    return client.post("/sessions", json=body)


def test_login_sets_a_strict_http_only_cookie_and_stores_only_the_hmac(
    api: Api, account: Account, api_stack: ApiStack, database: Database
) -> None:
    response = login(api, account)
    assert response.status_code == 201
    assert response.json() == {"username": account.username}
    cookie = response.headers["set-cookie"]
    token = re.match(r"session=([^;]*);", cookie).group(1)
    assert re.fullmatch(r"[A-Za-z0-9_-]{28}", token)
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=604800"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain HTTP
    key = token_key(token, api_stack.settings.session_hash_secret)
    assert database.value("SELECT count(*) FROM sessions WHERE id = :k", k=key) == 1
    assert database.value("SELECT count(*) FROM sessions WHERE id = :t", t=token) == 0


def test_login_over_https_behind_the_proxy_sets_secure(
    api_stack: ApiStack, account: Account
) -> None:
    # Straight to the function: the gateway, like an ingress, sets X-Forwarded-Proto itself.
    response = direct(api_stack, "sessions").post(
        "/sessions",
        json={"email": account.email, "password": account.password},
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.10"},
    )
    assert response.status_code == 201
    cookies = response.headers.getlist("Set-Cookie")
    assert [cookie.split("=", 1)[0] for cookie in cookies] == ["session", "device"]
    assert all("Secure" in cookie for cookie in cookies)


def test_login_normalises_the_email(api: Api, account: Account) -> None:
    body = {"email": f"  {account.email.upper()} ", "password": account.password}
    assert api.post("/sessions", json=body).status_code == 201


def test_wrong_password_and_unknown_email_look_the_same(api: Api, account: Account) -> None:
    wrong = login(api, account, "wrong password")
    unknown = api.post("/sessions", json={"email": "nobody@example.com", "password": "whatever"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers


@pytest.mark.parametrize(
    "body", [{"email": "", "password": "x"}, {"email": "a@b.co", "password": ""}, {}]
)
def test_login_requires_email_and_password(
    api: Api, database: Database, body: dict[str, str]
) -> None:
    before = database.counts("sessions")
    response = api.post("/sessions", json=body)
    assert response.status_code == 400 and response.json()["message"]
    assert database.counts("sessions") == before


def test_throttle_blocks_an_ip_after_five_failures_even_with_the_right_password(
    api: Api, account: Account, api_stack: ApiStack
) -> None:
    for _ in range(5):
        assert login(api, account, "wrong password").status_code == 401
    blocked = login(api, account)
    assert blocked.status_code == 429
    assert blocked.json() == login(Api(api_stack.base_url), account, "nope").json()
    assert "retry-after" not in blocked.headers
    # Another address is not blocked by this one's failures.
    assert login(Api(api_stack.base_url), account).status_code == 201


def _address_key(client: Api) -> str:
    return f"login:ip:{ipaddress.ip_address(client.ip)}"


def test_an_own_login_clears_the_email_counter_but_not_the_address_failures(
    api: Api, account: Account, cache: redis.Redis
) -> None:
    # The attack: four guesses, then one's own successful login to reset the counter.
    for _ in range(4):
        assert login(api, account, "wrong password").status_code == 401
    assert login(api, account).status_code == 201
    assert cache.get(f"login:email:{account.email}") is None
    assert cache.get(_address_key(api)) == "4"  # the success gave back only itself
    assert login(api, account, "wrong password").status_code == 401
    assert login(api, account).status_code == 429
    assert 800 < cache.ttl(_address_key(api)) <= 900  # the window of the first failure


def test_concurrent_wrong_logins_count_at_most_the_limit(
    account: Account, api_stack: ApiStack
) -> None:
    attempts = 20
    clients = [Api(api_stack.base_url) for _ in range(attempts)]
    for client in clients:  # one attacker: one address
        client.http.mount("http://", SourceAddressAdapter(clients[0].ip))
    start = threading.Barrier(attempts)

    def attempt(client: Api) -> int:
        start.wait()
        return login(client, account, "wrong password").status_code

    with ThreadPoolExecutor(attempts) as pool:
        statuses = list(pool.map(attempt, clients))
    # Each attempt took its place before the slow verify: exactly the limit got through.
    assert statuses.count(401) == 5
    assert statuses.count(429) == attempts - 5


def test_login_sets_a_signed_device_cookie(api: Api, account: Account) -> None:
    response = login(api, account)
    device = next(
        header
        for header in response.raw.headers.getlist("Set-Cookie")
        if header.startswith("device=")
    )
    value = re.match(r"device=([^;]*);", device).group(1)
    user_id = api.get("/users/me").json()["id"]
    assert value.startswith(f"{user_id}.")
    assert account.password not in value and account.email not in value
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=31536000"):
        assert attribute in device
    assert "Secure" not in device  # plain HTTP


def _lock_the_email(api_stack: ApiStack, account: Account) -> None:
    """Strangers, each from their own address, fail against the email up to its limit."""
    strangers = [Api(api_stack.base_url) for _ in range(50)]
    with ThreadPoolExecutor(10) as pool:
        statuses = list(
            pool.map(lambda client: login(client, account, "guess").status_code, strangers)
        )
    assert statuses == [401] * 50


def test_the_owner_on_a_known_device_survives_a_lockout(
    account: Account, make_account, api_stack: ApiStack
) -> None:
    owner = account.client  # logged in once, so this browser holds a device cookie
    device = owner.http.cookies.get("device")
    assert device
    _lock_the_email(api_stack, account)
    # Without the device cookie even the right password is refused ...
    assert login(Api(api_stack.base_url), account).status_code == 429
    # ... with someone else's valid device cookie, or a forged one, as well.
    attacker = make_account().client
    assert login(attacker, account).status_code == 429
    forged = Api(api_stack.base_url)
    forged.http.cookies.set("device", device[:-4] + "AAAA")
    assert login(forged, account).status_code == 429
    # The owner's own device logs in, and that success clears the email counter.
    assert login(owner, account).status_code == 201
    assert login(Api(api_stack.base_url), account).status_code == 201


def test_a_known_device_counts_its_own_failures(
    account: Account, api_stack: ApiStack, cache: redis.Redis
) -> None:
    device = account.client.http.cookies.get("device")
    device_id = device.split(".")[2]
    _lock_the_email(api_stack, account)
    # A stolen device cookie, tried from many addresses, gets its own limit of guesses.
    thieves = [Api(api_stack.base_url) for _ in range(6)]
    for thief in thieves:
        thief.http.cookies.set("device", device)
    statuses = [login(thief, account, "guess").status_code for thief in thieves]
    assert statuses == [401] * 5 + [429]
    assert cache.get(f"login:device:{device_id}") == "5"


def test_login_rehashes_weaker_hashes(api: Api, account: Account, database: Database) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    database.rows(
        "UPDATE users SET password_hash = :h WHERE username = :u",
        h=weak.hash(account.password),
        u=account.username,
    )
    assert login(api, account).status_code == 201
    stored = database.value(
        "SELECT password_hash FROM users WHERE username = :u", u=account.username
    )
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_list_sessions_shows_current_first(account: Account, api_stack: ApiStack) -> None:
    other = Api(api_stack.base_url)
    assert login(other, account).status_code == 201
    response = account.client.get("/sessions")
    assert response.status_code == 200
    sessions = response.json()["sessions"]
    assert len(sessions) == 2
    assert [s["current"] for s in sessions] == [True, False]
    for session in sessions:
        assert set(session) == {"id", "created", "expiresAt", "current", "device", "lastUsed"}
        uuid.UUID(session["id"])
        assert session["expiresAt"] > session["created"]
        assert session["lastUsed"] >= session["created"]


def test_each_session_carries_a_device_label_from_the_login_user_agent(
    account: Account, api_stack: ApiStack, database: Database
) -> None:
    phone = Api(api_stack.base_url)
    phone.http.headers["User-Agent"] = FIREFOX_ANDROID
    assert login(phone, account).status_code == 201
    scripted = Api(api_stack.base_url)
    scripted.http.headers["User-Agent"] = "curl/8.5.0"
    assert login(scripted, account).status_code == 201
    sessions = account.client.get("/sessions").json()["sessions"]
    assert [s["device"] for s in sessions] == [
        "Unknown browser",  # the test client's own session, current first
        "Unknown browser",
        "Firefox on Android",
    ]
    stored = database.rows(
        "SELECT s.device FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE u.username = :u ORDER BY s.created",
        u=account.username,
    )
    assert ["Firefox on Android"] in stored  # the label, never the header itself


def test_last_used_is_stamped_at_most_every_five_minutes(
    account: Account, api_stack: ApiStack, database: Database
) -> None:
    key = _session_key(account, api_stack)
    database.rows(
        "UPDATE sessions SET last_used = now() - interval '2 minutes' WHERE id = :k", k=key
    )
    recent = database.value("SELECT last_used FROM sessions WHERE id = :k", k=key)
    account.client.get("/users/me")
    assert database.value("SELECT last_used FROM sessions WHERE id = :k", k=key) == recent
    database.rows(
        "UPDATE sessions SET last_used = now() - interval '6 minutes' WHERE id = :k", k=key
    )
    expires = database.value("SELECT expires_at FROM sessions WHERE id = :k", k=key)
    account.client.get("/users/me")
    age = database.value("SELECT now() - last_used FROM sessions WHERE id = :k", k=key)
    assert age.total_seconds() < 60
    # Stamping the last use leaves the sliding expiry alone (outer half).
    assert database.value("SELECT expires_at FROM sessions WHERE id = :k", k=key) == expires
    listed = account.client.get("/sessions").json()["sessions"][0]
    assert listed["current"] and listed["lastUsed"] > listed["created"]


def test_revoke_another_session(account: Account, api_stack: ApiStack) -> None:
    other = Api(api_stack.base_url)
    login(other, account)
    sessions = account.client.get("/sessions").json()["sessions"]
    other_id = sessions[1]["id"]
    assert account.client.delete(f"/sessions/{other_id.upper()}").status_code == 204
    assert other.get("/users/me").status_code == 401
    assert account.client.delete(f"/sessions/{other_id}").status_code == 404


def test_revoking_the_current_session_is_a_conflict(account: Account, database: Database) -> None:
    current = account.client.get("/sessions").json()["sessions"][0]["id"]
    before = database.counts("sessions")
    response = account.client.delete(f"/sessions/{current}")
    assert response.status_code == 409 and response.json()["message"]
    assert database.counts("sessions") == before


def test_revoking_someone_elses_session_is_not_found(
    account: Account, make_account, database: Database
) -> None:
    other = make_account()
    foreign = other.client.get("/sessions").json()["sessions"][0]["id"]
    before = database.counts("sessions")
    assert account.client.delete(f"/sessions/{foreign}").status_code == 404
    assert account.client.delete(f"/sessions/{uuid.uuid4()}").status_code == 404
    bad = account.client.delete("/sessions/not-a-uuid")
    assert bad.status_code == 400 and bad.json()["message"]
    assert database.counts("sessions") == before
    assert other.client.get("/users/me").status_code == 200


def test_logout_deletes_the_session_and_clears_the_cookie(
    account: Account, api_stack: ApiStack, database: Database
) -> None:
    token = account.client.session_token
    key = token_key(token, api_stack.settings.session_hash_secret)
    response = account.client.delete("/sessions")
    assert response.status_code == 204
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert database.value("SELECT count(*) FROM sessions WHERE id = :k", k=key) == 0
    stale = Api(api_stack.base_url)
    assert stale.get("/users/me", cookies={"session": token}).status_code == 401


@pytest.mark.parametrize("cookie", [None, "garbage", "x" * 28])
def test_logout_is_idempotent_without_a_valid_session(api: Api, cookie: str | None) -> None:
    cookies = {"session": cookie} if cookie else {}
    response = api.delete("/sessions", cookies=cookies)
    assert response.status_code == 204
    assert "Max-Age=0" in response.headers["set-cookie"]


@pytest.mark.parametrize("cookie", ["short", "x" * 28, "a+b/" * 7])
def test_bad_cookie_on_a_required_route_is_401_and_cleared(api: Api, cookie: str) -> None:
    response = api.get("/users/me", cookies={"session": cookie})
    assert response.status_code == 401
    assert "session=;" in response.headers["set-cookie"]
    assert "Max-Age=0" in response.headers["set-cookie"]


def test_missing_cookie_on_a_required_route_is_401_without_clearing(api: Api) -> None:
    response = api.get("/sessions")
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


def test_required_routes_reissue_the_cookie(account: Account) -> None:
    response = account.client.get("/users/me")
    assert f"session={account.client.session_token}" in response.headers["set-cookie"]
    assert "Max-Age=604800" in response.headers["set-cookie"]


def _session_key(account: Account, api_stack: ApiStack) -> str:
    return token_key(account.client.session_token, api_stack.settings.session_hash_secret)


def test_sliding_expiry_restamps_only_in_the_inner_half(
    account: Account, api_stack: ApiStack, database: Database
) -> None:
    key = _session_key(account, api_stack)
    database.rows("UPDATE sessions SET expires_at = now() + interval '5 days' WHERE id = :k", k=key)
    account.client.get("/users/me")
    outer = database.value("SELECT expires_at - now() FROM sessions WHERE id = :k", k=key)
    assert outer.days == 4  # outer half: validated, not re-stamped
    database.rows("UPDATE sessions SET expires_at = now() + interval '1 day' WHERE id = :k", k=key)
    account.client.get("/users/me")
    inner = database.value("SELECT expires_at - now() FROM sessions WHERE id = :k", k=key)
    assert inner.days == 6 and inner.seconds > 23 * 3600  # refreshed to 7 days


def test_expired_and_over_age_sessions_are_rejected(
    account: Account, api_stack: ApiStack, database: Database
) -> None:
    key = _session_key(account, api_stack)
    database.rows("UPDATE sessions SET created = now() - interval '721 hours' WHERE id = :k", k=key)
    assert account.client.get("/users/me").status_code == 401
    database.rows(
        "UPDATE sessions SET created = now(), expires_at = now() - interval '1 second' "
        "WHERE id = :k",
        k=key,
    )
    assert account.client.get("/users/me").status_code == 401


def test_sessions_per_user_are_capped_at_100(
    api: Api, account: Account, database: Database
) -> None:
    user_id = database.value("SELECT id FROM users WHERE username = :u", u=account.username)
    database.rows(
        "INSERT INTO sessions (id, user_id, created, expires_at) "
        "SELECT md5(g::text || :u), :id, now() - g * interval '1 minute', "
        "now() + interval '7 days' FROM generate_series(1, 120) g",
        u=account.username,
        id=user_id,
    )
    oldest = database.value(
        "SELECT public_id FROM sessions WHERE user_id = :id ORDER BY created LIMIT 1", id=user_id
    )
    assert login(api, account).status_code == 201
    assert database.value("SELECT count(*) FROM sessions WHERE user_id = :id", id=user_id) == 100
    assert database.value("SELECT count(*) FROM sessions WHERE public_id = :p", p=oldest) == 0
    assert api.get("/users/me").status_code == 200
    assert len(api.get("/sessions").json()["sessions"]) == 100


def test_registration_does_not_log_in(api: Api) -> None:
    assert api.post("/users", json=new_identity()).status_code == 201
    assert api.get("/users/me").status_code == 401
