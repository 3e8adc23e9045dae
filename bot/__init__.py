"""The Telegram edge of CivicPulse, in rooms by job.

At this level only the application's assembly: `settings` (what the operator configures),
`app` (one running bot: database, Bot API client, dispatcher, scheduler, broadcaster),
`dispatcher` (the routers and middlewares in their order), `webhook` (serving updates
behind a proxy), and the process plumbing that start-up needs (`logging_setup`, which
keeps the token out of logs, and `stop_request`, a SIGTERM caught before serving begins).
The rooms: `cli/` the command line, `telegram/` the Bot API transport, `chat/` what people
see and press, `waves/` scheduling and sending invitations, `sandbox/` a local stand-in
for Telegram. The domain (`surveys`) and the database (`storage`) never import from here.
"""
