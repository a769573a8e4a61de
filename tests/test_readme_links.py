"""The README's links lead somewhere a reader of this checkout can open (issue 17 item 7: the
contract link pointed outside the repository)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_relative_link_in_the_readme_is_a_file_in_the_repository() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = [t for t in re.findall(r"\]\(([^)#\s]+)", text) if "://" not in t]
    assert links, "the README links its docs"
    for target in links:
        path = (ROOT / target).resolve()
        assert path.is_relative_to(ROOT), f"{target} leaves the repository"
        assert path.is_file(), f"{target} does not exist"
