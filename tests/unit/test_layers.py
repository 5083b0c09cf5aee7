"""The direction of the layers: a rule never imports a form, a template, an adapter, an action or a flow."""
import ast
from pathlib import Path

import pytest

MODELS = sorted((Path(__file__).resolve().parents[2] / "models").glob("*.py"))
OUTER_LAYERS = ("templates", "forms", "adapters", "actions", "flows", "web")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_a_model_imports_no_template_form_adapter_action_or_flow(path):
    outer = sorted(m for m in imported_modules(path) if m.split(".")[0] in OUTER_LAYERS)
    assert outer == [], f"{path.name} imports {outer}"
