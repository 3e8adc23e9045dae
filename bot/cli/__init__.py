"""The `civicpulse` command line: `main` parses, one module per command group acts.

A group module's top level imports only what its parser needs (argparse, settings); what
a command does is imported when it runs, so `civicpulse wave list` or `export` never loads
aiogram. May import `storage`, `surveys`, `bot.settings`, `bot.waves` modules free of
aiogram at any time, and the bot itself (`bot.app`, `bot.sandbox`) only inside the
commands that serve Telegram (`run`, `sandbox`, `start`). Nothing else imports this room.
"""
