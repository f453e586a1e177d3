"""The CA's OCSP responder (RFC 6960), served at ``/ocsp`` and named in the Authority
Information Access of every new certificate, so that any verifier (poppler's pdfsig
through NSS, Acrobat, pyHanko) learns at once that a signer was revoked.

Each answer is read from the database when it is asked for: the certificate's record
in this transaction, so a revocation committed by one process is answered as revoked
by every other from its next request on (ZEO or PostgreSQL alike).  It says *good*
for a certificate this CA made and has not revoked, *revoked* (with its time) for one
it revoked, and *unknown* for a serial number it never certified (or one it
reserved for a certificate still waiting for its PIN).  A request for another
issuer is answered *unauthorized*; one that cannot be read, *malformedRequest*.

The answers are signed by a delegated responder (RFC 6960 4.2.2.2): a certificate
the CA issues for that alone (extended key usage OCSPSigning, id-pkix-ocsp-nocheck,
90 days, renewed when 30 are left; see
:meth:`.authority.SigningAuthority.ocsp_responder`).  Its key is stored encrypted
under the deployment secret, as the CA's key is, and decrypted once per process (the
decryption takes about 0.1 s) and kept in memory; so answering costs one RSA-2048
signature, and the CA's own key is never held in memory by a serving process.  A
responder key that leaked could only forge answers until its certificate is
replaced, never certify a signer.  Responses are signed per request (not produced in
advance), so they always say what the database says and echo the client's nonce.
"""
import base64
import binascii
import datetime
import hashlib
import threading

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from .authority import _now, _ocsp_passphrase, load_pem

REQUEST_TYPE = 'application/ocsp-request'
RESPONSE_TYPE = 'application/ocsp-response'
MAX_REQUEST = 8 * 1024       # bytes: a request for one certificate is about 100
VALIDITY = datetime.timedelta(minutes=10)   # an answer's nextUpdate, after its thisUpdate

_lock = threading.Lock()
_responders = {}   # sha256(certificate + encrypted key) -> (certificate, private key)
_issuers = {}      # (CA certificate PEM, hash name) -> (issuer name hash, issuer key hash)


class Answer:
    """An OCSP response (DER) and the HTTP status to send it with."""

    def __init__(self, body, status=200, cert_status=None):
        self.body = body
        self.status = status
        self.cert_status = cert_status   # good / revoked / unknown, for a successful answer


def refusal(status, http_status=400):
    """An unsuccessful OCSP response (``status``: an :class:`ocsp.OCSPResponseStatus`)."""
    return Answer(ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER), http_status)


def malformed(http_status=400):
    return refusal(ocsp.OCSPResponseStatus.MALFORMED_REQUEST, http_status)


def decode_get(path):
    """The DER request of an OCSP GET (RFC 6960 A.1: base64 in the path, which the
    server has URL-decoded; the URL-safe alphabet and missing padding are accepted).
    :raises ValueError:"""
    text = path.strip().replace('-', '+').replace('_', '/')
    if not text or len(text) > MAX_REQUEST * 4 // 3 + 4:
        raise ValueError('no request, or too long')
    try:
        return base64.b64decode(text + '=' * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError('not base64')


def _issuer_hashes(ca_pem, algorithm):
    key = (ca_pem, algorithm.name)
    found = _issuers.get(key)
    if found is None:
        ca = load_pem(ca_pem)
        name, spki = hashes.Hash(algorithm), hashes.Hash(algorithm)
        name.update(ca.subject.public_bytes())
        spki.update(ca.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.PKCS1))
        found = _issuers[key] = (name.finalize(), spki.finalize())
    return found


def responder(authority, secret, now=None):
    """The responder's certificate and private key, decrypted once per process."""
    cert_pem, key_pem = authority.ocsp_responder(secret, now)
    cache_key = hashlib.sha256(cert_pem + key_pem).digest()
    found = _responders.get(cache_key)
    if found is None:
        with _lock:
            found = _responders.get(cache_key)
            if found is None:
                key = serialization.load_pem_private_key(key_pem, _ocsp_passphrase(secret))
                if len(_responders) >= 8:   # (old responders, other sites in tests)
                    _responders.clear()
                found = _responders[cache_key] = (load_pem(cert_pem), key)
    return found


def _nonce(request):
    try:
        return request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return None


def answer(authority, secret, der, now=None):
    """The OCSP response to the DER request ``der``, for ``authority``'s certificates."""
    if len(der) > MAX_REQUEST:
        return malformed(413)
    try:
        request = ocsp.load_der_ocsp_request(der)
        algorithm = request.hash_algorithm
        serial = request.serial_number
        issuer = (request.issuer_name_hash, request.issuer_key_hash)
        nonce = _nonce(request)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return malformed()
    if issuer != _issuer_hashes(authority.ca_cert_pem, algorithm):
        return refusal(ocsp.OCSPResponseStatus.UNAUTHORIZED, 200)
    now = (now or _now()).replace(microsecond=0)
    record = authority.find(serial)
    revoked_at = None
    if record is None or record.source != 'workspace' or not record.cert_pem:
        status = ocsp.OCSPCertStatus.UNKNOWN
    elif record.revoked_at is not None:
        status = ocsp.OCSPCertStatus.REVOKED
        revoked_at = min(record.revoked_at.replace(microsecond=0), now)
    else:
        status = ocsp.OCSPCertStatus.GOOD
    cert, key = responder(authority, secret, now)
    # (the admin's reason for a revocation is free text: no reason code is claimed,
    # as the CRL claims none)
    builder = (ocsp.OCSPResponseBuilder()
               .add_response_by_hash(issuer_name_hash=issuer[0], issuer_key_hash=issuer[1],
                                     serial_number=serial, algorithm=algorithm,
                                     cert_status=status, this_update=now,
                                     next_update=now + VALIDITY, revocation_time=revoked_at,
                                     revocation_reason=None)
               .responder_id(ocsp.OCSPResponderEncoding.HASH, cert)
               .certificates([cert]))
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    body = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    return Answer(body, 200, status.name.lower())
