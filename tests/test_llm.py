"""LLM polish against a fake OpenAI-compatible server on 127.0.0.1: the happy path, every
fallback (unset, slow, 500, malformed), and what is — and is not — sent."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.llm import LlmConfig, Polisher, llm_config, make_polisher, mask
from handlers.settings import ConfigError
from handlers.suggest import suggest_for_member
from tests.suggest_fixtures import NOW, Community, ago

PHONE = "13812345678"


class FakeLLM(ThreadingHTTPServer):
    """Answers /v1/chat/completions according to `mode`; remembers every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.delay = 1.5  # seconds the "slow" mode takes, then answers as "ok" does
        self.requests: list[dict[str, Any]] = []
        # "gate" mode holds every answer until the test opens the gate (or `delay` passes,
        # counted in `gate_timeouts`): what happens before the answers is then an order of
        # events, not a race against a clock
        self.gate = threading.Event()
        self.gate_timeouts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeLLM

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        req = json.loads(body)
        self.server.requests.append({"path": self.path, "headers": dict(self.headers),
                                     "body": req, "raw": body.decode("utf-8")})
        mode = self.server.mode
        if mode == "slow":
            time.sleep(self.server.delay)
        if mode == "gate" and not self.server.gate.wait(self.server.delay):
            self.server.gate_timeouts += 1
        if mode == "500":
            self._send(500, b'{"error": "boom"}')
            return
        if mode == "garbage":
            self._send(200, b"<html>not json</html>")
            return
        if mode == "no_choices":
            self._send(200, b'{"id": "x", "choices": []}')
            return
        user = req["messages"][-1]["content"]
        if mode == "drops_placeholder":
            content = "您好呀，马上帮您处理～"
        else:
            content = "【润色】" + user.replace("我", "咱")
        self._send(200, json.dumps({"choices": [{"message": {"role": "assistant",
                                                             "content": content}}]}).encode())

    def _send(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    server = FakeLLM()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def polisher(fake: FakeLLM, timeout: float = 0.5, base: str | None = None) -> Polisher:
    return Polisher(LlmConfig(base_url=base or f"{fake.url}/v1", model="tiny",
                              api_key="sk-test", timeout=timeout))


TEXT = f"朵朵妈，奶粉的优惠我私聊发你，有问题打 {PHONE} 找我～"


def test_polish_rewrites_and_sends_only_the_masked_script(fake: FakeLLM) -> None:
    out = polisher(fake).polish(TEXT, name="朵朵妈", secrets=["wxid_duoduo"])
    assert out.polished and out.fallback is None
    assert out.text.startswith("【润色】") and "朵朵妈" in out.text and PHONE in out.text
    (req,) = fake.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer sk-test"
    assert req["body"]["model"] == "tiny"
    assert [m["role"] for m in req["body"]["messages"]] == ["system", "user"]
    sent = req["raw"]
    assert PHONE not in sent and "朵朵妈" not in sent and "wxid" not in sent
    assert "{name}" in req["body"]["messages"][1]["content"]


def test_bare_host_gets_the_v1_path(fake: FakeLLM) -> None:
    assert polisher(fake, base=fake.url).polish("你好").polished
    assert fake.requests[0]["path"] == "/v1/chat/completions"


@pytest.mark.parametrize(("mode", "reason"), [
    ("slow", "timeout"), ("500", "http_error"), ("garbage", "malformed"),
    ("no_choices", "malformed"), ("drops_placeholder", "malformed"),
])
def test_every_failure_falls_back_to_the_template(fake: FakeLLM, mode: str, reason: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    fake.mode = mode
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="siyu.llm"):
        out = polisher(fake, timeout=0.3).polish(TEXT, name="朵朵妈")
    assert time.monotonic() - started < 1.2  # never waits for the slow server
    assert out.text == TEXT and not out.polished and out.fallback == reason
    assert any("template kept" in r.getMessage() for r in caplog.records)
    assert PHONE not in fake.requests[0]["raw"]


def test_unreachable_endpoint_falls_back() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = Polisher(LlmConfig(base_url=f"http://127.0.0.1:{port}", model="m", timeout=0.5))
    out = p.polish("你好")
    assert out.text == "你好" and out.fallback == "http_error"


def test_unset_endpoint_is_off_and_sends_nothing(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(None, "sqlite:///x.db")
    assert make_polisher(settings, env={}) is None
    with caplog.at_level(logging.INFO, logger="siyu.llm"):
        out = Polisher(LlmConfig()).polish("你好")
    assert out == out.__class__("你好", False, "unset")
    assert any("no endpoint" in r.getMessage() for r in caplog.records)


def test_config_from_toml_and_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "siyu.toml"
    cfg.write_text('[llm]\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "a"\ntimeout = 1.5\n',
                   encoding="utf-8")
    settings = load_settings(str(cfg))
    c = llm_config(settings, env={})
    assert (c.base_url, c.model, c.timeout, c.active) == ("http://127.0.0.1:9/v1", "a", 1.5,
                                                         True)
    env = {"SIYU_LLM_MODEL": "b", "SIYU_LLM_API_KEY": "k"}
    c = llm_config(settings, env=env)
    assert (c.model, c.api_key) == ("b", "k")
    assert llm_config(load_settings(None), env={}).timeout == 3.0
    cfg.write_text('[llm]\nbase_url = "http://127.0.0.1:9"\nmodel = "a"\nenabled = false\n',
                   encoding="utf-8")
    assert make_polisher(load_settings(str(cfg)), env={}) is None
    cfg.write_text('[llm]\nmodle = "a"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="未知配置项 modle"):
        llm_config(load_settings(str(cfg)), env={})
    cfg.write_text('[llm]\ntimeout = 0\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="timeout"):
        llm_config(load_settings(str(cfg)), env={})


def test_mask_scrubs_ids_names_and_long_digit_runs() -> None:
    masked, restore = mask("小王你好，电话 138-1234-5678，订单 20261120001，wxid_abc 是你吗？"
                           "3 盒 99 元", name="小王", secrets=["wxid_abc"])
    assert "138" not in masked and "20261120001" not in masked and "wxid_abc" not in masked
    assert "小王" not in masked and masked.startswith("{name}你好")
    assert "3 盒 99 元" in masked  # short numbers are the offer, not personal data
    assert set(restore) == {"{name}", "{keep1}", "{keep2}", "{keep3}"}


def test_suggestions_use_the_polish_and_keep_the_template(fake: FakeLLM,
                                                         tmp_path: Path) -> None:
    c = Community(tmp_path, f'[llm]\nbase_url = "{fake.url}"\nmodel = "tiny"\ntimeout = 2\n')
    c.say("wxid_138001", "大家好", ago(30), "小王")
    c.say("wxid_138001", "这款奶粉的成分安全吗？我电话13900001111", ago(hours=1))
    c.commit()
    # The bot hands the use case the polisher `[llm]` configures (bot/routers/context.py).
    polish = make_polisher(c.settings, env={})
    (v,) = suggest_for_member(c.store, c.settings, c.labels, c.member("wxid_138001"), NOW,
                              polisher=polish)
    assert v.row.polished and v.row.text.startswith("【润色】")
    assert "【润色】" not in v.row.template_text and "小王" in v.row.text
    assert v.to_json()["polished"] is True
    (req,) = fake.requests  # only the chosen script, not the alternatives
    assert "wxid" not in req["raw"] and "138001" not in req["raw"]
    assert "13900001111" not in req["raw"] and "小王" not in req["raw"]
    # The server going down later never breaks suggestions.
    fake.mode = "500"
    c.say("wxid_138001", "辅食机好用吗？", NOW)
    c.commit()
    (w,) = suggest_for_member(c.store, c.settings, c.labels, c.member("wxid_138001"),
                              NOW.replace(minute=5), polisher=polish)
    assert not w.row.polished and w.row.text == w.row.template_text
