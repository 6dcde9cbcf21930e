"""The shape of a single-use mail token (docs/api.md §B): 43 base64url characters.

Below the slices: the `mail` slice mints and spends the tokens (`phasma.mail.tokens`),
and the site refuses a link whose token could never be one before it calls the backend.
"""

from __future__ import annotations

import re

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def is_well_formed(token: object) -> bool:
    return isinstance(token, str) and _TOKEN_SHAPE.fullmatch(token) is not None
