"""Talking to the Bot API fast and within Telegram's limits: the one place for speed work.

A kept-alive HTTP/1.1 client and the aiogram session built on it, methods sent as plain
fields, response-type pinning, per-chat and global send limits, and the garbage-collector
tuning of a serving process. May import aiogram and the standard library; imports nothing
else from `bot` (handlers and waves use it, never the other way round), nor `storage` or
`surveys`.
"""
