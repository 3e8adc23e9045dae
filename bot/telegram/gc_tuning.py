"""Garbage-collector settings for the long-running bot.

Python's cyclic collector runs after every 700 new container objects, and every so often
walks *every* object the process holds: aiogram's hundreds of model classes and their
validators, the region catalogue, the loaded surveys — none of which ever becomes garbage.
Each answer allocates a few hundred short-lived objects (parsed updates, keyboards,
request state), so under load those full walks came often: the answer benchmark spent 15 of
the bot's 58 CPU seconds in the collector. Freezing what exists once the application is
built takes it out of every walk for good, and a larger first generation lets the
short-lived objects die by reference counting before a collection ever looks at them.
"""

from __future__ import annotations

import gc

#: New container objects between two young collections (Python's default is 700).
YOUNG_GENERATION = 20_000
#: Young collections per middle one, and middle ones per full one (defaults 10 and 10).
OLDER_GENERATIONS = (20, 20)


def tune_for_serving() -> None:
    """Call once everything long-lived is built, just before serving updates."""
    gc.collect()  # start-up's own garbage first: frozen, it would stay for good
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION, *OLDER_GENERATIONS)
