"""The type stubs name what the modules have, so editors complete the real API."""

import ast
import pathlib

import pytest

import mlops.messaging as mes
import mlops.orchestration as orc

PACKAGE = pathlib.Path(mes.__file__).parent.parent


def stub_names(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            members = [n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            members += [t.id for n in node.body if isinstance(n, ast.Assign) for t in n.targets]
            for base in node.bases:
                if isinstance(base, ast.Name) and base.id == "_Closable":
                    members += ["__enter__", "__exit__"]
            yield node.name, members
        elif isinstance(node, ast.FunctionDef):
            yield node.name, []
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):  # Stage = Stages
            for target in node.targets:
                yield target.id, []


@pytest.mark.parametrize("module", [mes, orc], ids=["messaging", "orchestration"])
def test_stubs_match_the_module(module):
    stub = pathlib.Path(module.__file__).with_suffix(".pyi")
    assert (PACKAGE / "py.typed").exists()
    for name, members in stub_names(stub):
        assert hasattr(module, name), name
        for member in members:
            if member != "__buffer__":  # the buffer protocol, not an attribute before 3.12
                assert hasattr(getattr(module, name), member), f"{name}.{member}"
    assert set(module.__all__) <= {name for name, _ in stub_names(stub)}
