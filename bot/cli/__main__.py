"""`python -m bot.cli`: the `siyu` command without the installed script (tests, a checkout)."""

from bot.cli import main

raise SystemExit(main())
