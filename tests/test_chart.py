"""The report chart's font: it comes with the install, and every Chinese glyph is drawn."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from bot.chart import BUNDLED_FONT, ChartError, bundled_font, draw_report_chart, find_cjk_font


def test_the_install_brings_a_cjk_font() -> None:
    """pyproject.toml's font wheel is installed and chosen before any system font, so a
    machine without fonts-wqy-microhei (or with a stale matplotlib cache) draws the same."""
    path = bundled_font()
    assert path is not None and Path(path).is_file()
    assert find_cjk_font() == path


def test_the_font_has_the_report_glyphs() -> None:
    from matplotlib.ft2font import FT2Font

    font = FT2Font(find_cjk_font())
    for ch in "社群分群报告价值高成长型一般用户生命周期潜在新成熟衰退购买动机兴趣圈人数本次上次":
        assert font.get_char_index(ord(ch)) != 0, ch


def test_chart_draws_chinese_without_missing_glyphs(tmp_path: Path) -> None:
    """matplotlib warns "Glyph … missing from font(s)" and draws a box for each character it
    cannot find: as an error here, a chart with boxes fails the test."""
    panels = [("价值", {"高价值": 5, "成长型": 10, "一般用户": 3}, {"高价值": 4, "成长型": 9}),
              ("兴趣圈", {"c1 母婴育儿·宝宝": 7}, None)]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        out = draw_report_chart(tmp_path / "c.png", "社群分群报告 · 截至 2026-11-20", panels)
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_a_configured_font_that_is_missing_is_refused() -> None:
    with pytest.raises(ChartError, match="font"):
        find_cjk_font("/nope/none.ttf")


def test_with_no_font_at_all_the_error_says_what_to_do(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    from matplotlib import font_manager

    import bot.chart as chart

    monkeypatch.setattr(chart, "BUNDLED_FONT", ("no_such_font_package_xyz", BUNDLED_FONT[1]))
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    assert chart.bundled_font() is None
    with pytest.raises(ChartError, match="paperang-p2-fonts-cjk"):
        find_cjk_font()
