"""The domain never imports the web, task or CLI frameworks (STYLE.md rule 1)."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

DOMAIN = ("catalog", "retrieval", "chat", "llm", "insights", "tuning")
FORBIDDEN = {"flask", "celery", "click", "werkzeug", "gunicorn"}


def imported_roots(path):  # type: ignore[no-untyped-def]
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


def test_domain_packages_do_not_import_frameworks() -> None:
    offenders = []
    checked = 0
    for package in DOMAIN:
        for path in (ROOT / "storebot" / package).rglob("*.py"):
            checked += 1
            bad = FORBIDDEN.intersection(imported_roots(path))
            if bad:
                offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert checked > 5
    assert not offenders, offenders


def test_importing_the_domain_does_not_load_flask() -> None:
    import subprocess
    import sys

    code = "import sys, storebot.catalog.sync; print('flask' in sys.modules, 'celery' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False False"
