"""Password hashing with argon2id.

Parameters follow OWASP's first recommended argon2id setting (19 MiB memory,
2 passes, 1 lane): about 36 ms per hash on the project's 2-core machines, so a
login costs one hash and a burst of logins cannot starve the server.  Hashes
made with other parameters still verify and are upgraded at the next login.
API requests never pay for a password hash: they carry tokens checked with a
keyed hash (:mod:`kp_workspace.security.tokens`).
"""
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory('kp_workspace')

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1,
                        hash_len=32, salt_len=16, type=Type.ID)
MIN_LENGTH = 10

# Verified against when a login does not exist, so an unknown login costs the
# same time as a wrong password and does not reveal which logins exist.
_DUMMY_HASH = None


def hash_password(password):
    """Return the argon2id hash of ``password`` (a str)."""
    return HASHER.hash(password)


def verify_password(stored_hash, password):
    """True when ``password`` matches ``stored_hash``; never raises for a mismatch."""
    try:
        return HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash):
    return HASHER.check_needs_rehash(stored_hash)


def burn_time(password):
    """Spend the time of one verification, for logins that do not exist."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = HASHER.hash('not-a-real-password')
    verify_password(_DUMMY_HASH, password)


def password_problem(password):
    """A message saying why ``password`` is too weak, or None when it will do."""
    if len(password) < MIN_LENGTH:
        return _('A password needs at least ${n} characters.', mapping={'n': MIN_LENGTH})
    if password.strip() != password:
        return _('A password may not begin or end with a space.')
    if len(set(password)) < 4:
        return _('A password needs more different characters.')
    return None
