"""A local OpenAI-compatible endpoint that answers slowly, for bench_live.py --llm-delay.

It runs in a child process of its own (started with "spawn", so none of the bot's state is
copied into it), as a real local model server would: its threads never compete with the bot
for the interpreter, and what the bot measures is only its own waiting.
"""

from __future__ import annotations

import time
from typing import Any


class SlowLLM:
    """A local OpenAI-compatible endpoint in a child process: each answer after `delay`
    seconds, the user's text prefixed; `requests` counts what it was asked."""

    def __init__(self, delay: float) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # nothing of the bot's state in the child
        self.count = ctx.Value("i", 0)
        ports = ctx.Queue()
        self.process = ctx.Process(target=_serve_llm, args=(delay, ports, self.count),
                                   daemon=True)
        self.process.start()
        self.url = f"http://127.0.0.1:{ports.get(timeout=30)}"

    @property
    def requests(self) -> int:
        return int(self.count.value)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


def _serve_llm(delay: float, ports: Any, count: Any) -> None:
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            with count.get_lock():
                count.value += 1
            req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            time.sleep(delay)
            content = "【润色】" + req["messages"][-1]["content"]
            body = json.dumps({"choices": [{"message": {"role": "assistant",
                                                        "content": content}}]}).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the bot gave up on this one (its timeout)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ports.put(server.server_address[1])
    server.serve_forever()
