"""Chat-command routers, one per feature; bot/runner.py includes them in one ordered place."""
