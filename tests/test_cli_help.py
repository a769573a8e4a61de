"""`siyu <cmd> --help` explains every argument in Chinese: an operator should not have to
read the source to learn what --as-of or PATH means."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

from cli_helpers import siyu

from bot.cli import build_parser

CJK = re.compile(r"[\u4e00-\u9fff]")


def arguments(parser: argparse.ArgumentParser, name: str = "siyu"
              ) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from arguments(sub, f"{name} {sub_name}")
        elif not isinstance(action, argparse._HelpAction):
            yield name, action


def test_every_argument_has_a_chinese_help() -> None:
    missing = [f"{cmd}: {'/'.join(a.option_strings) or a.dest}"
               for cmd, a in arguments(build_parser())
               if not (a.help and a.help != argparse.SUPPRESS and CJK.search(a.help))]
    assert not missing, missing
    assert len(list(arguments(build_parser()))) > 40  # every command's, not just the top's


def test_help_shows_the_new_options(tmp_path: Path) -> None:
    out = siyu("personas", "--help", cwd=tmp_path).stdout
    assert "--segment CODE" in out and "只列这个分群的成员" in out
    out = siyu("invite", "--help", cwd=tmp_path).stdout
    assert "--perk TEXT" in out and "不给就不提任何福利" in out
