"""The layers are a contract: `lint-imports` (import-linter, `[tool.importlinter]` in
pyproject.toml) runs here, so an import pointing up the stack fails the suite, not a review.

bot (transports, dispatcher, chat routers, CLI) → handlers (use cases) → storage (the only
SQL) → persona (pure).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path, config: Path) -> subprocess.CompletedProcess[str]:
    # The venv's own script, next to the interpreter running the tests; the packages are
    # found from `cwd`, which leads PYTHONPATH.
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT_IMPORTS), str(config), "--no-cache"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_code_keeps_every_import_contract() -> None:
    done = lint_imports(ROOT, ROOT / "pyproject.toml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout


def tiny_tree(root: Path) -> Path:
    """The project's own import-linter configuration over four tiny packages shaped like
    ours, which keep every contract; returns the configuration's path."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    linter = config["tool"]["importlinter"]
    for package in [*linter["root_packages"], "bot.transports", "bot.sources",
                    "storage.migrations"]:
        (root / package.replace(".", "/")).mkdir()
        (root / package.replace(".", "/") / "__init__.py").write_text("", encoding="utf-8")
    (root / "bot" / "dispatcher.py").write_text("import handlers.live\n", encoding="utf-8")
    (root / "handlers" / "live.py").write_text("import storage.db\n", encoding="utf-8")
    (root / "storage" / "db.py").write_text("import storage.migrations\nimport persona.text\n",
                                            encoding="utf-8")
    (root / "storage" / "migrations" / "env.py").write_text("import storage.db\n",
                                                            encoding="utf-8")
    (root / "persona" / "text.py").write_text("", encoding="utf-8")
    (root / "persona" / "analyze.py").write_text("import persona.text\n", encoding="utf-8")
    ok = root / "ok.toml"
    ok.write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert lint_imports(root, ok).returncode == 0
    return ok


def test_a_use_case_importing_the_bot_breaks_the_contract(tmp_path: Path) -> None:
    """The layers contract is not vacuous: a handler importing the bot's dispatcher is
    reported broken, and the import is named."""
    config = tiny_tree(tmp_path)
    (tmp_path / "handlers" / "operator.py").write_text("from bot import dispatcher\n",
                                                       encoding="utf-8")
    done = lint_imports(tmp_path, config)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout and "handlers.operator" in done.stdout


def test_a_circle_inside_persona_breaks_the_contract(tmp_path: Path) -> None:
    """Two persona modules leaning on each other break the acyclic contract even when one
    side hides its import inside a function, the way persona/segment.py's circle was held."""
    config = tiny_tree(tmp_path)
    (tmp_path / "persona" / "text.py").write_text("def cut():\n    import persona.analyze\n",
                                                  encoding="utf-8")
    done = lint_imports(tmp_path, config)
    assert done.returncode != 0
    assert "No cycles are allowed in persona" in done.stdout
