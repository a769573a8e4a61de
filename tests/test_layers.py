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
    return subprocess.run([str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_code_keeps_every_import_contract() -> None:
    done = lint_imports(ROOT, ROOT / "pyproject.toml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout


def test_a_use_case_importing_the_bot_breaks_the_contract(tmp_path: Path) -> None:
    """The contract is not vacuous: the same configuration, on four tiny packages where one
    handler imports the bot's dispatcher, is reported broken and names the import."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    linter = config["tool"]["importlinter"]
    for package in linter["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("", encoding="utf-8")
    for package in ("bot.transports", "bot.sources"):
        (tmp_path / package.replace(".", "/")).mkdir()
        (tmp_path / package.replace(".", "/") / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "bot" / "dispatcher.py").write_text("import handlers.live\n", encoding="utf-8")
    (tmp_path / "handlers" / "live.py").write_text("import storage.db\n", encoding="utf-8")
    (tmp_path / "storage" / "db.py").write_text("import persona.text\n", encoding="utf-8")
    (tmp_path / "persona" / "text.py").write_text("", encoding="utf-8")
    ok = tmp_path / "ok.toml"
    ok.write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert lint_imports(tmp_path, ok).returncode == 0

    (tmp_path / "handlers" / "operator.py").write_text("from bot import dispatcher\n",
                                                       encoding="utf-8")
    done = lint_imports(tmp_path, ok)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout and "handlers.operator" in done.stdout
