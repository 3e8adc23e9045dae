"""Waves over time: opening and closing them on schedule, and sending their invitations.

The scheduler rebuilds its jobs from the database at every start; the broadcaster drains
the invitations outbox within Telegram's limits and records each send before it is made;
progress messages and the wave statistics report follow a wave as it runs. `when` reads
and shows administrators' dates in `TIMEZONE`. May import aiogram, `bot.telegram`, the
chat's texts and keyboards (an invitation is a chat message), `storage` and `surveys`;
never `bot.cli` or `bot.sandbox`. `when`, `stats_report` and `invitation_text` import no
aiogram: the command line uses them.
"""
