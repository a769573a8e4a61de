"""Optional LLM polish: rewrite a chosen script in a more natural tone, or leave it alone.

Off unless an endpoint is configured (`[llm] base_url` and `model` in siyu.toml, or
SIYU_LLM_BASE_URL / SIYU_LLM_MODEL / SIYU_LLM_API_KEY; the environment wins, like SIYU_DB).
Any OpenAI-compatible `/v1/chat/completions` endpoint works, a local one included.

The template is always a good answer on its own, so every failure (no endpoint, timeout,
HTTP error, an answer that is not the expected JSON, or one that lost a placeholder) returns
the template unchanged and logs why. A suggestion is never slower than `timeout` seconds.

Only the minimum leaves the machine: the one script and a style instruction. The member's
name goes out as the placeholder {name} and comes back filled in locally; member ids and any
run of 7+ digits (phone numbers, order numbers) go out as {keep1}, {keep2}… and are put back
the same way. An answer that drops or invents a placeholder is treated as malformed.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from handlers.settings import ConfigError, Settings, section

log = logging.getLogger("siyu.llm")

DEFAULT_TIMEOUT = 3.0
DEFAULT_STYLE = (
    "你是私域社群运营的文案助手。请把用户给的一段回复话术改写得更自然、亲切、口语化，"
    "像真人运营在微信里说话；意思、承诺和优惠信息保持不变，不要添加新的承诺，长度相近。"
    "花括号占位符（如 {name}、{keep1}）必须原样保留。只输出改写后的话术本身。"
)
_KEYS = {"enabled", "base_url", "model", "api_key", "timeout", "style"}
_ENV = {"base_url": "SIYU_LLM_BASE_URL", "model": "SIYU_LLM_MODEL", "api_key": "SIYU_LLM_API_KEY"}
# 7+ digits, allowing the separators people write in phone numbers: 138-1234-5678, 138 1234 5678.
_DIGITS_RE = re.compile(r"\d(?:[\s-]?\d){6,}")
_PLACEHOLDER_RE = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True, slots=True)
class LlmConfig:
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    style: str = DEFAULT_STYLE
    enabled: bool = True

    @property
    def active(self) -> bool:
        return self.enabled and bool(self.base_url) and bool(self.model)


def llm_config(settings: Settings, env: Mapping[str, str] | None = None) -> LlmConfig:
    """The [llm] table of siyu.toml, overridden by SIYU_LLM_* variables; checked."""
    env = os.environ if env is None else env
    raw = section(settings, "llm")
    where = f"{settings.source}: [llm]"
    for key in raw:
        if key not in _KEYS:
            raise ConfigError(f"{where} 未知配置项 {key}，可用: {', '.join(sorted(_KEYS))}")
    values: dict[str, Any] = {}
    for key in ("base_url", "model", "api_key", "style"):
        value = env.get(_ENV[key]) if key in _ENV else None
        value = value or raw.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where} {key} 必须是字符串")
        if value:
            values[key] = value
    timeout = raw.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"{where} timeout 必须是正数（秒）")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where} enabled 必须是 true 或 false")
    return LlmConfig(timeout=float(timeout), enabled=enabled, **values)


@dataclass(frozen=True, slots=True)
class Polished:
    text: str
    polished: bool
    # why the template was kept: unset | timeout | http_error | malformed; None when polished
    fallback: str | None = None


def mask(text: str, name: str | None = None, secrets: Iterable[str] = ()
         ) -> tuple[str, dict[str, str]]:
    """Replace the name, ids and long digit runs by placeholders; return the restore map."""
    restore: dict[str, str] = {}
    out = text
    if name:
        if name in out:
            restore["{name}"] = name
        out = out.replace(name, "{name}")
    n = 0

    def keep(value: str) -> str:
        nonlocal n
        n += 1
        token = f"{{keep{n}}}"
        restore[token] = value
        return token

    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        if secret in out:
            out = out.replace(secret, keep(secret))
    out = _DIGITS_RE.sub(lambda m: keep(m.group(0)), out)
    return out, restore


def _unmask(text: str, restore: Mapping[str, str]) -> str:
    for token, value in restore.items():
        text = text.replace(token, value)
    return text


class Polisher:
    """Rewrites one script through the configured endpoint; falls back to the template.

    Two ways in over one request and one answer check: `polish` blocks (the CLI, which waits
    for its answer anyway) and `apolish` awaits (the live bot, where a blocking call held every
    group's messages for as long as the endpoint took: bot/polish.py). Each keeps one client
    for the polisher's life, so a burst of scripts reuses the connection instead of opening
    one per script.
    """

    def __init__(self, config: LlmConfig, client: httpx.Client | None = None,
                 aclient: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._client = client
        self._aclient = aclient

    def polish(self, text: str, *, name: str | None = None,
               secrets: Iterable[str] = ()) -> Polished:
        request = self._request(text, name, secrets)
        if isinstance(request, Polished):
            return request
        if self._client is None:
            self._client = httpx.Client()
        try:
            resp = self._client.post(request.url, json=request.body, headers=request.headers,
                                     timeout=httpx.Timeout(self.config.timeout))
        except httpx.HTTPError as exc:
            return _failed(text, exc, self.config.timeout)
        return _checked(resp, text, request)

    async def apolish(self, text: str, *, name: str | None = None,
                      secrets: Iterable[str] = ()) -> Polished:
        """`polish` without blocking the event loop; the client belongs to the running loop."""
        request = self._request(text, name, secrets)
        if isinstance(request, Polished):
            return request
        if self._aclient is None:
            self._aclient = httpx.AsyncClient()
        try:
            resp = await self._aclient.post(request.url, json=request.body,
                                            headers=request.headers,
                                            timeout=httpx.Timeout(self.config.timeout))
        except httpx.HTTPError as exc:
            return _failed(text, exc, self.config.timeout)
        return _checked(resp, text, request)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        if self._aclient is not None:
            await self._aclient.aclose()
            self._aclient = None

    def _request(self, text: str, name: str | None, secrets: Iterable[str]
                 ) -> _Request | Polished:
        cfg = self.config
        if not cfg.active:
            log.info("LLM polish skipped: no endpoint configured")
            return Polished(text, False, "unset")
        masked, restore = mask(text, name, secrets)
        body = {
            "model": cfg.model,
            "messages": [{"role": "system", "content": cfg.style},
                         {"role": "user", "content": masked}],
            "temperature": 0.7,
        }
        headers = {"Authorization": f"Bearer {cfg.api_key}"} if cfg.api_key else {}
        base = (cfg.base_url or "").rstrip("/")
        # OpenAI-style base URLs end in /v1; a bare host gets it added.
        url = base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")
        return _Request(url, body, headers, masked, restore)


@dataclass(frozen=True, slots=True)
class _Request:
    url: str
    body: dict[str, Any]
    headers: dict[str, str]
    masked: str
    restore: dict[str, str]


def _failed(text: str, exc: httpx.HTTPError, timeout: float) -> Polished:
    if isinstance(exc, httpx.TimeoutException):
        log.warning("LLM polish timed out after %.1fs; template kept", timeout)
        return Polished(text, False, "timeout")
    log.warning("LLM polish failed (%s); template kept", type(exc).__name__)
    return Polished(text, False, "http_error")


def _checked(resp: httpx.Response, text: str, request: _Request) -> Polished:
    if resp.status_code != 200:
        log.warning("LLM polish got HTTP %s; template kept", resp.status_code)
        return Polished(text, False, "http_error")
    answer = _answer_text(resp)
    if answer is None or not _keeps_placeholders(answer, request.masked, len(text)):
        log.warning("LLM polish answer malformed; template kept")
        return Polished(text, False, "malformed")
    return Polished(_unmask(answer, request.restore), True)


def _answer_text(resp: httpx.Response) -> str | None:
    try:
        content = resp.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    if not isinstance(content, str):
        return None
    content = content.strip().strip("\"“”「」")
    return content or None


def _keeps_placeholders(answer: str, sent: str, original_len: int) -> bool:
    """Same placeholders as sent, none invented, and not a runaway essay."""
    if len(answer) > max(200, 3 * original_len):
        return False
    return sorted(_PLACEHOLDER_RE.findall(answer)) == sorted(_PLACEHOLDER_RE.findall(sent))


def make_polisher(settings: Settings, env: Mapping[str, str] | None = None
                  ) -> Polisher | None:
    """A polisher when an endpoint is configured, else None (the default: off)."""
    cfg = llm_config(settings, env)
    return Polisher(cfg) if cfg.active else None
