"""The optimizer is plain Python: no module of it imports Django."""

from __future__ import annotations

import ast
from pathlib import Path

import aman.planning.optimizer as optimizer


def test_no_optimizer_module_imports_django() -> None:
    folder = Path(optimizer.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert len(modules) >= 7
    for path in modules:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("django"), f"{path.name} imports {name}"
                assert not name.startswith("aman.") or name.startswith("aman.planning.optimizer"), (
                    f"{path.name} imports {name}"
                )
