"""The managers' report chart: segment sizes now and at the previous run, as one PNG.

Chinese text needs a CJK font, which matplotlib does not ship. The install brings one
(WenQuanYi Micro Hei, from the `paperang-p2-fonts-cjk` wheel in pyproject.toml), so the
README's set-up alone draws the chart; `[report] font` picks another file, and a system font
(WenQuanYi, Noto CJK, Source Han, …) is the last resort. Whichever file is chosen is
registered with `font_manager.addfont` by path: matplotlib's font cache is written once and
never learns of a font installed after it, so relying on it gave boxes (or a refusal) after
`apt-get install fonts-wqy-microhei`. Without any font the chart would show empty boxes, so
we refuse with a sentence that says what to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

CJK_FAMILIES = (
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans CJK",
    "Noto Serif CJK SC", "Source Han Sans SC", "Source Han Sans CN", "SimHei",
    "Microsoft YaHei", "PingFang SC", "Heiti SC", "Droid Sans Fallback", "AR PL UMing CN",
)


# The font the install brings (see pyproject.toml): the package, and its file inside it.
BUNDLED_FONT = ("paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc")


class ChartError(Exception):
    """The chart cannot be drawn; str() says why and what to do."""


def bundled_font() -> str | None:
    """The CJK font file installed with the package, or None when that wheel is missing."""
    package, name = BUNDLED_FONT
    try:
        path = resources.files(package).joinpath(name)
    except ModuleNotFoundError:
        return None
    return str(path) if path.is_file() else None


def find_cjk_font(explicit: str | None = None) -> str:
    """A font file that can draw Chinese: the configured one, else the bundled one, else the
    first system match."""
    from matplotlib import font_manager

    if explicit:
        if not Path(explicit).is_file():
            raise ChartError(f"[report] font: 字体文件不存在 {explicit}")
        return explicit
    shipped = bundled_font()
    if shipped:
        return shipped
    by_name = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in by_name:
            return by_name[family]
    for f in font_manager.fontManager.ttflist:
        if "CJK" in f.name or "Han" in f.name or "WenQuanYi" in f.name:
            return f.fname
    raise ChartError("没有可用的中文字体，图表会显示成方框：请重新安装本软件（pip install -e . "
                     "会带上字体包 paperang-p2-fonts-cjk），或在 siyu.toml 的 [report] font "
                     "指定一个中文字体文件 (.ttf/.otf/.ttc)")


def draw_report_chart(path: Path, title: str,
                      panels: Sequence[tuple[str, Mapping[str, int], Mapping[str, int] | None]],
                      font_file: str | None = None) -> Path:
    """Draw bar panels (title, {label: count now}, {label: count at previous run} or None)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    font = find_cjk_font(font_file)
    font_manager.fontManager.addfont(font)
    family = font_manager.FontProperties(fname=font).get_name()
    plt.rcParams["font.family"] = family
    plt.rcParams["axes.unicode_minus"] = False

    cols = 2
    rows = max(1, (len(panels) + cols - 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 4.2 * rows), squeeze=False)
    for ax, (name, now, before) in zip(axes.flat, panels, strict=False):
        _panel(ax, name, now, before)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=16)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _panel(ax: Any, name: str, now: Mapping[str, int], before: Mapping[str, int] | None) -> None:
    from matplotlib.ticker import MaxNLocator

    labels = list(now) or ["暂无"]
    values = [now.get(k, 0) for k in labels]
    xs = range(len(labels))
    width = 0.38 if before else 0.6
    bars = ax.bar([x + (width / 2 if before else 0) for x in xs], values, width,
                  label="本次", color="#3b7dd8")
    if before:
        ax.bar([x - width / 2 for x in xs], [before.get(k, 0) for k in labels], width,
               label="上次", color="#c9d6ea")
        ax.legend(loc="upper left", fontsize=9, ncols=2, frameon=False)
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(str(value), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=9)
    # Long circle labels ("c2 母婴育儿·宝宝·儿童") ran into each other when level.
    level = len(labels) <= 4 and max(len(label) for label in labels) <= 8
    ax.set_xticks(list(xs), labels, rotation=0 if level else 20,
                  ha="center" if level else "right", fontsize=10)
    top = max([*values, *(before or {}).values(), 1])
    ax.set_ylim(0, top * 1.25)  # headroom for the value labels and the legend
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # people come in whole numbers
    ax.set_title(name, fontsize=13)
    ax.set_ylabel("人数")
    ax.spines[["top", "right"]].set_visible(False)
