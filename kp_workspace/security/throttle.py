"""Throttling of failed sign-ins, per login.

After ``max_failures`` failed attempts for one login within ``window`` seconds,
that login is locked for ``lockout`` seconds: even the right password is
refused, with a clear message, until the time is up.  Counting is per login
(whether or not it exists) so the lock does not reveal which logins exist.
The state is in the database, so every process behind a load balancer shares it.
"""
import datetime

from BTrees.OOBTree import OOBTree
from persistent import Persistent

from ..records import Record


class _Attempts(Record):
    def __init__(self, first, count, locked_until=None):
        self.first = first
        self.count = count
        self.locked_until = locked_until


class LoginThrottle(Persistent):
    def __init__(self):
        super().__init__()
        self._by_login = OOBTree()

    @staticmethod
    def _key(login):
        return (login or '').strip().lower()[:100]

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
