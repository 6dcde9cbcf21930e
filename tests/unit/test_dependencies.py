"""Every imported package is declared, and the hashed lock files cover the declarations.

The image installs `requirements.lock` with `--require-hashes --no-deps` and CI may
install `requirements-dev.lock` the same way (docs/security.md §9), so a dependency missing
from a lock would be missing at run time, and a package imported but only present
through another's dependencies could vanish with that other's next release.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Where an import may come from: code run in the image needs a runtime dependency;
# the embedded stack the `local` extra; tools, tests and benchmarks the `dev` one.
SCOPES: tuple[tuple[str, str], ...] = (
    ("shared/phasma/devstack/", "local"),
    ("shared/phasma/deploy/manifests.py", "dev"),
    ("shared/", "runtime"),
    ("functions/", "runtime"),
    ("frontend/", "runtime"),
    ("tests/", "dev"),
    ("benchmarks/", "dev"),
)
FIRST_PARTY = {"phasma", "tests", "benchmarks", "functions"}
# Measured when present, never required (benchmarks/round_trips.py says so).
OPTIONAL = {"psycopg"}
TYPE_CHECKING_TESTS = {"TYPE_CHECKING", "typing.TYPE_CHECKING"}


def declared(scope: str) -> set[str]:
    """Canonical distribution names an import in `scope` may rely on."""
    extras = PROJECT["optional-dependencies"]
    groups = {"runtime": [], "local": ["local"], "dev": ["local", "dev"]}[scope]
    lines = [*PROJECT["dependencies"], *(line for group in groups for line in extras[group])]
    return {canonicalize_name(Requirement(line).name) for line in lines} - {"phasma"}


def imported_modules(path: Path) -> Iterator[tuple[str, bool]]:
    """Each top-level module `path` imports, and whether only the type checker imports it
    (under `if TYPE_CHECKING:`: never at run time, so a dev dependency such as a stub
    package may provide it)."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) in TYPE_CHECKING_TESTS
        for statement in node.body
        for inner in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name.split(".")[0], id(node) in typing_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], id(node) in typing_only


def scope_of(path: Path) -> str:
    relative = path.relative_to(ROOT).as_posix()
    return next(scope for prefix, scope in SCOPES if relative.startswith(prefix))


def test_every_imported_package_is_declared_where_it_is_used() -> None:
    distributions = packages_distributions()
    missing: list[str] = []
    files = [
        path
        for top in ("shared", "functions", "frontend", "tests", "benchmarks")
        for path in (ROOT / top).rglob("*.py")
    ]
    assert files
    for path in files:
        scope = scope_of(path)
        for module, typing_only in set(imported_modules(path)):
            if module in sys.stdlib_module_names or module in FIRST_PARTY | OPTIONAL:
                continue
            allowed = declared("dev" if typing_only else scope)
            names = {canonicalize_name(name) for name in distributions.get(module, [module])}
            if not names & allowed:
                missing.append(f"{path.relative_to(ROOT)} imports {module} ({', '.join(names)})")
    assert not missing, "undeclared imports:\n" + "\n".join(sorted(missing))


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)")


def pins(lock: str) -> dict[str, Version]:
    """`name -> version` of a lock file, checking that every pin carries hashes."""
    text = (ROOT / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    result = {}
    for entry in entries:
        match = _PIN.match(entry)
        assert match, f"{lock}: not a pinned requirement: {entry.splitlines()[0]}"
        assert "--hash=sha256:" in entry, f"{lock}: {match[1]} has no hash"
        result[canonicalize_name(match[1])] = Version(match[2])
    return result


@pytest.mark.parametrize(
    ("lock", "groups"), [("requirements.lock", ()), ("requirements-dev.lock", ("local", "dev"))]
)
def test_the_lock_pins_every_declared_dependency_with_hashes(
    lock: str, groups: tuple[str, ...]
) -> None:
    pinned = pins(lock)
    extras = PROJECT["optional-dependencies"]
    lines = [*PROJECT["dependencies"], *(line for group in groups for line in extras[group])]
    for requirement in (Requirement(line) for line in lines):
        name = canonicalize_name(requirement.name)
        if name == "phasma":
            continue
        assert name in pinned, f"{lock} lacks {requirement.name}: run ./taskw lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock} pins {name}=={pinned[name]}, outside {requirement}: run ./taskw lock"
        )
    if not groups:
        # The image's lock holds no development tool.
        assert not {"pytest", "ruff", "uv", "playwright"} & set(pinned)
