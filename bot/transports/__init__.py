"""Transports: where live events come from and where replies go.

A transport only translates: platform payloads → `handlers.events` types, and `send_*` calls →
platform API calls. Nothing platform-specific passes beyond it (nonebot2's adapter rule).
"""
