"""`siyu interests`: the interest words learned from the community, with their evidence.

The operator sees every word the bot learned on its own (handlers/learn.py), why (the known
words it kept company with, or the category its buyers bought), how often, and a quote or
two; and overrides it in siyu.toml (`[learned] reject` / `pin`), which `--relearn` or the
next import applies.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cliutil import print_json, say, visible

if TYPE_CHECKING:
    from handlers.settings import Settings
    from persona.learned import LearnedWord

ORDER = 17
QUOTE_CHARS = 40


def register(sub: Any) -> None:
    s = sub.add_parser("interests", help="查看从社群自己学到的兴趣词及其证据（可拒绝或指定）")
    s.add_argument("--relearn", action="store_true",
                   help="按 siyu.toml [learned] 的设置重新学习并更新画像")
    s.add_argument("--json", action="store_true", help="输出 JSON（英文编码，含每个词的证据）")
    s.set_defaults(run=cmd_interests, writes="保存重新学习的兴趣词")


def cmd_interests(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cliutil import read_app
    from handlers.learn import learn_config, relearn, stored_learned
    from handlers.personas import refresh_stale_tags

    app = read_app(settings)
    config = learn_config(settings)
    if args.relearn:
        outcome = relearn(app.store, settings)
        refresh_stale_tags(app.store, settings, app.labels)
        if not args.json:
            say(f"已重新学习：{outcome.words} 个词，变化 {outcome.changed} 个，"
                f"更新 {outcome.marked} 位成员的画像")
    saved = stored_learned(app.store)
    words = saved.words if saved else ()
    quotes = app.store.messages_by_id({q for w in words for q in w.quotes})
    texts = {mid: m.text for mid, m in quotes.items()}
    pinned = dict(sorted(config.params.pin.items()))
    rejected = sorted(config.params.reject)
    if args.json:
        print_json({
            "as_of": saved.as_of.astimezone(settings.tz).isoformat(timespec="seconds")
            if saved else None,
            "enabled": config.enabled,
            "words": [_word_json(w, app.labels, texts) for w in words],
            "rejected": rejected, "pinned": pinned})
        return 0
    say(_text(saved.as_of.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M") if saved else None,
              words, app.labels, texts, rejected, pinned, config.enabled))
    return 0


def _word_json(w: LearnedWord, labels: dict[str, str], texts: dict[str, str | None]
               ) -> dict[str, Any]:
    return {"word": w.word, "interest": w.code, "label": labels.get(w.code, w.code),
            "source": w.source, "basis": list(w.basis), "messages": w.messages,
            "members": w.members, "support": w.support, "score": w.score,
            "quotes": [{"id": q, "text": texts[q]} for q in w.quotes if texts.get(q)]}


def _why(w: LearnedWord) -> str:
    basis = "、".join(w.basis)
    if w.source == "bought":
        return f"买「{basis}」的成员常说（其中 {w.support} 人）"
    if w.source == "company":
        return f"常说「{basis}」的成员也常说（其中 {w.support} 人）"
    return "运营指定（pin）"


def _text(as_of: str | None, words: tuple[LearnedWord, ...], labels: dict[str, str],
          texts: dict[str, str | None], rejected: list[str], pinned: dict[str, str],
          enabled: bool) -> str:
    if not enabled:
        head = "兴趣词学习已关闭（siyu.toml [learned] enabled = false）"
    elif as_of is None:
        head = "还没有学习过：导入聊天记录或订单后自动学习（或运行 siyu interests --relearn）"
    else:
        head = (f"从社群学到的兴趣词 · 截至 {as_of} · 共 {len(words)} 个"
                "（每个词的权重是分类词表关键词的一半）")
    lines = [head]
    by_code: dict[str, list[LearnedWord]] = {}
    for w in words:
        by_code.setdefault(w.code, []).append(w)
    for code in sorted(by_code, key=lambda c: (-len(by_code[c]), c)):
        lines.append(f"\n{visible(labels.get(code, code))}（{code}，{len(by_code[code])} 个）")
        for w in sorted(by_code[code], key=lambda x: (-x.score, x.word)):
            quote = next((texts[q] for q in w.quotes if texts.get(q)), None)
            shown = f"  「{visible(_cut(quote))}」" if quote else ""
            lines.append(f"  {visible(w.word)}  {w.messages} 条消息 / {w.members} 人 · "
                         f"{visible(_why(w))}{shown}")
    if rejected or pinned:
        lines.append("")
    if rejected:
        lines.append("已拒绝（[learned] reject）：" + "、".join(visible(w) for w in rejected))
    if pinned:
        lines.append("已指定（[learned] pin）：" + "、".join(
            f"{visible(w)}→{visible(labels.get(c, c))}" for w, c in pinned.items()))
    lines.append("\n改动：在 siyu.toml 的 [learned] 里写 reject = [\"词\"] 或 pin = {\"词\" = "
                 "\"兴趣编码\"}，再运行 siyu interests --relearn")
    return "\n".join(lines)


def _cut(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "…"
