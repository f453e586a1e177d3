"""PAdES signatures with pyHanko: signing through a :class:`Signer`, and verifying.

Callers never see pyHanko or the key: they hold a :class:`Signer` and call
:func:`sign_pdf`.  :class:`WorkspaceKeySigner` signs with a key the workspace
keeps (unlocked by the signer's PIN); a PKCS#11 token (an officer's USB signing
token) would be another :class:`Signer` returning pyHanko's ``PKCS11Signer``
from :meth:`Signer.cms_signer`, with no change to the callers.
"""
import asyncio
import concurrent.futures
import datetime
import io
import logging
from dataclasses import dataclass, field

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError
from pyhanko_certvalidator.registry import SimpleCertificateStore

log = logging.getLogger(__name__)


def _asn1_cert(cert):
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@dataclass(frozen=True)
class LongTermData:
    """What a signature embeds so that it can be verified for years (PAdES B-LT): the
    CAs its chain ends in (``cryptography`` certificates) and the revocation lists
    (DER) that say its certificate was not revoked when it signed."""

    trust_roots: tuple = ()
    crls: tuple = ()


class Signer:
    """Whatever holds a signer's key.  ``name`` and ``post`` go on the visible stamp;
    ``long_term`` (a :class:`LongTermData`), if set, is embedded with the signature."""

    name = ''
    post = ''
    long_term = None

    def cms_signer(self):  # pragma: no cover - interface
        """A pyHanko ``signers.Signer``."""
        raise NotImplementedError


class WorkspaceKeySigner(Signer):
    def __init__(self, key, certificate, chain, name, post):
        self.key, self.certificate, self.chain = key, certificate, list(chain)
        self.name, self.post = name, post

    def cms_signer(self):
        der_key = self.key.private_bytes(serialization.Encoding.DER,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        return signers.SimpleSigner(
            signing_cert=_asn1_cert(self.certificate),
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in self.chain]))


STAMP_WIDTH, STAMP_HEIGHT = 200, 62


class _FetchingNotAllowed(logging.Filter):
    """pyHanko warns, on every signature, that it embeds validation data without
    fetching any: we give it all it needs (the CRL) on purpose."""

    def filter(self, record):
        return 'fetching is not allowed' not in record.getMessage()


_QUIET = _FetchingNotAllowed()


def sign_pdf(data, signer, reason, location='Peshawar', tsa_url=None, slot=None):
    """Sign ``data`` (PDF bytes) incrementally; earlier signatures stay valid.

    The visible stamp goes in the bottom margin of the last page, one slot to
    the right of the previous signature.  With ``signer.long_term`` the signature
    is PAdES B-LT: the chain and the CRL go into the document security store (DSS),
    and with a time-stamping service a document time stamp follows them (B-LTA).
    That needs the signer's chain, and the service's, to end in ``trust_roots``;
    when one does not (an imported signer or service whose CA is not trusted yet),
    the document is signed as before, without them, and the log says why.
    :returns: the signed PDF bytes.
    """
    long_term = signer.long_term
    if long_term is not None:
        try:
            return _sign(data, signer, reason, location, tsa_url, slot, long_term)
        except SigningError as exc:  # (the signer's or the service's chain is not trusted)
            log.warning('signed without long-term validation data: %s', exc)
        except (PathBuildingError, PathValidationError) as exc:
            log.warning('signed without long-term validation data: the time-stamping '
                        "service's certificate is not trusted (%s)", exc)
    return _sign(data, signer, reason, location, tsa_url, slot, None)


def _sign(data, signer, reason, location, tsa_url, slot, long_term):
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    existing = len(writer.prev.embedded_regular_signatures)  # (read by the writer already)
    slot = existing if slot is None else slot
    field_name = f'Signature{existing + 1}'
    last_page = int(writer.root['/Pages']['/Count']) - 1
    left = 40 + (slot % 2) * (STAMP_WIDTH + 20)
    bottom = 40 + (slot // 2) * (STAMP_HEIGHT + 6)  # above the page footer
    style = TextStampStyle(stamp_text='Digitally signed by %(signer)s\n%(post)s\n%(ts)s',
                           timestamp_format='%d %b %Y %H:%M UTC')
    timestamper = None
    if tsa_url:
        from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
        timestamper = RequestsHTTPTimeStamper(tsa_url)
    evidence = {}
    if long_term is not None:
        logging.getLogger('pyhanko.sign.signers.pdf_signer').addFilter(_QUIET)  # (once)
        evidence = {'embed_validation_info': True, 'use_pades_lta': timestamper is not None,
                    'validation_context': ValidationContext(
                        trust_roots=[_asn1_cert(c) for c in long_term.trust_roots],
                        crls=[asn1_crl.CertificateList.load(c) for c in long_term.crls],
                        allow_fetching=False, revocation_mode='soft-fail')}
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm='sha256',
        reason=reason, location=location, name=signer.name, **evidence)
    pdf_signer = signers.PdfSigner(
        meta, signer=signer.cms_signer(), stamp_style=style, timestamper=timestamper,
        new_field_spec=fields.SigFieldSpec(
            sig_field_name=field_name, on_page=last_page,
            box=(left, bottom, left + STAMP_WIDTH, bottom + STAMP_HEIGHT)))
    out = _run_sync(pdf_signer.sign_pdf, writer, appearance_text_params={
        'signer': signer.name, 'post': signer.post or ''})
    return out.getvalue()


class NotAPdf(ValueError):
    """The bytes are not a PDF that can be read."""


@dataclass
class SignatureReport:
    field: str
    signer: str
    signer_login: str
    signed_at: object            # datetime (the signer's clock, or the time stamp's)
    timestamped: bool
    timestamp_trusted: object    # None: no time stamp; else whether its TSA is trusted
    intact: bool                 # the signed bytes are unchanged
    trusted: bool                # the certificate chains to a CA this workspace trusts
    revoked: bool
    revoked_at: object
    changed_after: bool          # the document was changed after signing (beyond signatures)
    changes: str                 # 'none', 'signatures' (later signatures only), 'other'
    valid: bool                  # all of the above in order

    def as_dict(self):
        return {k: (v.isoformat() if isinstance(v, datetime.datetime) else v)
                for k, v in self.__dict__.items()}


@dataclass
class Verification:
    signatures: list = field(default_factory=list)

    @property
    def valid(self):
        return bool(self.signatures) and all(s.valid for s in self.signatures)


def verify_pdf(data, trust_roots, revoked=None):
    """Check every signature in ``data``.

    :param trust_roots: ``cryptography`` CA certificates to trust.
    :param revoked: ``{serial (int): revoked_at}`` of revoked signer certificates.
    :raises NotAPdf: the bytes cannot be read as a PDF.
    """
    revoked = revoked or {}
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        # (document time stamps vouch for the long-term data after the signatures;
        # the signatures are what is reported)
        embedded = reader.embedded_regular_signatures
    except Exception as exc:  # pyHanko raises many kinds on a damaged file
        raise NotAPdf(str(exc)) from exc
    roots = [_asn1_cert(c) for c in trust_roots]
    result = Verification()
    for sig in embedded:
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        try:
            status = _run_sync(validate_pdf_signature, sig, context)
        except Exception:  # a signature too damaged to evaluate counts as invalid
            log.warning('signature %s could not be validated', sig.field_name, exc_info=True)
            result.signatures.append(SignatureReport(
                sig.field_name, '', '', None, False, None, False, False, False, None, True,
                'other', False))
            continue
        cert = status.signing_cert
        subject = cert.subject.native if cert is not None else {}
        serial = cert.serial_number if cert is not None else None
        revoked_at = revoked.get(serial)
        level = status.modification_level
        if level in (None, ModificationLevel.NONE, ModificationLevel.LTA_UPDATES):
            changes = 'none'
        elif level == ModificationLevel.FORM_FILLING and status.docmdp_ok is not False:
            changes = 'signatures'
        else:
            changes = 'other'
        ts = status.timestamp_validity
        signed_at = ts.timestamp if ts is not None else status.signer_reported_dt
        intact = bool(status.intact and status.valid)
        trusted = bool(status.trusted)
        report = SignatureReport(
            field=sig.field_name, signer=subject.get('common_name', ''),
            signer_login=subject.get('user_id', ''), signed_at=signed_at,
            timestamped=ts is not None,
            timestamp_trusted=(bool(ts.valid and ts.intact and ts.trusted)
                               if ts is not None else None),
            intact=intact, trusted=trusted,
            revoked=revoked_at is not None, revoked_at=revoked_at,
            changed_after=changes == 'other', changes=changes,
            valid=bool(status.bottom_line and intact and trusted and revoked_at is None
                       and changes != 'other' and (ts is None or ts.trusted)))
        result.signatures.append(report)
    return result


def _run_sync(fn, *args, **kw):
    """pyHanko's sync wrappers call ``asyncio.run``, which fails in a thread whose event
    loop is running (an async server, or a test session driving a browser): there,
    run them in a thread of their own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kw)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kw).result()
