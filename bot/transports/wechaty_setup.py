"""Loading python-wechaty, and what connecting to a gateway needs: errors, ports, backoff.

The workarounds below come from running the real client against a real Node gateway on
loopback (shared notes/wechaty.md):

* Python 3.11 rejects one of its dataclass defaults; giving `PuppetOptions` a `__hash__` before
  the import lets it load unchanged.
* It creates `./.wechaty` in the working directory at import time unless `CACHE_DIR` is set.
* Its login path refuses to start when port 5000 is taken: each connection gets an explicit free
  loopback port (nothing listens on it, since no wechaty plugins are used).
"""

from __future__ import annotations

import os
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTALL_HINT = "pip install 'siyu-companion[wechaty]'"
LOOPBACK = "127.0.0.1"


class WechatyNotInstalled(ImportError):
    """python-wechaty (or one of its pinned dependencies) cannot be imported."""


class WechatyTransportError(RuntimeError):
    """A problem retrying cannot fix, such as a token the gateway rejects."""


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "siyu-companion" / "wechaty"


def load_wechaty(cache_dir: Path | None = None) -> Any:
    """Import python-wechaty with the known workarounds applied; return the `wechaty` module.

    `CACHE_DIR` and `WECHATY_LOG` are only defaulted, never overridden, so an operator's own
    settings win. The library's loggers default to "error": at "info" they print every member
    message and the gateway token to stderr.
    """
    os.environ.setdefault("CACHE_DIR", str(cache_dir or _default_cache_dir()))
    os.environ.setdefault("WECHATY_LOG", "error")
    try:
        from wechaty_puppet.schemas.puppet import PuppetOptions

        if PuppetOptions.__hash__ is None:
            # A dataclass default of this type is "mutable" to Python 3.11 unless hashable.
            PuppetOptions.__hash__ = object.__hash__  # type: ignore[method-assign]
        with warnings.catch_warnings():
            # Its telnetlib import warns on every start; nothing a user of ours can act on.
            warnings.simplefilter("ignore", DeprecationWarning)
            import wechaty
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        if missing == "telnetlib":
            raise WechatyNotInstalled(
                "python-wechaty needs telnetlib, which Python 3.13 removed: use Python 3.11 or 3.12"
            ) from exc
        raise WechatyNotInstalled(
            f"the wechaty transport needs python-wechaty ({missing} is missing): {INSTALL_HINT}"
        ) from exc
    return wechaty


def free_loopback_port() -> int:
    """A port nothing listens on right now (python-wechaty insists on checking one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def split_endpoint(endpoint: str) -> tuple[str, int]:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"wechaty endpoint must be HOST:PORT, got {endpoint!r}")
    return host, int(port)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: `initial * factor**(n-1)` for the n-th consecutive failure, capped.

    No jitter: there is one client per gateway, so there is no herd to spread out, and tests
    can predict the schedule.
    """

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 60.0

    def delay(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        return float(min(self.cap, self.initial * self.factor ** (failures - 1)))
