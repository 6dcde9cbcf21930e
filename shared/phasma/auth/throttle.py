"""Login throttle (docs/api.md §6.3 with docs/api.md §A.4, §A.5).

Fixed 15-minute windows per client address (5) and per email (50). An attempt
reserves its place in both counters *before* the password is verified, in one
server-side script, so concurrent attempts can never overrun a limit. The
verdict then settles the reservation:

- wrong password: the reservation stays (it is the failure);
- right password: the email counter is deleted, and the address counter gives
  back this attempt only. The failures already in it stay until its window
  expires, so an attacker's own successful login no longer clears them, while
  people logging in behind one address (an office, a phone carrier's NAT) do not
  use up each other's attempts;
- no verdict (the database or the hashing pool failed): both are given back,
  since the attempt learnt nothing.

An attempt from a trusted device (a valid `device` cookie naming the email's
account) counts on that device's own counter instead of the email's, so
strangers' failures against an email never lock its owner out of a known device.

A cache failure always fails open: the throttle slows attackers, it must not
lock everyone out when the cache restarts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Literal

import redis
from prometheus_client import Counter

from phasma.cache import ScriptRunner
from phasma.config import Limits

log = logging.getLogger(__name__)

BLOCKS = Counter("phasma_login_throttle_blocks_total", "Logins refused by the throttle", ["reason"])

# KEYS[1] the address counter, KEYS[2] the email's or the device's; ARGV: their limits
# and the window in seconds. Both are checked before either is taken, so a refused
# attempt costs nothing. Returns {0, 0} when both were taken, else {1 or 2: the
# counter that blocks, seconds left in its window}.
RESERVE_LUA = """
local window = tonumber(ARGV[3])
for i = 1, 2 do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= tonumber(ARGV[i]) then
    local ttl = redis.call('TTL', KEYS[i])
    if ttl < 0 then
      -- A counter without an expiry would block for ever: give it a window.
      redis.call('EXPIRE', KEYS[i], window)
      ttl = window
    end
    return {i, ttl}
  end
end
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then
    redis.call('EXPIRE', KEYS[i], window)
  end
end
return {0, 0}
"""

# KEYS: the counters to give one attempt back to, ARGV[1] of them; the rest are
# deleted. A counter given back to zero is deleted, so the next failure starts a
# fresh window. (A reservation whose window ended during the verify gives its
# attempt back to the next window: at most one attempt per verdict, and harmless.)
SETTLE_LUA = """
local release = tonumber(ARGV[1])
for i = 1, #KEYS do
  if i <= release then
    local count = tonumber(redis.call('GET', KEYS[i]) or '0')
    if count <= 1 then
      redis.call('DEL', KEYS[i])
    else
      redis.call('DECR', KEYS[i])
    end
  else
    redis.call('DEL', KEYS[i])
  end
end
return 0
"""

Reason = Literal["ip", "email", "device"]


@dataclass(frozen=True)
class Reservation:
    """One attempt's place in the counters, or why it was refused."""

    address_key: str
    email_key: str
    device_key: str | None  # set when the attempt came from a trusted device
    taken: bool  # False when refused or when the cache failed (fail open)
    blocked: Reason | None = None
    retry_after_seconds: int = 0

    @property
    def counted_key(self) -> str:
        """The second counter this attempt was checked against: the device's or the email's."""
        return self.device_key or self.email_key


class LoginThrottle:
    """Counters `login:ip:{ip}`, `login:email:{email}` and `login:device:{id}` in the cache."""

    def __init__(self, cache: redis.Redis | None, *, connection_lifetime_seconds: float) -> None:
        self._reserve: ScriptRunner | None = None
        self._settle: ScriptRunner | None = None
        if cache is not None:
            self._reserve = ScriptRunner(cache, RESERVE_LUA, connection_lifetime_seconds)
            self._settle = ScriptRunner(cache, SETTLE_LUA, connection_lifetime_seconds)

    def reserve(self, ip: str, email: str, *, device: str | None = None) -> Reservation:
        """Check and take this attempt's place before any password is verified.

        `device` is the id of a trusted device cookie that names this email's
        account: the attempt then counts on the device's counter, not the email's.
        """
        reservation = Reservation(
            address_key=f"login:ip:{ip}",
            email_key=f"login:email:{email}",
            device_key=f"login:device:{device}" if device else None,
            taken=False,
        )
        if self._reserve is None:
            return reservation
        second_limit = (
            Limits.LOGIN_THROTTLE_DEVICE_LIMIT if device else Limits.LOGIN_THROTTLE_EMAIL_LIMIT
        )
        try:
            blocking, ttl = self._reserve(
                [reservation.address_key, reservation.counted_key],
                [
                    Limits.LOGIN_THROTTLE_IP_LIMIT,
                    second_limit,
                    Limits.LOGIN_THROTTLE_WINDOW_SECONDS,
                ],
            )
        except redis.RedisError as error:
            log.warning("login throttle unavailable (%s); failing open", error)
            return reservation
        if not int(blocking):
            return replace(reservation, taken=True)
        reason: Reason = "ip" if int(blocking) == 1 else ("device" if device else "email")
        BLOCKS.labels(reason).inc()
        return replace(reservation, blocked=reason, retry_after_seconds=max(1, int(ttl)))

    def succeeded(self, reservation: Reservation) -> None:
        """The password was right: give the address its attempt back, forget the email
        (and device) failures."""
        release = [reservation.address_key] if reservation.taken else []
        forget = [reservation.email_key]
        if reservation.device_key:
            forget.append(reservation.device_key)
        self._run_settle(release, forget)

    def forget_email(self, email: str) -> None:
        """Clear the per-email counter (a password reset proved the mailbox's owner)."""
        self._run_settle([], [f"login:email:{email}"])

    def cancel(self, reservation: Reservation) -> None:
        """No verdict was reached (a dependency failed): give back every counter taken."""
        if reservation.taken:
            self._run_settle([reservation.address_key, reservation.counted_key], [])

    def _run_settle(self, release: list[str], forget: list[str]) -> None:
        if self._settle is None:
            return
        try:
            self._settle([*release, *forget], [len(release)])
        except redis.RedisError as error:
            log.warning("login throttle could not settle an attempt (%s)", error)

    def close(self) -> None:
        for script in (self._reserve, self._settle):
            if script is not None:
                script.close()
