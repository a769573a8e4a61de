"""A generated corpus of hostile chat exports, imported end to end on SQLite and PostgreSQL.

Where tests/test_hostile_input.py fuzzes the readers, this builds files the way they break in
the field — every cut of a small export, lines in other encodings, nesting past the decoder,
control characters, huge fields, ids shared across chats and platforms — imports all of them
into one database through the real ingest path, and checks the import contract for each:

- nothing raises: a file that cannot be used at all is one `SourceError` naming it;
- every line written as a good message is stored, exactly once (a re-import adds nothing);
  a message is (chat, platform id), so ids shared by other chats never cost it — only a
  line written as a conflict (its chat already holds its id with other content) is one
  reported conflict naming its line, never a silent duplicate;
- every line written bad is exactly one reject naming ``file:line``, and no other line is.

Each case is generated from a few seeds (lists of byte sequences, depths, characters), not
listed by hand; the whole corpus is a few hundred files and stays within seconds.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pg import fresh_database, require_postgres

from bot.app import App
from bot.sources import SourceError, open_source
from handlers.events import MessageEvent, Reject, stable_message_id
from handlers.ingest import Ingestor, IngestReport
from handlers.settings import Settings
from storage.db import pg_text

T0 = 1763640000
GOOD_TEXTS = ["有没有优惠？", "我家宝宝8个月了😀", "好的", "坐标杭州，90后宝妈", "太贵了👍🏻"]


@dataclass
class Case:
    """One generated file and what each of its lines must become."""

    path: Path
    # line → "message" (stored), "conflict" (a message whose chat already holds its id with
    # other content: one reported conflict), "reject" (one reject at that line), "item"
    # (exactly one message or reject: a cut CSV row may still be a row)
    lines: dict[int, str] = field(default_factory=dict)
    fmt: str = "auto"
    # May the whole file be refused (one SourceError naming it)? E.g. a cut JSON document.
    refusable: bool = False


def message_line(i: int, text: str | None = None, **extra: object) -> str:
    obj: dict[str, object] = {"_type": "message", "sender": f"wxid_{i % 5}",
                              "accountName": f"成员{i % 5}", "timestamp": T0 + i, "type": 0,
                              "content": GOOD_TEXTS[i % len(GOOD_TEXTS)] if text is None else text}
    obj.update(extra)
    return json.dumps(obj, ensure_ascii=False)


def header(chat: str, platform: str = "wechat") -> str:
    return json.dumps({"_type": "header", "chatlab": {"version": "0.0.2"},
                       "meta": {"name": chat, "platform": platform, "type": "group",
                                "groupId": f"{chat}@chatroom"}}, ensure_ascii=False)


class Corpus:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.cases: list[Case] = []
        self.serial = 0

    def add(self, name: str, data: bytes, lines: dict[int, str], fmt: str = "auto",
            refusable: bool = False) -> None:
        self.serial += 1
        path = self.root / f"{self.serial:04d}-{name}"
        path.write_bytes(data)
        self.cases.append(Case(path, lines, fmt, refusable))


# ---- generators ---------------------------------------------------------------------------------
def truncations(corpus: Corpus) -> None:
    """A small JSONL export and a small CSV cut at every byte: whole lines import, the cut
    line is one item (for JSONL always a reject: a cut object never parses)."""
    def tight(i: int, text: str) -> str:
        return json.dumps({"_type": "message", "sender": f"w{i}", "timestamp": T0 + i,
                           "type": 0, "content": text}, ensure_ascii=False,
                          separators=(",", ":"))

    jsonl = "\n".join(['{"_type":"header","meta":{"name":"截断","type":"group"}}',
                       tight(1, "好的"), tight(2, "😀表情🇨🇳"), tight(3, "宝宝")]).encode() + b"\n"
    full = jsonl.split(b"\n")
    for cut in range(1, len(jsonl) + 1):
        data = jsonl[:cut]
        lines: dict[int, str] = {}
        for n, raw in enumerate(data.split(b"\n"), 1):
            if n == 1 or not raw.strip():
                continue  # the header (whole or cut: a cut header is one reject, below)
            lines[n] = "message" if raw == full[n - 1] else "reject"
        if data.split(b"\n")[0] != full[0]:
            lines[1] = "reject"
        corpus.add("cut.jsonl", data, lines, fmt="chatlab")
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime",
                     "Status", "StrContent", "StrTime", "Remark", "NickName", "Sender"])
    for i in range(2):
        writer.writerow([i, "555@chatroom", 1, 0, 0, T0 + i, 2, f"第{i}条\n多行😀", "", "",
                         f"成员{i}", f"w{i}"])
    data = rows.getvalue().encode()
    header_end = data.index(b"\n") + 1
    starts = [header_end]
    for _ in range(2):  # each row spans two physical lines
        nxt = data.index(b"\n", data.index(b"\n", starts[-1]) + 1) + 1
        starts.append(nxt)
    for cut in range(header_end + 1, len(data) + 1):
        lines = {}
        for r in range(2):
            if cut >= starts[r + 1] - 1:  # the row's bytes are all there
                lines[2 + 2 * r] = "message"
            elif cut > starts[r]:
                lines[2 + 2 * r] = "item"
        corpus.add("cut_utf8.csv", data[:cut], lines)
    doc = json.dumps({"chatlab": {"version": "0.0.2"}, "meta": {"name": "文档群", "type": "group"},
                      "messages": [json.loads(message_line(i)) for i in range(3)]},
                     ensure_ascii=False, indent=1).encode()
    for cut in range(0, len(doc), 7):  # a cut document is refused as a whole, never a crash
        corpus.add("cut.json", doc[:cut], {}, fmt="chatlab", refusable=True)


# Byte sequences that are not UTF-8, as exporters produce them.
BAD_BYTES = {
    "gbk": "团购的牛奶".encode("gbk"),
    "cesu8": b"\xed\xa0\xbd\xed\xb8\x80",
    "latin1": "café".encode("latin-1"),
    "lone_continuation": b"\x80",
    "overlong": b"\xc0\xaf",
    "encoded_surrogate": b"\xed\xb2\x80",
    "five_byte": b"\xf8\x88\x80\x80\x80",
    "cut_in_middle": b"\xe4\xb8" + b"abc",
    "ff": b"\xff\xfe",
}


def encodings(corpus: Corpus) -> None:
    """Each kind of bad bytes in the content or the sender of one line of a UTF-8 export."""
    for kind, bad in BAD_BYTES.items():
        for where in ("content", "sender"):
            lines = [header(f"编码群{kind}").encode()]
            lines += [message_line(i).encode() for i in range(1, 4)]
            marked = message_line(4, "XBADX") if where == "content" else message_line(
                4).replace('"wxid_4"', '"XBADX"')
            lines.append(marked.encode().replace(b"XBADX", bad))
            lines += [message_line(i).encode() for i in range(5, 8)]
            expect = {n: "message" for n in range(2, 9)}
            expect[5] = "reject"
            corpus.add(f"enc-{kind}-{where}.jsonl", b"\n".join(lines) + b"\n", expect)
            doc = (b'{"chatlab": {}, "meta": {"name": "\xe6\x96\x87\xe6\xa1\xa3", '
                   b'"type": "group", "groupId": "doc-' + kind.encode() + b'"},\n"messages": [\n'
                   + b",\n".join(lines[1:]) + b"\n]}")
            corpus.add(f"enc-{kind}-{where}.json", doc,
                       {n + 1: ("reject" if n == 5 else "message") for n in range(2, 9)})
        rows = [b"localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime"]
        for i in range(6):
            content = bad if i == 3 else f"第{i}条".encode()
            rows.append(b"%d,wxid_enc%s,1,0,0,%d,2,%s,2025-11-20 20:00:00" % (
                i, kind.encode(), T0 + i, content))
        corpus.add(f"enc-{kind}_utf8.csv", b"\n".join(rows) + b"\n",
                   {n: ("reject" if n == 5 else "message") for n in range(2, 8)})


def nesting(corpus: Corpus) -> None:
    """Arrays and objects nested past every limit there is (orjson's 1,024, the recursion
    limit, 200,000), as the whole line, the content or an extra key."""
    for depth in (10, 999, 1_025, 5_000, 200_000):
        for shape in ("[]", '{"a":}'):
            opener, closer = (shape[0], shape[1]) if shape == "[]" else ('{"a":', "}")
            deep = opener * depth + "0" + closer * depth if shape != "[]" else (
                "[" * depth + "]" * depth)
            lines = [header("嵌套群"), message_line(1),
                     deep,
                     message_line(2)[:-1] + ', "content": ' + deep + "}",
                     message_line(3)[:-1] + ', "extra": ' + deep + "}",
                     message_line(4)]
            expect = {2: "message", 3: "reject", 4: "reject", 5: "item", 6: "message"}
            if depth <= 10:
                expect[5] = "message"
            corpus.add(f"deep-{depth}-{len(shape)}.jsonl", "\n".join(lines).encode(), expect)


CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\u2028", "\u2029", "\u200b",
                                             "\ufeff", "\x1b[2J", "\x1b]0;title\x07", "\u202e"]


def control_characters(corpus: Corpus) -> None:
    """Every C0 control (NUL too), DEL, C1 NEL, line/paragraph separators, BOM, bidi override
    and terminal escapes, escaped in JSON (a valid message) and raw in a CSV cell."""
    lines = [header("控制字符群")]
    for n, ch in enumerate(CONTROLS):
        lines.append(message_line(100 + n, f"前{ch}后"))
        lines.append(message_line(200 + n, "好的", sender=f"wxid_{ch}"))
    corpus.add("controls.jsonl", "\n".join(lines).encode(),
               {n: "message" for n in range(2, len(lines) + 1)})
    rows = io.StringIO()
    # The csv module's own "\r\n", as exporters write: only with it is a lone "\r" quoted.
    writer = csv.writer(rows)
    writer.writerow(["localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime",
                     "Status", "StrContent", "StrTime", "Remark", "NickName", "Sender"])
    expect: dict[int, str] = {}
    for n, ch in enumerate(CONTROLS):
        if ch == "\x00":
            continue  # a NUL in the sniffed head is the "binary file" refusal (its own test)
        # Lines as the reader counts them (newline=""): \n, \r\n and a lone \r end one.
        expect[len(io.StringIO(rows.getvalue(), newline="").readlines()) + 1] = "message"
        writer.writerow([n, "777@chatroom", 1, 0, 0, T0 + n, 2, f"前{ch}后", "", "", f"名{ch}",
                         f"wxid_c{n}"])
    corpus.add("controls_utf8.csv", rows.getvalue().encode(), expect)


# JSON escapes of UTF-16 code units that make no character: halves of pairs, reversed pairs.
SURROGATE_ESCAPES = ["\\ud800", "\\udfff", "\\udc00\\ud800", "x\\ud83d", "\\ude00y",
                     "\\ud83d\\ude00", "\\uDBFF\\uDBFF"]


def surrogate_escapes(corpus: Corpus) -> None:
    """Each escape in the content, the sender, the name and the chat's name: a message each,
    its half characters replaced (the id then stays the same on every re-import)."""
    for n, esc in enumerate(SURROGATE_ESCAPES):
        lines = [header("代理群").replace("代理群", f"代理{esc}群", 1)]
        for field_, value in (("content", f"前{esc}后"), ("sender", f"wxid_{esc}"),
                              ("accountName", f"名{esc}")):
            line = message_line(10 * n + len(lines), "好的")
            key = f'"{field_}": '
            at = line.index(key) + len(key)
            end = line.index('"', at + 1) + 1
            lines.append(line[:at] + f'"{value}"' + line[end:])
        corpus.add(f"surrogates-{n}.jsonl", "\n".join(lines).encode(),
                   {n: "message" for n in range(2, len(lines) + 1)})
        doc = ('{"chatlab": {}, "meta": {"name": "文档' + esc + '", "type": "group"},\n'
               '"messages": [\n' + ",\n".join(lines[1:]) + "\n]}")
        corpus.add(f"surrogates-{n}.json", doc.encode(),
                   {n + 1: "message" for n in range(2, len(lines) + 1)})


def huge_fields(corpus: Corpus) -> None:
    """A megabyte of content, and ids, senders and names thousands of characters long."""
    big = ("我家宝宝8个月了，有没有优惠？" * 70_000)[:1_000_000]
    # Incompressible, so a database index has to hold all of it.
    noise = "".join(hashlib.sha256(b"%d" % i).hexdigest() for i in range(200))
    lines = [header("巨大字段群"), message_line(1, big),
             message_line(2, "好的", sender=noise[:5000]),
             message_line(3, platformMessageId=noise[:3000]),
             message_line(4, accountName="名" * 20_000), message_line(5)]
    corpus.add("huge.jsonl", "\n".join(lines).encode(),
               {2: "message", 3: "reject", 4: "reject", 5: "message", 6: "message"})
    long_chat = header("x").replace('"x@chatroom"', json.dumps(noise[:4000]))
    corpus.add("huge-chat.jsonl", "\n".join([long_chat, message_line(1)]).encode(),
               {2: "message"})
    rows = [b"localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,"
            b"Remark,NickName,Sender"]
    for i, (talker, sender) in enumerate([("123", noise[:3000]), ("123", "wxid_a"),
                                          (noise[:3000], "wxid_b"), ("123", "wxid_c")]):
        rows.append(f"{i},{talker},1,0,0,{T0 + i},2,好的,,,,{sender}".encode())
    corpus.add("huge-ids_utf8.csv", b"\n".join(rows) + b"\n",
               {2: "reject", 3: "message", 4: "reject", 5: "message"})


def id_collisions(corpus: Corpus) -> None:
    """Ids shared across chats, platforms, encodings and our own hash ids.

    Chats numbering their messages alike (groups and private chats, JSONL and JSON) are all
    stored: a message is (chat, platform id). A true repeat is a duplicate. The same chat id
    exported from another platform is the same chat (chats are keyed by id), so its other
    content under the same ids is a conflict, reported. A platform id that spells one of our
    stable hash ids ("h:…", made for messages without an id) is just an id: in another chat
    it collides with nothing, and in the same chat with other content it is a conflict."""
    chats = [(f"碰撞群{c}", "wechat", True) for c in "ABCDEFGH"]
    chats += [("碰撞群A", "wecom", True), ("wxid_私聊甲", "wechat", False),
              ("wxid_私聊乙", "wechat", False)]
    for chat, platform, group in chats:
        conflict = platform == "wecom"  # the wechat 碰撞群A file is generated first
        head = header(chat, platform)
        if not group:
            head = json.dumps({"_type": "header", "meta": {"name": chat, "platform": platform,
                                                           "type": "private", "groupId": chat}},
                              ensure_ascii=False)
        lines = [head]
        for i in range(1, 6):
            lines.append(message_line(i, f"{chat}{platform}第{i}条", platformMessageId=str(i)))
        lines.append(message_line(1, f"{chat}{platform}第1条", platformMessageId="1"))
        expect = {n: "conflict" if conflict else "message" for n in range(2, 7)}
        expect[7] = "message"  # a repeat of line 2: a duplicate of it, never a second conflict
        corpus.add(f"ids-{chat}-{platform}.jsonl", "\n".join(lines).encode(), expect)
    # The same numbering in a JSON document of yet another chat: five more messages.
    doc = ('{"chatlab": {}, "meta": {"name": "碰撞文档群", "type": "group", '
           '"groupId": "碰撞文档群"},\n"messages": [\n' + ",\n".join(
               message_line(i, f"文档第{i}条", platformMessageId=str(i)) for i in range(1, 6))
           + "\n]}")
    corpus.add("ids-doc.json", doc.encode(), {n: "message" for n in range(3, 8)})
    # Ids spelling the stable hash of a message without an id: in its own chat (other
    # content: a conflict), and in another chat (a message).
    bare = json.loads(message_line(1, "没有 id 的消息"))
    spelt = stable_message_id("碰撞哈希群@chatroom", bare["sender"],
                              datetime.fromtimestamp(bare["timestamp"], UTC), bare["content"])
    for chat, want in (("碰撞哈希群", "conflict"), ("碰撞哈希群二", "message")):
        lines = [header("碰撞哈希群"), json.dumps(bare, ensure_ascii=False)]
        if chat != "碰撞哈希群":
            lines = [header(chat)]
        lines.append(message_line(2, "冒充哈希的消息", platformMessageId=spelt))
        expect = {n: "message" for n in range(2, len(lines))}
        expect[len(lines)] = want
        corpus.add(f"ids-hash-{chat}.jsonl", "\n".join(lines).encode(), expect)


def build(root: Path) -> Corpus:
    corpus = Corpus(root)
    for generate in (truncations, encodings, nesting, control_characters, surrogate_escapes,
                     huge_fields, id_collisions):
        generate(corpus)
    return corpus


# ---- the check ----------------------------------------------------------------------------------
def line_no(origin: str, path: Path) -> int:
    assert origin.startswith(f"{path}:"), origin
    return int(origin[len(str(path)) + 1:])


def check(app: App, corpus: Corpus) -> None:
    ingestor = Ingestor(app.store, app.analyzer, app.settings, app.labels)
    report = IngestReport()
    events: dict[str, MessageEvent] = {}
    for case in corpus.cases:
        try:
            source = open_source(case.path, case.fmt)
            items = list(source)
        except SourceError as exc:
            assert case.refusable, f"{case.path.name}: refused: {exc}"
            assert str(exc).startswith(str(case.path)) and "\n" not in str(exc)
            continue
        per_line: dict[int, list[object]] = {}
        for item in items:
            if isinstance(item, Reject) and item.origin == str(case.path):
                per_line.setdefault(0, []).append(item)  # e.g. "文件为空"
                continue
            per_line.setdefault(line_no(item.origin, case.path), []).append(item)
        for n, want in case.lines.items():
            got = per_line.pop(n, [])
            assert len(got) == 1, (case.path.name, n, want, got)
            if want in ("message", "conflict"):
                assert isinstance(got[0], MessageEvent), (case.path.name, n, got[0])
            elif want == "reject":
                assert isinstance(got[0], Reject), (case.path.name, n, got[0])
                assert "\n" not in str(got[0]) and "\r" not in str(got[0])
        assert per_line == {} or (set(per_line) == {0} and not case.lines), (
            case.path.name, per_line)
        for item in items:
            # the account's own rows (and a group notice without a sender) are never stored
            if isinstance(item, MessageEvent) and not item.is_self and case.lines.get(
                    line_no(item.origin, case.path)) != "conflict":
                events.setdefault((item.chat, item.id), item)
        before = len(report.rejects)
        ingestor.ingest(source, report)
        assert len(report.rejects) - before == sum(isinstance(i, Reject) for i in items)
    ingestor.finish(report)

    # Every good message is stored once, under its (chat, id); a conflict is exactly a line
    # written as one.
    stored = {(m.chat_id, m.id): m for ms in app.store.messages_for().values() for m in ms}
    postgres = app.store.engine.dialect.name == "postgresql"
    conflicts = {c.origin for c in report.conflicts}
    assert all(c.reason.startswith("消息 id") for c in report.conflicts)
    for key, ev in events.items():
        assert key in stored, (ev.origin, key)
        # The message of this chat, not another's under the same id (PostgreSQL text holds
        # no NUL: it is stored as storage/db.py's pg_text makes it).
        want = pg_text(ev.text) if postgres and ev.text is not None else ev.text
        assert stored[key].text == want, (ev.origin, key)
    assert report.new == len(stored) == len(events) == app.store.counts()["messages"]
    assert conflicts == {f"{case.path}:{n}" for case in corpus.cases
                         for n, want in case.lines.items() if want == "conflict"}
    # Importing it all again adds nothing and loses nothing.
    again = IngestReport()
    for case in corpus.cases:
        try:
            ingestor.ingest(open_source(case.path, case.fmt), again)
        except SourceError:
            assert case.refusable
    assert again.new == 0
    assert app.store.counts()["messages"] == len(stored)
    assert {c.origin for c in again.conflicts} >= conflicts


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return build(tmp_path_factory.mktemp("corpus"))


def test_corpus_on_sqlite(corpus: Corpus, tmp_path: Path) -> None:
    check(App(Settings(db=f"sqlite:///{tmp_path / 'corpus.db'}")), corpus)


def test_corpus_on_postgresql(corpus: Corpus) -> None:
    with fresh_database(require_postgres()) as url:
        app = App(Settings(db=url))
        try:
            check(app, corpus)
        finally:
            app.store.engine.dispose()


def test_the_corpus_is_wide(corpus: Corpus) -> None:
    """What the corpus holds, so a generator that silently makes nothing is noticed."""
    names = [c.path.name.split("-", 1)[1] for c in corpus.cases]
    assert sum(n.startswith("cut.jsonl") for n in names) > 200
    assert sum(n.startswith("cut_utf8.csv") for n in names) > 80
    assert sum(n.startswith("enc-") for n in names) == 5 * len(BAD_BYTES)
    assert sum(n.startswith("deep-") for n in names) == 10
    assert sum(n.startswith("surrogates-") for n in names) == 2 * len(SURROGATE_ESCAPES)
    assert sum(n.startswith("ids-") for n in names) == 14
