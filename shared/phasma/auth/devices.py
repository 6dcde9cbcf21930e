"""The device a login comes from, as the signed `device` cookie names it (docs/api.md §A.5).

Below the slices: the login and password-reset actions take a `DeviceCookie` without
knowing it travelled as a cookie (`phasma.http.cookies` signs, reads and sets it).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class DeviceCookie:
    """A verified device cookie: the account it names and this device's own id.

    It holds no secret: the account's public id, when it was issued and a random
    device id (which names the device's login-throttle counter), signed.
    """

    user_id: UUID
    issued: int
    device_id: str
