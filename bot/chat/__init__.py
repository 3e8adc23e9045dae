"""What people see and press: routers by audience, middlewares, views and texts.

`handlers/` holds one router per audience or concern (onboarding, questionnaire, privacy,
results, admin, the wave wizard, fallbacks), `middlewares/` one class per file; beside
them typed callback data, keyboards and message views, the Russian and English texts,
filters and dialog states, and the press lane that routes question presses straight to
their handler. May import aiogram, `bot.telegram`, `bot.waves`, `bot.settings`, `storage`
and `surveys`; never `bot.cli` or `bot.sandbox`. What the command line's survey check
renders — `texts`, `question_view`, `results_view`, `callback_packing`, `message_limits` —
imports no aiogram, so that `civicpulse surveys validate` starts at once.
"""
