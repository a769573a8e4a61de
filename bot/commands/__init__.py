"""Feature subcommands of `siyu`, discovered at start-up.

Each module here has `ORDER: int` (its place in `siyu --help`) and `register(subparsers)`,
which adds its parsers and sets `run=<function(args, settings) -> int>` on each. Modules keep
heavy imports inside their run functions so `siyu --help` stays instant.
"""
