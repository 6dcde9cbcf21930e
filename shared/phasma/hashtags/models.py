"""The Hashtag shape of `GET /hashtags/{name}` (docs/api.md §F)."""

from __future__ import annotations

import re

from phasma.config import Limits
from phasma.models import CamelModel

# What a name may be in the path; it is looked up lowercased, as `extract_hashtags`
# stores `#Sunset` as `sunset`.
NAME_PATTERN = re.compile(rf"[A-Za-z0-9_]{{1,{Limits.HASHTAG_MAX_CHARS}}}")


class Hashtag(CamelModel):
    name: str
    post_count: int
    following: bool  # the viewer's; false anonymous
