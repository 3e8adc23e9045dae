"""Telegram edge of CivicPulse: settings, CLI, handlers, scheduler and broadcaster."""
