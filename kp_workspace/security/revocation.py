"""Browser sessions ended by signing out.

A session cookie is signed, not stored, so signing out alone cannot stop a
copied cookie.  Each session carries a random id; signing out records the id
here until the session would have timed out anyway, and the security policy
refuses recorded ids.  Old records are purged a batch at a time.
"""
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent

from .expiry import purge_expired

PURGE_BATCH = 100


class RevokedSessions(Persistent):
    def __init__(self):
        super().__init__()
        self._until = OOBTree()          # session id -> timestamp after which it is moot
        self._by_time = OOTreeSet()      # (timestamp, session id)

    def __len__(self):
        return len(self._until)

    def __contains__(self, session_id):
        return session_id in self._until

    def revoke(self, session_id, until, now):
        self.purge(now)
        if session_id and session_id not in self._until:
            self._until[session_id] = until
            self._by_time.add((until, session_id))

    def purge(self, now):
        return purge_expired(self._by_time, self._until, now, PURGE_BATCH)
