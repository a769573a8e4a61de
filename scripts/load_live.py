"""The live-path load run the privacy/reliability work asks for: 1,000 messages per second for
60 seconds through the real bot and a fake transport, bounded in count and time.

    python scripts/load_live.py [--rate 1000] [--seconds 60] [other bench_live options]

It is `scripts/bench_live.py` with these defaults (one implementation, two questions): it
reports p50/p99 message→suggestion latency, achieved throughput, peak memory, and whether the
number of stored messages matches the number fed minus re-deliveries. When the bot cannot keep
up, the backlog and the messages left at the drain limit are reported, not hidden.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_live import main

if __name__ == "__main__":
    args = sys.argv[1:]
    defaults = [] if "--rate" in args else ["--rate", "1000"]
    defaults += [] if "--seconds" in args else ["--seconds", "60"]
    raise SystemExit(main([*defaults, *args]))
