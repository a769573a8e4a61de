"""The Wechaty sandbox gateway: the real Node puppet-service gateway over the mock puppet.

`scripts/wechaty-gateway/` (Node, exact pins, lockfile) serves a scripted 小禾优选 community on
loopback with an HTTP control channel. This module starts and drives it from Python: the test
suite's end-to-end tests and `siyu sandbox` (try the wechaty path without a WeChat account)
share it. It works from a source checkout, where scripts/ sits beside the packages.

`start_gateway(tmp_dir)` starts `gateway.mjs` on free loopback ports with its own TMPDIR and
returns a `Gateway`: `.endpoint` and `.token` for `WechatyTransport`, `.say()`, `.join()`,
`.sent()` over the control channel, `.restart()` on the same ports, `.kill()`, `.stop()`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GATEWAY_DIR = ROOT / "scripts" / "wechaty-gateway"
GATEWAY_SCRIPT = GATEWAY_DIR / "gateway.mjs"
START_TIMEOUT = 30.0
BOT = "wxid_5vxnh8gsibo5yx"  # 小禾助手, the account the bot runs as in the scripted community


class GatewayError(RuntimeError):
    """The gateway did not start, or refused a control request (its reason included)."""


def gateway_missing_reason() -> str | None:
    """Why the Node gateway cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (GATEWAY_DIR / "node_modules" / "wechaty-puppet-service").is_dir():
        return f"no node_modules: run `npm ci --prefix {GATEWAY_DIR.relative_to(ROOT)}`"
    return None


@dataclass
class Gateway:
    """A running gateway process and its control channel."""

    tmp_dir: Path
    token: str
    port: int = 0
    control_port: int = 0
    bot_id: str = BOT
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    starts: int = 0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    @property
    def log_path(self) -> Path:
        return self.tmp_dir / f"gateway-{self.starts}.log"

    # -- process ----------------------------------------------------------------------------

    def start(self) -> Gateway:
        """Start the process (first on free ports, later on the same ones) and wait for READY."""
        if self.process is not None and self.process.poll() is None:
            raise GatewayError("gateway already running")
        self.starts += 1
        env = {**os.environ, "TMPDIR": str(self.tmp_dir), "WECHATY_LOG": "warn"}
        cmd = ["node", str(GATEWAY_SCRIPT), "--port", str(self.port),
               "--control-port", str(self.control_port), "--token", self.token,
               "--exit-on-stdin-close"]
        out = self.log_path.open("wb")
        try:
            self.process = subprocess.Popen(cmd, cwd=GATEWAY_DIR, env=env, stdin=subprocess.PIPE,
                                            stdout=out, stderr=subprocess.STDOUT)
        finally:
            out.close()
        ready = self._wait_ready()
        self.port = int(ready["endpoint"].rsplit(":", 1)[1])
        self.control_port = int(ready["control"].rsplit(":", 1)[1])
        self.bot_id = ready["bot"]
        return self

    def _wait_ready(self) -> dict[str, Any]:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("READY "):
                    return dict(json.loads(line[len("READY "):]))
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.05)
        log = self.log_path.read_text(encoding="utf-8", errors="replace")
        self.kill()
        raise GatewayError(f"gateway did not become ready; its output:\n{log[-3000:]}")

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM and wait (the gateway exits cleanly); SIGKILL if it does not."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            self._close(proc)
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
        self._close(proc)

    def kill(self) -> None:
        """Drop the gateway hard (SIGKILL), as a crash would."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5)
        self._close(proc)

    def restart(self) -> Gateway:
        """A new process on the same ports, token and TMPDIR (after stop or kill)."""
        self.stop()
        return self.start()

    @staticmethod
    def _close(proc: subprocess.Popen[bytes] | None) -> None:
        if proc is not None and proc.stdin is not None and not proc.stdin.closed:
            proc.stdin.close()

    # -- control channel --------------------------------------------------------------------

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.control_url + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")
            raise GatewayError(f"{method} {path} → {exc.code}: {detail}") from None

    def say(self, sender: str, to: str | None, text: str, mentions: Sequence[str] = ()) -> str:
        """`sender` speaks to a room or a contact (None: the bot); returns the message id."""
        body: dict[str, Any] = {"from": sender, "text": text, "mentions": list(mentions)}
        if to is not None:
            body["to"] = to
        return str(self.request("POST", "/say", body)["id"])

    def join(self, room: str, member: str, inviter: str | None = None,
             name: str | None = None) -> None:
        """`member` joins `room`, invited by `inviter` (default: the owner); `name` creates one."""
        body: dict[str, Any] = {"room": room, "member": member}
        if inviter is not None:
            body["inviter"] = inviter
        if name is not None:
            body["name"] = name
        self.request("POST", "/join", body)

    def reset(self) -> None:
        """Back to the scripted community with an empty sent log (one gateway, many tests)."""
        self.request("POST", "/reset", {})

    def relogin(self, after_ms: int = 200) -> None:
        """Log the bot account out and back in `after_ms` later, keeping the connection."""
        self.request("POST", "/relogin", {"after_ms": after_ms})

    def sent(self, since: int = 0) -> list[dict[str, Any]]:
        """What the bot sent, oldest first: conversation, room/to, type, text, mentions, file."""
        return list(self.request("GET", f"/sent?since={since}")["sent"])

    def health(self) -> dict[str, Any]:
        return dict(self.request("GET", "/health"))

    def community(self) -> dict[str, Any]:
        return dict(self.request("GET", "/community"))


def start_gateway(tmp_dir: Path | str, token: str | None = None) -> Gateway:
    """Start a gateway whose TMPDIR and logs live in `tmp_dir`; the caller must `.stop()` it."""
    tmp = Path(tmp_dir)
    tmp.mkdir(parents=True, exist_ok=True)
    reason = gateway_missing_reason()
    if reason is not None:
        raise GatewayError(reason)
    return Gateway(tmp_dir=tmp, token=token or f"insecure_siyu_test_{os.getpid()}").start()
