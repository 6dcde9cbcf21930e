from phasma.http.routing import Matched, MethodNotAllowed, RouteTable
from phasma.registry import FUNCTIONS, Access


def table() -> RouteTable[str]:
    return RouteTable(
        [
            ("GET", "/users/{username}", "profile"),
            ("GET", "/users/me", "me"),
            ("PUT", "/users/me", "update-me"),
            ("POST", "/users/{username}/follow", "follow"),
            ("DELETE", "/sessions/{id}", "revoke"),
        ]
    )


def test_literal_segment_beats_parameter() -> None:
    match = table().resolve("GET", "/users/me")
    assert isinstance(match, Matched) and match.target == "me"
    other = table().resolve("GET", "/users/alice")
    assert isinstance(other, Matched)
    assert other.target == "profile" and other.params == {"username": "alice"}


def test_known_path_with_other_method_lists_allowed_methods() -> None:
    result = table().resolve("PATCH", "/users/me")
    assert isinstance(result, MethodNotAllowed)
    assert result.allowed == ("GET", "HEAD", "PUT")


def test_literal_path_does_not_fall_back_to_parameter_route_for_other_methods() -> None:
    # /users/me exists, so DELETE /users/me is a 405, not GET /users/{username}.
    assert isinstance(table().resolve("DELETE", "/users/me"), MethodNotAllowed)


def test_head_is_accepted_wherever_get_is() -> None:
    match = table().resolve("HEAD", "/users/alice")
    assert isinstance(match, Matched) and match.target == "profile"


def test_unknown_paths_and_empty_segments_do_not_match() -> None:
    assert table().resolve("GET", "/nope") is None
    assert table().resolve("GET", "/users//follow") is None
    assert table().resolve("GET", "/users/alice/extra/segments") is None


def test_registry_routes_are_unique_and_default_to_session_required() -> None:
    seen: set[tuple[str, str]] = set()
    for function in FUNCTIONS:
        assert function.source == f"functions/{function.name}/main.py"
        for route in function.routes:
            assert (route.method, route.path) not in seen
            seen.add((route.method, route.path))
            assert callable(route.resolve_handler())
    public = {(r.method, r.path) for f in FUNCTIONS for r in f.routes if r.access is Access.PUBLIC}
    assert public == {
        ("POST", "/users"),
        ("POST", "/sessions"),
        ("DELETE", "/sessions"),
        ("GET", "/uploads/{filename}"),
        # docs/api.md §B: recovery works without a session and never reads one.
        ("POST", "/email-verifications"),
        ("POST", "/password-resets"),
        ("PUT", "/password-resets/{token}"),
    }


def test_rate_limit_policies_follow_the_spec() -> None:
    policies = {(r.method, r.path): r.rate_limit_policy for f in FUNCTIONS for r in f.routes}
    assert policies[("POST", "/users")] == "strict"
    assert policies[("POST", "/sessions")] == "strict"
    assert policies[("POST", "/uploads")] == "strict"
    assert policies[("GET", "/users/me")] == "read"
    assert policies[("PUT", "/users/me")] == "mutation"
    assert policies[("DELETE", "/sessions/{id}")] == "mutation"
