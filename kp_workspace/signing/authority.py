"""The workspace's certificate authority and its signers' certificates.

``kpw init`` (evolve step 5) creates the CA: an RSA-3072 key and a self-signed
certificate.  The CA key is stored encrypted under a key derived from the
deployment secret (``var/secret.key``), so a copy of the database alone does
not give it away.

A signer's certificate has three states:

- *awaiting PIN*: an administrator issued it; there is no key yet;
- *active*: the signer chose a signing PIN; at that moment a key pair was
  made, certified by the CA, and the private key stored encrypted under a key
  derived (argon2id) from the PIN together with the deployment secret.  The
  key is never stored or logged in clear; the PIN is never stored at all;
- *revoked*: by an administrator; verification reports it from then on.

Revocations are published for any verifier as a CRL signed by the CA (served at
``/ca.crl``; every certificate made here names that address in its CRL
Distribution Points), and answered live by an OCSP responder (``/ocsp``, named in
every new certificate's Authority Information Access; see :mod:`.ocsp`).  The CRL
is stored: it is re-issued, with the next CRL number, in the transaction of every
revocation, and whenever it is read or embedded in a signed document more than
:data:`CRL_REFRESH` after it was issued (its nextUpdate is :data:`CRL_DAYS` after).  Being stored, it is the same
bytes in every process; two processes re-issuing it at once conflict, and the
retried one finds the other's.

Wrong PINs are counted per login; after too many, signing is locked for a
while (the same rule as failed sign-ins).
"""
import datetime
import hashlib
import hmac
import os

from argon2.low_level import Type, hash_secret_raw
from BTrees.OOBTree import OOBTree
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID
from persistent import Persistent
from persistent.list import PersistentList
from pyramid.i18n import TranslationStringFactory

from ..errors import DomainError
from ..security.throttle import LoginThrottle

_ = TranslationStringFactory('kp_workspace')

ORGANISATION = 'Government of Khyber Pakhtunkhwa'
CA_NAME = 'KP Digital Workspace Signing CA'
PIN_MIN, PIN_MAX = 6, 12
SIGNER_YEARS = 3
CRL_DAYS = 7                                # a CRL's nextUpdate: a week after it was issued
CRL_REFRESH = datetime.timedelta(days=1)    # re-issued when a day old, or on a revocation
RESPONDER_NAME = 'KP Digital Workspace OCSP Responder'
RESPONDER_DAYS = 90                         # the OCSP responder's certificate lives 90 days...
RESPONDER_RENEW = datetime.timedelta(days=30)   # ...and is replaced when 30 are left
# argon2id for the PIN-derived key: the OWASP minimum (19 MiB, 2 passes)
_KDF = {'time_cost': 2, 'memory_cost': 19 * 1024, 'parallelism': 1, 'hash_len': 32,
        'type': Type.ID}


class SigningRefused(DomainError):
    """A signing request that cannot go ahead; ``status`` says why (403, 409, 429)."""

    status = 403


class WrongPin(SigningRefused):
    """The PIN is not right.  The failure is counted: the response must commit."""


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _ca_passphrase(secret):
    return hmac.new(secret.encode(), b'kp-workspace ca key', hashlib.sha256).hexdigest().encode()


def _ocsp_passphrase(secret):
    return hmac.new(secret.encode(), b'kp-workspace ocsp key', hashlib.sha256).hexdigest().encode()


def _pin_passphrase(secret, pin, salt):
    # the deployment secret is mixed in, so guessing a PIN needs the secret too
    peppered = hmac.new(secret.encode(), pin.encode(), hashlib.sha256).digest()
    return hash_secret_raw(peppered, salt, **_KDF).hex().encode()


def check_pin(pin):
    pin = pin or ''
    if not (pin.isdigit() and pin.isascii() and PIN_MIN <= len(pin) <= PIN_MAX):
        raise SigningRefused(_('A signing PIN is ${min} to ${max} digits.',
                               mapping={'min': PIN_MIN, 'max': PIN_MAX}), status=400)
    return pin


def _name(common_name, login=None):
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common_name),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION)]
    if login:
        parts.append(x509.NameAttribute(NameOID.USER_ID, login))
    return x509.Name(parts)


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def load_pem(data):
    return x509.load_pem_x509_certificate(data)


class SignerCertificate(Persistent):
    def __init__(self, serial, login, name, issued_by, issued_at, source='workspace'):
        super().__init__()
        self.serial = serial              # hex string (the certificate's serial number)
        self.login = login
        self.name = name
        self.issued_by = issued_by
        self.issued_at = issued_at
        self.source = source              # 'workspace' or 'imported' (PKCS#12)
        self.cert_pem = None
        self.chain_pems = ()              # intermediate and root certificates (PEM)
        self.key_pem = None               # PKCS#8, encrypted under the PIN-derived key
        self.salt = None
        self.activated_at = None
        self.revoked_at = None
        self.revoked_by = None
        self.reason = ''

    @property
    def state(self):
        if self.revoked_at is not None:
            return 'revoked'
        return 'active' if self.cert_pem else 'awaiting_pin'

    @property
    def certificate(self):
        return load_pem(self.cert_pem) if self.cert_pem else None

    def _store_key(self, key, pin, secret):
        self.salt = os.urandom(16)
        self.key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(_pin_passphrase(secret, pin, self.salt)))

    def _load_key(self, pin, secret):
        try:
            return serialization.load_pem_private_key(
                self.key_pem, _pin_passphrase(secret, pin, self.salt))
        except ValueError:
            return None


class SigningAuthority(Persistent):
    # (class defaults: an authority made before CRLs issues its first one when asked)
    crl_der = None          # the present CRL (DER)
    crl_number = 0          # its CRL number (RFC 5280: increases with each CRL issued)
    crl_issued_at = None
    ocsp_cert_pem = None    # the delegated OCSP responder's certificate (PEM)...
    ocsp_key_pem = None     # ...and its key, encrypted under the deployment secret

    def __init__(self, secret, now=None):
        super().__init__()
        now = now or _now()
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        subject = _name(CA_NAME)
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (x509.CertificateBuilder()
                .subject_name(subject).issuer_name(subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=365 * 20))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(ski, critical=False)
                .sign(key, hashes.SHA256()))
        self.ca_cert_pem = _pem(cert)
        self._ca_key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(_ca_passphrase(secret)))
        self.trusted = PersistentList()   # external CA certificates (PEM) imported
        self.certificates = OOBTree()     # serial -> SignerCertificate
        self.by_login = OOBTree()         # login -> serial of the present certificate
        self.pin_attempts = LoginThrottle()
        self.publish_crl(secret, now)     # (now, while the CA key is at hand anyway)

    # certificates ----------------------------------------------------------------
    @property
    def ca_certificate(self):
        return load_pem(self.ca_cert_pem)

    def trust_roots(self):
        return [self.ca_certificate] + [load_pem(p) for p in self.trusted]

    def current(self, login):
        serial = self.by_login.get(login)
        return self.certificates.get(serial) if serial else None

    def issue(self, login, name, by, now=None):
        """An administrator issues a certificate to ``login``; the signer then sets a PIN."""
        present = self.current(login)
        if present is not None and present.state != 'revoked':
            raise SigningRefused(_('${login} already has a signing certificate; revoke it first.',
                                   mapping={'login': login}), status=409)
        serial = format(x509.random_serial_number(), 'x')
        record = SignerCertificate(serial, login, name, by, now or _now())
        self.certificates[serial] = record
        self.by_login[login] = serial
        return record

    def _ca_key(self, secret):
        return serialization.load_pem_private_key(self._ca_key_pem, _ca_passphrase(secret))

    def activate(self, login, pin, secret, now=None, crl_url=None, ocsp_url=None):
        """The signer sets a PIN: the key pair is made and certified now.

        :param crl_url: the absolute address of the CRL (``/ca.crl``), written in the
            certificate's CRL Distribution Points so that any verifier finds it.
        :param ocsp_url: the absolute address of the OCSP responder (``/ocsp``), written
            in the certificate's Authority Information Access.
        """
        record = self.current(login)
        if record is None or record.state != 'awaiting_pin':
            raise SigningRefused(_('There is no certificate waiting for a PIN.'), status=409)
        pin = check_pin(pin)
        now = now or _now()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_key = self._ca_key(secret)
        ca = self.ca_certificate
        builder = (x509.CertificateBuilder()
                .subject_name(_name(record.name, login)).issuer_name(ca.subject)
                .public_key(key.public_key())
                .serial_number(int(record.serial, 16))
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=365 * SIGNER_YEARS))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, content_commitment=True, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False,
                    crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    ca.public_key()), critical=False))
        if crl_url:
            builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None,
                reasons=None, crl_issuer=None)]), critical=False)
        if ocsp_url:
            builder = builder.add_extension(x509.AuthorityInformationAccess([
                x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                       x509.UniformResourceIdentifier(ocsp_url))]),
                critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        record.cert_pem = _pem(cert)
        record.chain_pems = (self.ca_cert_pem,)
        record._store_key(key, pin, secret)
        record.activated_at = now
        return record

    def change_pin(self, login, old_pin, new_pin, secret, now=None):
        key, record = self.unlock(login, old_pin, secret, now)
        record._store_key(key, check_pin(new_pin), secret)

    def revocable(self, serial):
        """The record of certificate ``serial``, if it may be revoked.

        :raises SigningRefused: there is no such certificate (404), or it is revoked (409).
        """
        record = self.certificates.get(serial)
        if record is None:
            raise SigningRefused(_('There is no such certificate.'), status=404)
        if record.revoked_at is not None:
            raise SigningRefused(_('This certificate is already revoked.'), status=409)
        return record

    def revoke(self, serial, by, reason='', now=None, *, secret):
        """Revoke certificate ``serial`` and publish the CRL that says so (in this
        transaction: the revocation and its CRL are committed together).

        :raises SigningRefused: see :meth:`revocable`.
        """
        record = self.revocable(serial)
        record.revoked_at = now or _now()
        record.revoked_by = by
        record.reason = reason
        self.publish_crl(secret, record.revoked_at)
        return record

    # the certificate revocation list -----------------------------------------------
    def publish_crl(self, secret, now=None):
        """Issue a new CRL (the next CRL number) listing every revoked certificate
        this CA issued (imported ones belong to their own CA's CRL).  :returns: its DER."""
        now = now or _now()
        ca = self.ca_certificate
        number = self.crl_number + 1
        builder = (x509.CertificateRevocationListBuilder()
                   .issuer_name(ca.subject)
                   .last_update(now)
                   .next_update(now + datetime.timedelta(days=CRL_DAYS))
                   .add_extension(x509.CRLNumber(number), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       ca.public_key()), critical=False))
        for record in self.certificates.values():
            if record.revoked_at is not None and record.cert_pem and record.source == 'workspace':
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder().serial_number(int(record.serial, 16))
                    .revocation_date(record.revoked_at).build())
        crl = builder.sign(self._ca_key(secret), hashes.SHA256())
        self.crl_der = crl.public_bytes(serialization.Encoding.DER)
        self.crl_number = number
        self.crl_issued_at = now
        return self.crl_der

    def current_crl(self, secret, now=None):
        """The present CRL (DER), re-issued first if it is :data:`CRL_REFRESH` old
        (or there is none yet), so a verifier always gets one good for days."""
        now = now or _now()
        if self.crl_der is None or now - self.crl_issued_at >= CRL_REFRESH:
            return self.publish_crl(secret, now)
        return self.crl_der

    # the OCSP responder's certificate ----------------------------------------------
    def ocsp_responder(self, secret, now=None):
        """The delegated OCSP responder's certificate (PEM) and its encrypted key (PEM),
        issued by the CA first if there is none or it has less than
        :data:`RESPONDER_RENEW` left.  Being stored, it is the same in every process
        (two processes issuing one at once conflict; the retried one finds the other's).
        """
        now = now or _now()
        if self.ocsp_cert_pem is None or (
                load_pem(self.ocsp_cert_pem).not_valid_after_utc - now < RESPONDER_RENEW):
            self.issue_ocsp_responder(secret, now)
        return self.ocsp_cert_pem, self.ocsp_key_pem

    def issue_ocsp_responder(self, secret, now=None):
        """Certify a new key for signing OCSP responses: extended key usage OCSPSigning
        and id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2), for :data:`RESPONDER_DAYS` days.
        The key is stored encrypted under the deployment secret, as the CA's is."""
        now = now or _now()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca = self.ca_certificate
        cert = (x509.CertificateBuilder()
                .subject_name(_name(RESPONDER_NAME)).issuer_name(ca.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=RESPONDER_DAYS))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False,
                    crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]),
                               critical=False)
                .add_extension(x509.OCSPNoCheck(), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    ca.public_key()), critical=False)
                .sign(self._ca_key(secret), hashes.SHA256()))
        self.ocsp_cert_pem = _pem(cert)
        self.ocsp_key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(_ocsp_passphrase(secret)))
        return cert

    def revoked_serials(self):
        """``{serial (int): revoked_at}`` of every revoked certificate."""
        return {int(r.serial, 16): r.revoked_at for r in self.certificates.values()
                if r.revoked_at is not None}

    def find(self, serial_number):
        return self.certificates.get(format(serial_number, 'x'))

    # real deployments -------------------------------------------------------------
    def import_ca(self, pem):
        """Trust an external CA (PEM) for signers whose certificates it issued."""
        try:
            cert = load_pem(pem)
            constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        except (ValueError, x509.ExtensionNotFound):
            raise SigningRefused(_('That is not a CA certificate in PEM form.'), status=400)
        if not constraints.ca:
            raise SigningRefused(_('That certificate is not a CA certificate.'), status=400)
        pem = _pem(cert)
        if pem not in self.trusted and pem != self.ca_cert_pem:
            self.trusted.append(pem)
        return cert

    def import_pkcs12(self, login, data, password, pin, secret, by, now=None):
        """A signer's key and certificate from a PKCS#12 file, kept under a new PIN."""
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password)
        except ValueError:
            raise SigningRefused(_('The PKCS#12 file or its password is not right.'), status=400)
        if key is None or cert is None:
            raise SigningRefused(_('The PKCS#12 file holds no key and certificate.'), status=400)
        pin = check_pin(pin)
        name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        present = self.current(login)
        if present is not None and present.state != 'revoked':
            raise SigningRefused(_('${login} already has a signing certificate; revoke it first.',
                                   mapping={'login': login}), status=409)
        serial = format(cert.serial_number, 'x')
        record = SignerCertificate(serial, login, name[0].value if name else login, by,
                                   now or _now(), source='imported')
        record.cert_pem = _pem(cert)
        record.chain_pems = tuple(_pem(c) for c in extra or ())
        record._store_key(key, pin, secret)
        record.activated_at = record.issued_at
        self.certificates[serial] = record
        self.by_login[login] = serial
        return record

    # signing ------------------------------------------------------------------------
    def unlock(self, login, pin, secret, now=None, max_failures=5, window=900, lockout=900):
        """The signer's private key, if ``pin`` is right.

        :returns: ``(private key, SignerCertificate)``
        :raises SigningRefused: no usable certificate (403/409), locked (429)
        :raises WrongPin: the PIN is not right (counted; the caller must commit)
        """
        now = now or _now()
        record = self.current(login)
        if record is None or record.state == 'awaiting_pin':
            raise SigningRefused(_('You have no signing certificate yet. Ask an administrator '
                                   'to issue one, then set your signing PIN.'), status=409)
        if record.state == 'revoked':
            raise SigningRefused(_('Your signing certificate has been revoked.'), status=403)
        wait = self.pin_attempts.locked_for(login, now)
        if wait:
            raise SigningRefused(
                _('Signing is locked after too many wrong PINs. Try again in ${minutes} minutes.',
                  mapping={'minutes': max(1, (wait + 59) // 60)}), status=429)
        if not pin:
            raise SigningRefused(_('Enter your signing PIN.'), status=400)
        key = record._load_key(pin, secret)
        if key is None:
            locked = self.pin_attempts.failed(login, now, max_failures, window, lockout)
            if locked:
                raise WrongPin(_('The PIN is not right. Signing is now locked for ${minutes} '
                                 'minutes.', mapping={'minutes': max(1, lockout // 60)}),
                               status=429)
            raise WrongPin(_('The PIN is not right. Nothing was signed.'), status=403)
        self.pin_attempts.succeeded(login)
        return key, record
