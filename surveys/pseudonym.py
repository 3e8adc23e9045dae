"""The keyed pseudonym that stands for a respondent in exported answers.

A plain hash of a small integer id is reversed by hashing every id; a keyed HMAC is not,
as long as the key is kept apart from the data (the depersonalisation rules ask for exactly
that separation). The same respondent gets the same pseudonym in every wave and every
export made with the same key, so analysts can follow a panel without learning who it is.
"""

from __future__ import annotations

import hashlib
import hmac

#: 16 hex characters = 64 bits: collisions stay below one in a million up to ~6 million
#: respondents, while the column stays short enough to read.
PSEUDONYM_LENGTH = 16


class Pseudonymizer:
    """HMAC-SHA256(key, "respondent:<id>"), first 16 hex characters.

    The keyed state is prepared once and copied per respondent, which is several times
    faster than building a new HMAC for each of hundreds of thousands of respondents.
    """

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("a pseudonym key must not be empty")
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def __call__(self, respondent_id: int) -> str:
        mac = self._keyed.copy()
        mac.update(f"respondent:{respondent_id}".encode())
        return mac.hexdigest()[:PSEUDONYM_LENGTH]


def respondent_pseudonym(key: bytes, respondent_id: int) -> str:
    return Pseudonymizer(key)(respondent_id)
