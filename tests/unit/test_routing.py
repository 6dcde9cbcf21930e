import importlib
import inspect
import pkgutil

import phasma.frontend.pages
from phasma.http.routing import Matched, MethodNotAllowed, RouteTable
from phasma.registry import FUNCTIONS, Access, PageAccess, get_function


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


def test_every_site_page_is_declared_in_the_registry() -> None:
    """The site's routes are the registry's `pages`: every page handler is one of them."""
    assert [f.name for f in FUNCTIONS if f.pages] == ["frontend"]
    pages = get_function("frontend").pages
    assert get_function("frontend").routes == ()  # the gateway never routes to the site
    declared = {route.handler for route in pages}
    assert len(declared) == len(pages)  # one route per handler
    for route in pages:
        assert callable(route.resolve_handler())
    handlers = set()
    package = phasma.frontend.pages
    modules = [package] + [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
    ]
    for module in modules:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            signature = inspect.signature(function)
            parameters = list(signature.parameters.values())
            # A page handler: `(context: Context) -> Response` (annotations are strings here).
            if [p.annotation for p in parameters] == ["Context"] and (
                signature.return_annotation == "Response"
            ):
                handlers.add(f"{module.__name__}:{name}")
    assert handlers == declared


def test_site_pages_are_unique_and_default_to_signed_in() -> None:
    pages = get_function("frontend").pages
    assert len({(route.method, route.path) for route in pages}) == len(pages)
    public = {(r.method, r.path) for r in pages if r.access is PageAccess.PUBLIC}
    assert public == {
        ("GET", "/"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("GET", "/register"),
        ("POST", "/register"),
        ("POST", "/logout"),
        ("GET", "/verify-email"),
        ("POST", "/verify-email"),
        ("GET", "/forgot-password"),
        ("POST", "/forgot-password"),
        ("GET", "/reset-password"),
        ("POST", "/reset-password"),
        ("GET", "/posts/{post_id}"),
        ("GET", "/{handle}"),
        ("GET", "/{handle}/{mode}"),
        ("GET", "/tags/{name}"),
        ("POST", "/settings/theme"),
        ("GET", "/uploads/{key}"),
    }
    bare = {(r.method, r.path) for r in pages if not r.shell}
    assert bare == {
        ("GET", "/suggest"),
        ("GET", "/notifications/stream"),
        ("GET", "/settings/export/{export_id}/download"),
        ("GET", "/uploads/{key}"),
    }
