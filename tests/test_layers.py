"""The code's layering (pyproject.toml, [tool.importlinter]) holds, and breaking it fails with the chain named."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

APPS = ("accounts", "broadcasts", "operator_console", "api")
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
        timeout=120,
    )


def test_the_layers_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_service_importing_a_task_fails_naming_the_chain(tmp_path):
    for name in APPS:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    quota = tmp_path / "broadcasts" / "services" / "quota.py"
    quota.write_text(quota.read_text() + "\nfrom broadcasts import tasks  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "services never import tasks, admin or commands BROKEN" in result.stdout
    assert "broadcasts.services.quota -> broadcasts.tasks" in result.stdout


def _source_files():
    for name in APPS:
        for path in sorted((ROOT / name).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_no_project_import_hides_inside_a_function():
    """Imports inside functions are how an import circle gets hidden; only outside packages may load lazily."""
    hidden = []
    for path in _source_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] in APPS):
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                if isinstance(node, ast.Import) and any(a.name.split(".")[0] in APPS for a in node.names):
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hidden == []



def test_no_module_outgrows_one_concern():
    too_long = {str(p.relative_to(ROOT)): n for p in _source_files() if (n := len(p.read_text().splitlines())) > 450}
    assert too_long == {}
