"""docs/configuration.md lists every setting the code reads."""

from pathlib import Path

from phasma.config import Settings

DOCS = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()


def test_every_setting_is_documented() -> None:
    for field in Settings.model_fields:
        name = field.upper()
        if (
            name.startswith("RATE_LIMIT_")
            and name.endswith("_RATE")
            and name != "RATE_LIMIT_FAIL_OPEN"
        ):
            name = name.removesuffix("_RATE") + "_BURST"  # documented as `_BURST` / `_RATE`
        if name in ("K_REVISION", "S3_SECRET_KEY"):
            continue  # documented next to their pair
        assert f"`{name}`" in DOCS, f"{name} is missing from docs/configuration.md"


def test_every_registered_route_is_listed_in_the_api_docs() -> None:
    from phasma.registry import FUNCTIONS

    api_docs = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    for function in FUNCTIONS:
        for route in function.routes:
            row = f"| {function.name} | `{route.method} {route.path}` |"
            assert row in api_docs, f"{row} is missing from docs/api.md"
