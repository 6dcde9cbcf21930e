"""`functions/<name>/main.py` stays thin: one entry point import and one `handle`.

The layering (docs/architecture.md, "Layers") starts here: a function's module names
its registry entry and nothing else, so import-linter's checks of `shared/phasma`
cover everything the function runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from phasma.registry import FUNCTIONS, Function

REPOSITORY = Path(__file__).resolve().parents[2]
ENTRY_POINTS = {
    "http": ("phasma.http.function", "http_function"),
    "event": ("phasma.events.worker", "event_function"),
    "frontend": ("phasma.frontend.app", "frontend_function"),
}


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda function: function.name)
def test_a_function_module_only_builds_its_entry_point(function: Function) -> None:
    tree = ast.parse((REPOSITORY / function.source).read_text())
    docstring, entry_import, handle = tree.body
    assert isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant)
    module, entry = ENTRY_POINTS[function.kind]
    assert isinstance(entry_import, ast.ImportFrom)
    assert (entry_import.module, [alias.name for alias in entry_import.names]) == (module, [entry])
    assert isinstance(handle, ast.Assign) and isinstance(handle.value, ast.Call)
    assert [ast.unparse(target) for target in handle.targets] == ["handle"]
    assert ast.unparse(handle.value.func) == entry
    expected_arguments = [] if function.kind == "frontend" else [repr(function.name)]
    assert [ast.unparse(argument) for argument in handle.value.args] == expected_arguments
