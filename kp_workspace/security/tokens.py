"""API bearer tokens: random, stored only as a keyed hash, expiring, revocable.

A token is ``kpw_`` + 32 random bytes (URL-safe base64).  The store keeps
HMAC-SHA256(key, token), so a copy of the database does not yield usable tokens,
and a request is checked with one HMAC and one BTree lookup, not a password
hash.  A token also carries its user's ``epoch`` when issued: resetting the
password or deactivating the user ends every token at once.

**Devices and refresh tokens.**  Signing in from an app names the device ("Ayesha's
phone").  The device gets an access token (hours) and a **refresh token** (``kpwr_``,
days), kept as keyed hashes too.  Refreshing gives a new access token and a new refresh
token, and the old refresh token is spent: presented again, it can only be a copy (a
stolen one, or a replay), so the whole device is revoked -- its tokens end, and the
owner signs in again.  Owners list and revoke their devices; administrators those of
any user.
"""
import datetime
import hashlib
import hmac
import secrets

from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid.i18n import TranslationStringFactory

from ..errors import NotFound
from ..records import Record

from .expiry import purge_expired

PREFIX = 'kpw_'
REFRESH_PREFIX = 'kpwr_'
PURGE_BATCH = 100

_ = TranslationStringFactory('kp_workspace')
# (what every 404 says: another user's device looks like one that does not exist)
NO_SUCH_DEVICE = _('There is nothing at this address, or you may not see it.')


def token_key(secret):
    """The HMAC key for tokens, derived from the deployment secret."""
    return hashlib.sha256(b'kp_workspace.api-token\0' + secret.encode()).digest()


def digest(key, token):
    return hmac.new(key, token.encode('utf-8', 'replace'), hashlib.sha256).hexdigest()


class TokenRecord(Record):
    """What the store knows of one token (never the token itself)."""

    device = None   # the device it was issued to, if any

    def __init__(self, login, epoch, issued, expires, client, device=None):
        self.login = login
        self.epoch = epoch
        self.issued = issued
        self.expires = expires
        self.client = client
        if device is not None:
            self.device = device


class Device(Persistent):
    """A device a user signed in from through the API, and its token family."""

    def __init__(self, device_id, login, epoch, name, client, at, refresh_expires):
        super().__init__()
        self.id, self.login, self.name, self.client = device_id, login, name, client
        self.epoch = epoch   # the user's when it signed in: a password reset ends it
        self.created = self.last_used = at
        self.refresh_expires = refresh_expires
        self.refresh = None          # digest of the one live refresh token
        self.refreshes = OOTreeSet() # digests of every refresh token it had (spent ones too)
        self.tokens = OOTreeSet()    # digests of its access tokens
        self.revoked_at = None
        self.revoked_by = None


class RefreshReused(Exception):
    """A spent refresh token came back: its device has been revoked."""

    def __init__(self, device):
        super().__init__(device.id)
        self.device = device


class TokenStore(Persistent):
    def __init__(self):
        super().__init__()
        self._by_digest = OOBTree()
        self._by_expiry = OOTreeSet()  # (expires timestamp, digest), for purging
        self._devices_tree()

    def _devices_tree(self):
        # (a store from before devices gets its trees here, on first use)
        if getattr(self, '_devices', None) is None:
            self._devices = OOBTree()        # device id -> Device
            self._user_devices = OOBTree()   # login -> OOTreeSet(device id)
            self._refresh = OOBTree()        # refresh digest -> device id (spent ones too)
        return self._devices

    def __len__(self):
        return len(self._by_digest)

    def issue(self, key, user, lifetime, client, now=None, device=None):
        """Issue a token for ``user`` valid for ``lifetime`` seconds (for ``device``, a
        :class:`Device`, if given).

        :returns: ``(token, record)``; the token is shown to the client once and not stored.
        """
        now = now or datetime.datetime.now(datetime.timezone.utc)
        self.purge_expired(now)
        token = PREFIX + secrets.token_urlsafe(32)
        record = TokenRecord(user.login, user.epoch, now,
                             now + datetime.timedelta(seconds=lifetime), client,
                             device.id if device is not None else None)
        d = digest(key, token)
        self._by_digest[d] = record
        self._by_expiry.add((record.expires.timestamp(), d))
        if device is not None:
            device.tokens.add(d)
        return token, record

    # devices --------------------------------------------------------------------
    def add_device(self, key, user, name, client, refresh_lifetime, now=None):
        """A new device for ``user``.  :returns: ``(device, refresh token)``."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        devices = self._devices_tree()
        self._forget_ended(user.login, now)
        device_id = secrets.token_hex(8)
        device = Device(device_id, user.login, user.epoch, name, client, now,
                        now + datetime.timedelta(seconds=refresh_lifetime))
        devices[device_id] = device
        found = self._user_devices.get(user.login)
        if found is None:
            found = self._user_devices[user.login] = OOTreeSet()
        found.add(device_id)
        return device, self._new_refresh(key, device)

    def _new_refresh(self, key, device):
        refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
        d = digest(key, refresh)
        device.refresh = d
        device.refreshes.add(d)
        self._refresh[d] = device.id
        return refresh

    def refresh(self, key, refresh, refresh_lifetime, now=None):
        """Spend ``refresh``.  :returns: ``(device, new refresh token)``, or ``(None,
        None)`` when it is unknown or expired.  :raises RefreshReused: it was spent
        already: its device is revoked (every token of it ends)."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        if not isinstance(refresh, str) or not refresh.startswith(REFRESH_PREFIX) \
                or len(refresh) > 100:
            return None, None
        d = digest(key, refresh)
        device = self._devices_tree().get(self._refresh.get(d, ''))
        if device is None or device.revoked_at is not None or device.refresh_expires <= now:
            return None, None
        if device.refresh != d:
            self.revoke_device(device, 'reuse', now)
            raise RefreshReused(device)
        for old in [t for t in device.tokens if t not in self._by_digest]:
            device.tokens.remove(old)   # (expired and purged)
        device.last_used = now
        device.refresh_expires = now + datetime.timedelta(seconds=refresh_lifetime)
        return device, self._new_refresh(key, device)

    def _forget_ended(self, login, now):
        """Forget ``login``'s devices revoked or past their refresh (and the digests of
        their spent refresh tokens: nothing can be replayed into an ended device)."""
        ids = self._user_devices.get(login)
        for device_id in list(ids or ()):
            device = self._devices[device_id]
            if device.revoked_at is None and device.refresh_expires > now:
                continue
            if device.revoked_at is None:
                self.revoke_device(device, 'expired', now)
            for d in device.refreshes:
                self._refresh.pop(d, None)
            ids.remove(device_id)
            del self._devices[device_id]

    def device(self, device_id):
        return self._devices_tree().get(device_id) if isinstance(device_id, str) else None

    def devices_of(self, user, now=None):
        """``user``'s devices signed in now (not revoked, refresh not expired, signed in
        since the last password reset), newest first."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        self._devices_tree()
        found = [self._devices[i] for i in self._user_devices.get(user.login, ())]
        return sorted((d for d in found if d.revoked_at is None and d.refresh_expires > now
                       and d.epoch == user.epoch),
                      key=lambda d: d.created, reverse=True)

    def device_of(self, login, device_id):
        """``login``'s device ``device_id``, not signed out yet.

        :raises NotFound: there is none (unknown, another user's, or signed out already).
        """
        device = self.device(device_id)
        if device is None or device.login != login or device.revoked_at is not None:
            raise NotFound(NO_SUCH_DEVICE)
        return device

    def sign_out_device(self, actor, login, device_id):
        """Sign out ``login``'s device ``device_id`` for ``actor`` (its owner, or an
        administrator): every token of it ends, and ``device.revoked`` is recorded.  The
        API and the browser pages both come here.

        :returns: the device.  :raises NotFound: as :meth:`device_of`.
        """
        device = self.device_of(login, device_id)
        self.revoke_device(device, actor.login)
        actor.record('device.revoked', f'user:{login}', device=device.id,
                     device_name=device.name)
        return device

    def revoke_device(self, device, by, now=None):
        """End ``device``: its access tokens, its refresh token."""
        for d in list(device.tokens):
            record = self._by_digest.pop(d, None)
            if record is not None:
                self._by_expiry.discard((record.expires.timestamp(), d))
        device.tokens.clear()
        device.refresh = None
        device.revoked_at = now or datetime.datetime.now(datetime.timezone.utc)
        device.revoked_by = by

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
