"""The CA's OCSP responder at ``/ocsp``: named in every new certificate's Authority
Information Access, it lets poppler's pdfsig (NSS) see a revoked signer by itself, with
no CRL imported, and pyHanko too; it answers what the database says at each request
(across processes), and answers hostile requests with OCSP errors, never a 500."""
import base64
import datetime
import subprocess
import time
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from kp_workspace.populate import SIGNERS
from kp_workspace.signing.pades import _run_sync  # (pyHanko's sync calls: no event loop)
from tests.conftest import SECRET, Browser, close_app, confirm, make_app
from tests.test_long_term_signing import (SIGNER, Served, _new_certificate, _nss_db, _pdfsig,
                                          _sign, _signer_cert)
from tests.test_signing import PDFSIG, revoke_form

OCSP_TYPE = 'application/ocsp-request'


def _aia(cert):
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    return [d.access_location.value for d in aia
            if d.access_method == AuthorityInformationAccessOID.OCSP]


def _request(cert, issuer, algorithm=hashes.SHA1(), nonce=None):
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm)
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def _request_for(issuer, serial, algorithm=hashes.SHA1()):
    """A request for serial number ``serial`` of ``issuer`` (a certificate)."""
    name, key = hashes.Hash(algorithm), hashes.Hash(algorithm)
    name.update(issuer.subject.public_bytes())
    key.update(issuer.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.PKCS1))
    return ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        name.finalize(), key.finalize(), serial, algorithm).build().public_bytes(
        serialization.Encoding.DER)


def _checked(der, ca):
    """The response ``der``, its signature checked against its responder's certificate,
    that one's against the CA's and its delegation (OCSPSigning, no-check)."""
    response = ocsp.load_der_ocsp_response(der)
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    (responder,) = response.certificates
    responder.verify_directly_issued_by(ca)
    assert responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == \
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING])
    assert responder.extensions.get_extension_for_class(x509.OCSPNoCheck)
    assert response.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(
        responder.public_key()).digest
    responder.public_key().verify(response.signature, response.tbs_response_bytes,
                                  padding.PKCS1v15(), response.signature_hash_algorithm)
    return response


def _utc():
    return datetime.datetime.now(datetime.timezone.utc)


# -- the responder itself -----------------------------------------------------------------
def test_the_responder_answers_good_revoked_unknown_for_its_own_certificates():
    from kp_workspace.signing import ocsp as responder
    from kp_workspace.signing.authority import SigningAuthority
    authority = SigningAuthority(SECRET)
    ca = authority.ca_certificate
    authority.issue('u', 'A Signer', 'admin')
    record = authority.activate('u', '123456', SECRET, crl_url='https://kp.example/ca.crl',
                                ocsp_url='https://kp.example/ocsp')
    cert = record.certificate
    assert _aia(cert) == ['https://kp.example/ocsp']

    answer = responder.answer(authority, SECRET, _request(cert, ca, nonce=b'n' * 16))
    response = _checked(answer.body, ca)
    assert (answer.status, response.certificate_status) == (200, ocsp.OCSPCertStatus.GOOD)
    assert response.serial_number == cert.serial_number
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b'n' * 16
    assert datetime.timedelta(minutes=9) < response.next_update_utc - response.this_update_utc
    # SHA-256 CertIDs are answered in kind
    response = _checked(responder.answer(
        authority, SECRET, _request(cert, ca, hashes.SHA256())).body, ca)
    assert isinstance(response.hash_algorithm, hashes.SHA256)
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD

    authority.revoke(record.serial, 'admin', 'left the post', secret=SECRET)
    response = _checked(responder.answer(authority, SECRET, _request(cert, ca)).body, ca)
    assert response.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == record.revoked_at.replace(microsecond=0)
    assert response.revocation_reason is None   # (free text here: no code claimed)

    # a serial number it never certified; one reserved for a certificate awaiting its PIN
    authority.issue('u', 'A Signer', 'admin')
    for serial in (12345, int(authority.current('u').serial, 16)):
        response = _checked(responder.answer(authority, SECRET, _request_for(ca, serial)).body,
                            ca)
        assert response.certificate_status == ocsp.OCSPCertStatus.UNKNOWN

    # another issuer's certificate: not ours to answer
    other = SigningAuthority(SECRET)
    answer = responder.answer(authority, SECRET, _request_for(other.ca_certificate,
                                                              cert.serial_number))
    assert answer.status == 200 and ocsp.load_der_ocsp_response(
        answer.body).response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_the_responder_key_is_decrypted_once_and_renewed_before_it_ends(monkeypatch):
    from kp_workspace.signing import ocsp as responder
    from kp_workspace.signing.authority import (RESPONDER_DAYS, RESPONDER_RENEW,
                                                SigningAuthority)
    authority = SigningAuthority(SECRET)
    ca = authority.ca_certificate
    authority.issue('u', 'A Signer', 'admin')
    cert = authority.activate('u', '123456', SECRET).certificate
    request = _request(cert, ca)
    responder.answer(authority, SECRET, request)          # issues the responder, decrypts
    first = authority.ocsp_cert_pem
    assert b'ENCRYPTED' in authority.ocsp_key_pem
    loads = []
    real = serialization.load_pem_private_key
    monkeypatch.setattr(responder.serialization, 'load_pem_private_key',
                        lambda *a: loads.append(1) or real(*a))
    count, start = 200, time.perf_counter()
    for _n in range(count):
        responder.answer(authority, SECRET, request)
    per_answer = (time.perf_counter() - start) / count
    print(f'OCSP answer: {per_answer * 1000:.2f} ms ({1 / per_answer:.0f}/s)')
    assert loads == [] and per_answer < 0.03    # (about 2 ms; decrypting is 100 ms)
    # renewed when RESPONDER_RENEW is left: the CA's key decrypted to certify a new key,
    # and that one decrypted once
    later = _utc() + datetime.timedelta(days=RESPONDER_DAYS, minutes=1) - RESPONDER_RENEW
    responder.answer(authority, SECRET, request, now=later)
    responder.answer(authority, SECRET, request, now=later)
    assert authority.ocsp_cert_pem != first and loads == [1, 1]
    response = _checked(responder.answer(authority, SECRET, request, now=later).body, ca)
    assert response.certificates[0].not_valid_after_utc > later + RESPONDER_RENEW


# -- over HTTP: hostile requests ----------------------------------------------------------
def test_the_http_routes_answer_every_request_with_an_ocsp_response(app, open_site, demo_url):
    ca = x509.load_pem_x509_certificate(app.get('/ca.pem').body)
    # the demo's certificates name the responder (kpw init --demo, its public_url)
    demo = open_site(lambda site, _conn: site.signing.current(SIGNER).certificate)
    assert _aia(demo) == [demo_url + '/ocsp']
    res = app.post('/ocsp', _request(demo, ca), headers={'Content-Type': OCSP_TYPE})
    assert _checked(res.body, ca).certificate_status == ocsp.OCSPCertStatus.GOOD
    der = _request_for(ca, 424242)

    def status(res):
        assert res.content_type == 'application/ocsp-response'
        return ocsp.load_der_ocsp_response(res.body).response_status

    def single(res):
        assert status(res) == ocsp.OCSPResponseStatus.SUCCESSFUL
        return _checked(res.body, ca).certificate_status

    res = app.post('/ocsp', der, headers={'Content-Type': OCSP_TYPE})   # anyone, no token
    assert single(res) == ocsp.OCSPCertStatus.UNKNOWN and 'no-store' in res.headers[
        'Cache-Control']
    b64 = base64.b64encode(der).decode()
    res = app.get('/ocsp/' + urllib.request.quote(b64, safe=''))
    assert single(res) == ocsp.OCSPCertStatus.UNKNOWN
    assert res.headers['Cache-Control'] == 'max-age=60, public'
    assert single(app.get('/ocsp/' + b64)) == ocsp.OCSPCertStatus.UNKNOWN   # '/' unescaped
    assert single(app.get('/ocsp/' + base64.urlsafe_b64encode(der).decode().rstrip('='))) \
        == ocsp.OCSPCertStatus.UNKNOWN

    malformed = ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    for body in (b'', b'garbage', der[:-3], b'\x30\x03\x02\x01\x01'):
        assert status(app.post('/ocsp', body, headers={'Content-Type': OCSP_TYPE},
                               status=400)) == malformed
    for path in ('/ocsp/', '/ocsp/%21%21', '/ocsp/' + base64.b64encode(b'garbage').decode(),
                 '/ocsp/' + 'A' * 20000):
        assert status(app.get(path, status=400)) == malformed
    # a body that is not an OCSP request's type: read as one all the same, refused as one
    assert status(app.post('/ocsp', {'a': 'b'}, status=400)) == malformed
    huge = b'\x30' * (64 * 1024)
    assert status(app.post('/ocsp', huge, headers={'Content-Type': OCSP_TYPE},
                           status=413)) == malformed
    res = app.get('/ocsp', status=405)
    assert res.headers['Allow'] == 'POST' and status(res) == malformed
    assert app.post('/ocsp/' + b64, status=405).headers['Allow'] == 'GET'
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    foreign = (x509.CertificateBuilder().subject_name(ca.subject).issuer_name(ca.subject)
               .public_key(other.public_key()).serial_number(1)
               .not_valid_before(_utc()).not_valid_after(_utc() + datetime.timedelta(days=1))
               .sign(other, hashes.SHA256()))   # (the same name, another key)
    assert status(app.post('/ocsp', _request_for(foreign, 424242),
                           headers={'Content-Type': OCSP_TYPE})) == \
        ocsp.OCSPResponseStatus.UNAUTHORIZED


# -- every process answers what the database says, at once ---------------------------------
@pytest.mark.parametrize('storage', ['zeo', 'postgresql'], indirect=True)
def test_a_revocation_in_one_process_is_answered_by_another_at_once(var_dir):
    first, second = make_app(var_dir), make_app(var_dir)
    try:
        admin, verifier = Browser(first), Browser(second)
        ca = x509.load_pem_x509_certificate(verifier.get('/ca.pem').body)
        admin.login('admin')

        def asked(der):
            return _checked(verifier.post('/ocsp', der, headers={
                'Content-Type': OCSP_TYPE}).body, ca).certificate_status
        for login in SIGNERS:   # (each the very moment after its revocation)
            form, _count = revoke_form(admin.get('/admin/signing'), login)
            der = _request_for(ca, int(form['serial'].value, 16))
            assert asked(der) == ocsp.OCSPCertStatus.GOOD
            confirm(form.submit(status=200))
            assert asked(der) == ocsp.OCSPCertStatus.REVOKED, login
    finally:
        close_app(first)
        close_app(second)


# -- outside verifiers: pdfsig and pyHanko fetch the answer themselves -----------------------
def test_pdfsig_and_pyhanko_see_a_revoked_signer_through_ocsp_alone(var_dir, tmp_path,
                                                                     monkeypatch):
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.policy_decl import (CertRevTrustPolicy,
                                                   RevocationCheckingPolicy,
                                                   RevocationCheckingRule)
    from kp_workspace.signing import ocsp as responder
    from kp_workspace.views import signing as views
    answered, methods = [], []
    real, real_response = responder.answer, views._ocsp_response

    def answer(*args, **kw):
        result = real(*args, **kw)
        answered.append(result.cert_status)
        return result

    def response(request, der):
        methods.append(request.method)
        return real_response(request, der)
    monkeypatch.setattr(responder, 'answer', answer)
    monkeypatch.setattr(views, '_ocsp_response', response)
    served = Served(var_dir)
    try:
        browser = served.browser
        _new_certificate(browser, SIGNER)
        pdf = _sign(browser)
        sig, cert = _signer_cert(pdf)
        assert _aia(cert) == [served.url + '/ocsp']
        ca_pem = urllib.request.urlopen(served.url + '/ca.pem').read()
        db = _nss_db(tmp_path, [ca_pem])    # the CA trusted; no CRL imported, ever
        out = _pdfsig(db, pdf, tmp_path)
        assert 'Signature is Valid' in out and 'Certificate is Trusted' in out, out
        assert answered == ['good']         # NSS asked the responder itself
        assert methods == ['GET']           # (RFC 5019: GET, the request being small)

        browser.login('admin')
        form, _count = revoke_form(browser.get('/admin/signing'), SIGNER)
        confirm(form.submit(status=200))
        out = _pdfsig(db, pdf, tmp_path)
        assert 'Signature is Valid' in out and 'Certificate has been Revoked' in out, out
        assert answered == ['good', 'revoked']
        # with -no-ocsp (and no CRL imported) pdfsig does not know: what it knew came from
        # the responder (it then says "Unknown issue with Certificate": poppler 22.12 reads
        # NSS's last error code, not the result of the check)
        run = subprocess.run([PDFSIG, '-no-ocsp', '-nssdir', f'sql:{db}',
                              str(tmp_path / 'check.pdf')],
                             capture_output=True, text=True, timeout=60)
        assert 'Signature is Valid' in run.stdout and 'Revoked' not in run.stdout, run.stdout
        assert len(answered) == 2

        # pyHanko, with OCSP (and only OCSP) required and fetched over HTTP
        context = ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(
                x509.load_pem_x509_certificate(ca_pem).public_bytes(
                    serialization.Encoding.DER))],
            allow_fetching=True, revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(
                ee_certificate_rule=RevocationCheckingRule.OCSP_REQUIRED,
                intermediate_ca_cert_rule=RevocationCheckingRule.NO_CHECK)))
        status = _run_sync(validate_pdf_signature, sig, context)
        assert status.intact and status.revoked and not status.bottom_line
        assert answered[2:] == ['revoked'] and methods[2:] == ['POST']
    finally:
        served.close()


def test_the_ocsp_url_setting(tmp_path):
    from kp_workspace.settings import read_settings
    settings = {'kp_workspace.var_dir': str(tmp_path), 'kp_workspace.secret': SECRET,
                'kp_workspace.public_url': 'https://eoffice.kp.example/kpw/'}
    assert read_settings({'here': str(tmp_path)}, settings).ocsp_url == \
        'https://eoffice.kp.example/kpw/ocsp'
