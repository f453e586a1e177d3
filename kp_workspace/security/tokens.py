"""API bearer tokens: random, stored only as a keyed hash, expiring, revocable.

A token is ``kpw_`` + 32 random bytes (URL-safe base64).  The store keeps
HMAC-SHA256(key, token), so a copy of the database does not yield usable tokens,
and a request is checked with one HMAC and one BTree lookup, not a password
hash.  A token also carries its user's ``epoch`` when issued: resetting the
password or deactivating the user ends every token at once.
"""
import datetime
import hashlib
import hmac
import secrets

from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent

from ..records import Record

from .expiry import purge_expired

PREFIX = 'kpw_'
PURGE_BATCH = 100


def token_key(secret):
    """The HMAC key for tokens, derived from the deployment secret."""
    return hashlib.sha256(b'kp_workspace.api-token\0' + secret.encode()).digest()


def digest(key, token):
    return hmac.new(key, token.encode('utf-8', 'replace'), hashlib.sha256).hexdigest()


class TokenRecord(Record):
    """What the store knows of one token (never the token itself)."""

    def __init__(self, login, epoch, issued, expires, client):
        self.login = login
        self.epoch = epoch
        self.issued = issued
        self.expires = expires
        self.client = client


class TokenStore(Persistent):
    def __init__(self):
        super().__init__()
        self._by_digest = OOBTree()
        self._by_expiry = OOTreeSet()  # (expires timestamp, digest), for purging

    def __len__(self):
        return len(self._by_digest)

    def issue(self, key, user, lifetime, client, now=None):
        """Issue a token for ``user`` valid for ``lifetime`` seconds.

        :returns: ``(token, record)``; the token is shown to the client once and not stored.
        """
        now = now or datetime.datetime.now(datetime.timezone.utc)
        self.purge_expired(now)
        token = PREFIX + secrets.token_urlsafe(32)
        record = TokenRecord(user.login, user.epoch, now,
                             now + datetime.timedelta(seconds=lifetime), client)
        d = digest(key, token)
        self._by_digest[d] = record
        self._by_expiry.add((record.expires.timestamp(), d))
        return token, record

    def lookup(self, key, token, now=None):
        """The live :class:`TokenRecord` for ``token``, or None (unknown, expired or revoked)."""
        if not token or not token.startswith(PREFIX) or len(token) > 100:
            return None
        record = self._by_digest.get(digest(key, token))
        now = now or datetime.datetime.now(datetime.timezone.utc)
        if record is None or record.expires <= now:
            return None
        return record

    def revoke(self, key, token):
        """Forget ``token``.  :returns: whether it was known."""
        d = digest(key, token)
        record = self._by_digest.pop(d, None)
        if record is None:
            return False
        self._by_expiry.discard((record.expires.timestamp(), d))
        return True

    def purge_expired(self, now):
        """Forget up to a batch of expired tokens (oldest first), so the store stays small."""
        return purge_expired(self._by_expiry, self._by_digest, now.timestamp(), PURGE_BATCH)
