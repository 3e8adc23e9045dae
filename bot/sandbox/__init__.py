"""Try CivicPulse without Telegram: a local Bot API stand-in and a chat in the browser."""
