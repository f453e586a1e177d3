"""Throttling of failed attempts: sign-ins (per login and address) and signing PINs.

Sign-ins (:class:`SignInThrottle`) are counted twice:

* per login **and client address**: after ``max_failures`` failed attempts for
  one login from one address within ``window`` seconds, that address is refused
  for that login for ``lockout`` seconds (429), even with the right password.
  A stranger guessing from elsewhere therefore cannot lock the real user out.
* per login across all addresses: once the login has had ``max_failures``
  failures in the window, every further attempt on it, from anywhere, waits a
  delay that doubles with each failure up to a bound.  Guessing spread over
  many addresses is slowed down, and the real user still gets in, a few seconds
  later at worst.

Counting is by login whether or not it exists, so the answers reveal nothing
about which logins exist.  A success clears the login's counts.  The state is
in the database, so every process behind a load balancer shares it.

Signing PINs (:class:`LoginThrottle`) are only ever tried by the signed-in
signer, so there a lock per signer is right.
"""
import datetime

from BTrees.OOBTree import OOBTree
from persistent import Persistent

from ..records import Record

_SEP = '\n'  # (neither a login nor an address contains it)


class _Attempts(Record):
    def __init__(self, first, count, locked_until=None):
        self.first = first
        self.count = count
        self.locked_until = locked_until


def _key(login):
    return (login or '').strip().lower()[:100]


class LoginThrottle(Persistent):
    """Failures per name; ``max_failures`` within ``window`` lock the name for ``lockout``."""

    def __init__(self):
        super().__init__()
        self._by_login = OOBTree()

    _key = staticmethod(_key)

    def locked_for(self, login, now):
        """Seconds until ``login`` may try again, or 0."""
        record = self._by_login.get(self._key(login))
        if record is None or record.locked_until is None or record.locked_until <= now:
            return 0
        return int((record.locked_until - now).total_seconds()) + 1

    def failed(self, login, now, max_failures, window, lockout):
        """Count a failed attempt.  :returns: True when this attempt locked the login."""
        key = self._key(login)
        record = self._by_login.get(key)
        if record is None or (now - record.first).total_seconds() > window:
            record = _Attempts(now, 0)
        record = _Attempts(record.first, record.count + 1, record.locked_until)
        locked = record.count >= max_failures
        if locked:
            record = _Attempts(now, 0, now + datetime.timedelta(seconds=lockout))
        self._by_login[key] = record
        return locked

    def succeeded(self, login):
        self._by_login.pop(self._key(login), None)


class SignInThrottle(Persistent):
    """Failed sign-ins, per login and address (refusal) and per login (delay).

    ``limits`` everywhere below is the deployment's
    :class:`~kp_workspace.settings.WorkspaceSettings` (``login_max_failures``,
    ``login_window``, ``login_lockout``, ``login_delay_ms``, ``login_max_delay_ms``).
    """

    def __init__(self):
        super().__init__()
        self._by_address = OOBTree()   # 'login\naddress' -> _Attempts (with its lock)
        self._by_login = OOBTree()     # 'login' -> _Attempts across all addresses

    @staticmethod
    def _pair(login, address):
        return _key(login) + _SEP + (address or '')[:64]

    def refused_for(self, login, address, now):
        """Seconds until ``address`` may try ``login`` again, or 0."""
        record = self._by_address.get(self._pair(login, address))
        if record is None or record.locked_until is None or record.locked_until <= now:
            return 0
        return int((record.locked_until - now).total_seconds()) + 1

    def delay_for(self, login, now, limits):
        """Seconds every attempt on ``login`` waits now (0 until it has failed often)."""
        record = self._by_login.get(_key(login))
        if record is None or (now - record.first).total_seconds() > limits.login_window:
            return 0.0
        over = record.count - limits.login_max_failures
        if over < 0:
            return 0.0
        delay_ms = min(limits.login_max_delay_ms, limits.login_delay_ms * 2 ** min(over, 30))
        return delay_ms / 1000.0

    def failed(self, login, address, now, limits):
        """Count a failed attempt of ``login`` from ``address``.

        :returns: True when this attempt made the address refused for the login.
        """
        window = limits.login_window
        total = self._by_login.get(_key(login))
        if total is None or (now - total.first).total_seconds() > window:
            total = _Attempts(now, 0)
        self._by_login[_key(login)] = _Attempts(total.first, total.count + 1)

        pair = self._pair(login, address)
        record = self._by_address.get(pair)
        if record is None or (record.locked_until is None
                              and (now - record.first).total_seconds() > window):
            record = _Attempts(now, 0)
        elif record.locked_until is not None and record.locked_until <= now:
            record = _Attempts(now, 0)
        record = _Attempts(record.first, record.count + 1, record.locked_until)
        refused = record.count >= limits.login_max_failures and record.locked_until is None
        if refused:
            record = _Attempts(record.first, record.count,
                               now + datetime.timedelta(seconds=limits.login_lockout))
        self._by_address[pair] = record
        self._forget_stale(login, now, window, keep=pair)
        return refused

    def _forget_stale(self, login, now, window, keep):
        # Addresses whose window and lock are over count for nothing: dropped,
        # so a login tried from many addresses keeps a bounded register.
        prefix = _key(login) + _SEP
        stale = [k for k, r in self._by_address.items(min=prefix, max=prefix + '\uffff')
                 if k != keep and (r.locked_until or r.first) <= now
                 and (now - r.first).total_seconds() > window]
        for k in stale:
            del self._by_address[k]

    def succeeded(self, login, address):
        """The right password from ``address``: the login's counts start again."""
        self._by_login.pop(_key(login), None)
        self._by_address.pop(self._pair(login, address), None)

    @classmethod
    def from_login_throttle(cls, old):
        """A new throttle carrying an older release's per-login counts.

        The older release locked a login for everyone; those locks are dropped
        (they are what let a stranger lock a user out); the failure counts
        are kept as the logins' counts across all addresses.
        """
        new = cls()
        for login, record in (old._by_login.items() if old is not None else ()):
            if record.count:
                new._by_login[login] = _Attempts(record.first, record.count)
        return new
