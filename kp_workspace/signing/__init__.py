"""Digital signatures: the certificate authority, unlocking a signer, signing PDFs.

Domain code (the draft and summary workflows) calls :func:`unlock` to get a
:class:`~kp_workspace.signing.pades.Signer` for the acting officer and
:func:`sign` to sign PDF bytes with it; it never sees keys or pyHanko.
"""
import logging
from dataclasses import dataclass

from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyramid.i18n import TranslationStringFactory

from ZODB.blob import Blob

from .authority import SigningAuthority, SigningRefused, WrongPin, load_pem  # noqa: F401
from .pades import LongTermData, NotAPdf, WorkspaceKeySigner, sign_pdf, verify_pdf  # noqa: F401

_ = TranslationStringFactory('kp_workspace')
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SigningContext:
    """What signing needs from the deployment (passed to workflow effects)."""

    secret: str
    tsa_url: str = ''
    max_failures: int = 5
    window: int = 900
    lockout: int = 900


def context_from_settings(settings):
    return SigningContext(secret=settings.secret, tsa_url=settings.tsa_url,
                          max_failures=settings.login_max_failures,
                          window=settings.login_window, lockout=settings.login_lockout)


def unlock(officer, post_id, context, pin):
    """A signer for ``officer`` acting through ``post_id``, if ``pin`` is right.

    :raises SigningRefused: no usable certificate, or locked after wrong PINs
    :raises WrongPin: counted and recorded; the caller's response must commit
    """
    if context is None:
        raise SigningRefused('Signing is not available here.', status=400)
    try:
        key, record = officer.site.signing.unlock(
            officer.login, pin, context.secret, max_failures=context.max_failures,
            window=context.window, lockout=context.lockout)
    except WrongPin:
        officer.actor.record('signing.wrong_pin', f'user:{officer.login}')
        raise
    post = officer.site['principals'].posts.get(post_id)
    chain = [load_pem(p) for p in record.chain_pems]
    title = post.title if post is not None else ''
    if title and officer.acts_for(post_id):
        # the delegate's own certificate and name, for the post they hold acting
        title = f'for {title} (acting)'
    signer = WorkspaceKeySigner(key, record.certificate, chain, record.name, title)
    signer.long_term = long_term_data(officer.site.signing, context.secret)
    return signer


def long_term_data(authority, secret):
    """What a signature embeds to be verifiable for years: the CAs this workspace
    trusts and its present CRL (re-issued first if it is a day old)."""
    return LongTermData(trust_roots=tuple(authority.trust_roots()),
                        crls=(authority.current_crl(secret),))


def sign(data, signer, reason, context):
    """Sign PDF bytes.  :raises SigningRefused: (503) the time-stamping service failed."""
    try:
        return sign_pdf(data, signer, reason, tsa_url=context.tsa_url or None)
    except TimestampRequestError:
        log.warning('time-stamping service %s failed', context.tsa_url, exc_info=True)
        raise SigningRefused(_('The time-stamping service did not answer; nothing was signed. '
                               'Try again later.'), status=503)


def store_pdf(data):
    blob = Blob()
    with blob.open('w') as f:
        f.write(data)
    return blob


def read_pdf(blob):
    with blob.open('r') as f:
        return f.read()


def verify(authority, data):
    """Every signature in ``data`` against the workspace's CA, trusted CAs and revocations.

    :raises NotAPdf: (a ValueError) the bytes are not a readable PDF.
    """
    return verify_pdf(data, authority.trust_roots(), authority.revoked_serials())
