"""Architecture rules: what the library may import, and that importing it loads no model."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "bpdetect"
CLI_MODULES = {"cli.py", "cli_common.py", "cli_explain.py", "cli_spark.py", "__main__.py"}
# Modules the installed library must never import.
FORBIDDEN = ("training", "sklearn.model_selection", "sklearn.metrics")
# HTTP clients: only the batch sources may fetch (an http(s) URL given as a source); scoring never touches the network.
HTTP = ("requests", "urllib.request", "httpx", "http.client")
HTTP_MODULES = {"batch.py"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _matches(name: str, modules: tuple[str, ...]) -> bool:
    return any(name == m or name.startswith(m + ".") for m in modules)


def test_library_never_imports_training_metrics_or_http():
    for path in PKG.rglob("*.py"):
        for name in _imports(path):
            assert not _matches(name, FORBIDDEN), f"{path.name} imports {name}"
            if path.name not in HTTP_MODULES:
                assert not _matches(name, HTTP), f"{path.name} imports {name}"


def test_only_the_cli_knows_typer():
    for path in PKG.rglob("*.py"):
        if path.name in CLI_MODULES:
            continue
        assert not any(n == "typer" or n.startswith("typer.") for n in _imports(path)), path.name


def test_importing_bpdetect_loads_no_model_and_no_sklearn():
    code = (
        "import sys, bpdetect\n"
        "bpdetect.segment_html(b'<p>hello</p>')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('sklearn', 'skops', 'training', 'typer'))))\n"
        "assert bpdetect.Detector._default is None\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_extract_function_is_not_shadowed_by_its_submodule():
    code = (
        "import bpdetect\n"
        "from bpdetect.extract import Detector\n"  # importing the submodule must not rebind bpdetect.extract
        "import bpdetect.extract\n"
        "assert callable(bpdetect.extract), type(bpdetect.extract)\n"
        "assert bpdetect.Detector is Detector\n"
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
