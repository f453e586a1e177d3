"""Signatures verifiable by outsiders for years: the CA's CRL at ``/ca.crl`` (named in
every new certificate, re-issued on every revocation), a revoked signer seen by
poppler's pdfsig and by pyHanko through it (through OCSP: tests/test_ocsp.py), and
PAdES B-LT/B-LTA documents that still verify after their signer's certificate has
expired."""
import asyncio
import datetime
import io
import socket
import subprocess
import threading
import time
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from kp_workspace.signing.pades import _run_sync  # (pyHanko's sync calls: no event loop)
from tests.conftest import SECRET, Browser, close_app, confirm, make_app, token_getter
from tests.test_signing import (CERTUTIL, PDFSIG, _tsa_server, revoke_form, sign_demo,
                                verify_api)

CRLUTIL = 'crlutil'
SIGNER = 'secretary.finance'
NEW_PIN = '246813'


def _utc():
    return datetime.datetime.now(datetime.timezone.utc)


def _crl(app):
    res = app.get('/ca.crl')
    assert res.content_type == 'application/pkix-crl'
    return x509.load_der_x509_crl(res.body)


def _crl_number(crl):
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def _cdp(cert):
    (point,) = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    return [n.value for n in point.full_name]


def test_the_ca_publishes_a_crl_renewed_on_each_revocation(app):
    ca = x509.load_pem_x509_certificate(app.get('/ca.pem').body)
    crl = _crl(app)   # anyone, no sign-in
    assert crl.is_signature_valid(ca.public_key()) and crl.issuer == ca.subject
    assert len(crl) == 0
    assert datetime.timedelta(days=6) < crl.next_update_utc - _utc() <= datetime.timedelta(days=7)
    number = _crl_number(crl)
    assert _crl(app).public_bytes(Encoding.DER) == crl.public_bytes(Encoding.DER)  # stored
    app.login('admin')
    page = app.get('/admin/signing')
    assert '/ca.crl' in page.text
    form, _count = revoke_form(page, SIGNER)
    serial = int(form['serial'].value, 16)
    confirm(form.submit(status=200))
    crl = _crl(app)
    assert _crl_number(crl) == number + 1 and crl.is_signature_valid(ca.public_key())
    revoked = crl.get_revoked_certificate_by_serial_number(serial)
    assert revoked is not None and _utc() - revoked.revocation_date_utc < datetime.timedelta(
        minutes=5)


def test_a_crl_is_reissued_when_a_day_old_and_names_only_this_cas_certificates():
    from kp_workspace.signing.authority import SigningAuthority
    authority = SigningAuthority(SECRET)
    now = _utc()
    first = authority.current_crl(SECRET, now)
    assert authority.current_crl(SECRET, now + datetime.timedelta(hours=23)) == first
    later = x509.load_der_x509_crl(
        authority.current_crl(SECRET, now + datetime.timedelta(hours=24)))
    assert _crl_number(later) == 2 and later.last_update_utc == (
        now + datetime.timedelta(hours=24)).replace(microsecond=0)
    # a new certificate names the CRL's address; revoking it re-issues the CRL at once
    authority.issue('u', 'A Signer', 'admin')
    record = authority.activate('u', '123456', SECRET, crl_url='https://kp.example/ca.crl')
    assert _cdp(record.certificate) == ['https://kp.example/ca.crl']
    authority.revoke(record.serial, 'admin', secret=SECRET)
    crl = x509.load_der_x509_crl(authority.crl_der)
    assert _crl_number(crl) == 3 and [r.serial_number for r in crl] == [
        record.certificate.serial_number]


def test_new_certificates_name_the_public_url_setting(app, demo_url):
    # the demo's certificates were made with the setting (the tests' demo_url)
    from pyhanko.pdf_utils.reader import PdfFileReader
    tokens = token_getter(app)
    pdf = sign_demo(app, tokens, issue=False)[3]
    (sig,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
    assert _cdp(cert) == [demo_url + '/ca.crl']


# -- a real HTTP server, as an outside verifier sees the workspace ------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Served:
    """The app on ``var_dir`` served by waitress on a free port (its ``public_url``)."""

    def __init__(self, var_dir, **settings):
        from waitress.server import create_server
        port = _free_port()
        self.url = f'http://127.0.0.1:{port}'
        self.app = make_app(var_dir, **{'kp_workspace.public_url': self.url, **settings})
        self.server = create_server(self.app, host='127.0.0.1', port=port, threads=2)
        threading.Thread(target=self.server.run, daemon=True).start()
        self.browser = Browser(self.app)

    def close(self):
        self.server.close()
        close_app(self.app)


def _new_certificate(browser, login, now=None, monkeypatch=None):
    """The administrator revokes ``login``'s certificate and issues another; ``login``
    sets its PIN (at ``now``, if given: the certificate's validity starts then)."""
    browser.login('admin')
    form, _count = revoke_form(browser.get('/admin/signing'), login)
    confirm(form.submit(status=200))
    form = next(f for f in browser.get('/admin/signing').forms.values()
                if f.fields.get('op') and f['op'].value == 'issue')
    form['login'] = login
    form.submit(status=303)
    browser.reset()
    browser.login(login)
    form = browser.get('/account/signing').forms['kpw-form']
    form['pin'], form['again'] = NEW_PIN, NEW_PIN
    if now is not None:
        monkeypatch.setattr('kp_workspace.signing.authority._now', lambda: now)
    form.submit(status=303)
    if now is not None:
        monkeypatch.undo()
    browser.reset()


def _sign(browser, login=SIGNER):
    tokens = token_getter(browser)
    token = tokens(login)
    inbox = browser.api('get', '/api/v1/inbox', token).json['items']
    (draft,) = browser.api('get', f'/api/v1/files/{inbox[0]["id"]}', token).json['drafts']
    act = f'/api/v1/drafts/{draft["id"]}/actions'
    browser.api('post_json', f'{act}/approve', token, params={})
    browser.api('post_json', f'{act}/sign', token, params={'pin': NEW_PIN})
    return browser.api('get', f'/api/v1/drafts/{draft["id"]}/pdf', token).body


def _nss_db(tmp_path, ca_pems):
    if not (PDFSIG and CERTUTIL):
        pytest.fail('pdfsig, certutil and crlutil are needed (make test installs '
                    'poppler-utils, libnss3-tools)')
    db = tmp_path / 'nss'
    db.mkdir()
    subprocess.run([CERTUTIL, '-N', '-d', f'sql:{db}', '--empty-password'], check=True)
    for n, pem in enumerate(ca_pems):
        (tmp_path / f'ca{n}.pem').write_bytes(pem)
        subprocess.run([CERTUTIL, '-A', '-d', f'sql:{db}', '-n', f'ca{n}', '-t', 'CT,C,C',
                        '-i', str(tmp_path / f'ca{n}.pem')], check=True)
    return db


def _pdfsig(db, pdf, tmp_path, *options):
    path = tmp_path / 'check.pdf'
    path.write_bytes(pdf)
    run = subprocess.run([PDFSIG, *options, '-nssdir', f'sql:{db}', str(path)],
                         capture_output=True, text=True, timeout=60)
    return run.stdout + run.stderr


def _signer_cert(pdf):
    from pyhanko.pdf_utils.reader import PdfFileReader
    (sig,) = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures
    return sig, x509.load_der_x509_certificate(sig.signer_cert.dump())


def test_a_revoked_signer_is_reported_revoked_by_pdfsig_and_pyhanko_through_the_crl(
        var_dir, tmp_path):
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    served = Served(var_dir)
    try:
        browser = served.browser
        _new_certificate(browser, SIGNER)
        pdf = _sign(browser)
        sig, cert = _signer_cert(pdf)
        (crl_url,) = _cdp(cert)
        assert crl_url == served.url + '/ca.crl'
        ca_pem = urllib.request.urlopen(served.url + '/ca.pem').read()
        db = _nss_db(tmp_path, [ca_pem])
        out = _pdfsig(db, pdf, tmp_path)
        assert 'Signature is Valid' in out and 'Certificate is Trusted' in out, out

        browser.login('admin')
        form, _count = revoke_form(browser.get('/admin/signing'), SIGNER)
        confirm(form.submit(status=200))
        # through the CRL alone (-no-ocsp; the OCSP responder is tests/test_ocsp.py's):
        # pdfsig's NSS never fetches a CRL itself (poppler asks NSS for CRL checks with
        # network fetching forbidden): without the CRL in its database it cannot know
        assert 'Revoked' not in _pdfsig(db, pdf, tmp_path, '-no-ocsp')
        # the verifier takes the CRL from the address the certificate names, over HTTP
        (tmp_path / 'ca.crl').write_bytes(urllib.request.urlopen(crl_url).read())
        subprocess.run([CRLUTIL, '-I', '-d', f'sql:{db}', '-t', '1', '-i',
                        str(tmp_path / 'ca.crl')], check=True)
        out = _pdfsig(db, pdf, tmp_path, '-no-ocsp')
        assert 'Signature is Valid' in out and 'Certificate has been Revoked' in out, out

        # pyHanko, fetching revocation information from the CDP (over HTTP) and requiring it
        context = ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(
                x509.load_pem_x509_certificate(ca_pem).public_bytes(Encoding.DER))],
            allow_fetching=True, revocation_mode='require')
        status = _run_sync(validate_pdf_signature, sig, context)
        assert status.intact and status.revoked and not status.bottom_line
        assert verify_api(browser, pdf)['signatures'][0]['revoked'] is True
    finally:
        served.close()


SIGNER_DAYS_LEFT = 10   # the signer's certificate expires 10 days after it signs


def _validation_spec(roots):
    """pyHanko's AdES validation: trusting ``roots`` (asn1crypto), the signer's CRL
    required, and only what the document carries (nothing fetched)."""
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec, RevinfoOnlineFetchingRule, RevocationInfoGatheringSpec,
        SignatureValidationSpec)
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import (CertRevTrustPolicy,
                                                   RevocationCheckingPolicy,
                                                   RevocationCheckingRule)
    from pyhanko_certvalidator.registry import SimpleTrustManager

    def policy(rule):
        return CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=roots),
            revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(
                ee_certificate_rule=rule,
                intermediate_ca_cert_rule=RevocationCheckingRule.NO_CHECK)))
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=policy(RevocationCheckingRule.CRL_REQUIRED),
        # (the test TSA's certificate names no CRL)
        ts_cert_validation_policy=policy(RevocationCheckingRule.CHECK_IF_DECLARED),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY)))


def test_issued_documents_carry_long_term_data_and_verify_after_the_signer_expired(
        var_dir, tmp_path, monkeypatch):
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.ades.report import AdESPassed
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
    from kp_workspace.signing.authority import SIGNER_YEARS
    tsa_url, tsa_ca, tsa_server, _served = _tsa_server(tmp_path)
    served = Served(var_dir, **{'kp_workspace.tsa_url': tsa_url})
    try:
        browser = served.browser
        browser.login('admin')
        form = next(f for f in browser.get('/admin/signing').forms.values() if 'pem' in f.fields)
        form['pem'] = tsa_ca.decode()
        form.submit(status=303)
        browser.reset()
        # a certificate near its end (as if its PIN had been set SIGNER_YEARS ago)
        expiry = _utc() + datetime.timedelta(days=SIGNER_DAYS_LEFT)
        _new_certificate(browser, SIGNER, monkeypatch=monkeypatch,
                         now=expiry - datetime.timedelta(days=365 * SIGNER_YEARS))
        pdf = _sign(browser)
        sig, cert = _signer_cert(pdf)
        assert cert.not_valid_after_utc <= expiry

        # B-LT: the chain and the CRL in the document security store; B-LTA: a document
        # time stamp after them
        reader = PdfFileReader(io.BytesIO(pdf))
        dss = reader.root['/DSS']
        assert [c.get_object().data for c in dss['/CRLs']] == [browser.get('/ca.crl').body]
        ca_der = x509.load_pem_x509_certificate(browser.get('/ca.pem').body).public_bytes(
            Encoding.DER)
        assert ca_der in [c.get_object().data for c in dss['/Certs']]
        assert len(reader.embedded_timestamp_signatures) == 1
        (report,) = verify_api(browser, pdf)['signatures']
        assert (report['valid'], report['timestamped'], report['changes']) == (
            True, True, 'none')

        # a day after the signer's certificate expired: checked then as of then, the
        # signature is not valid; with what the document carries, it is
        later = cert.not_valid_after_utc + datetime.timedelta(days=1)
        roots = [asn1_x509.Certificate.load(ca_der), asn1_x509.Certificate.load(
            x509.load_pem_x509_certificate(tsa_ca).public_bytes(Encoding.DER))]
        status = _run_sync(validate_pdf_signature, sig, ValidationContext(
            trust_roots=roots, moment=later, allow_fetching=False))
        assert status.intact and not status.bottom_line
        result = _run_sync(asyncio.run, ades_lta_validation(
            reader.embedded_regular_signatures[0], _validation_spec(roots),
            ValidationTimingInfo(validation_time=later, best_signature_time=later,
                                 point_in_time_validation=False)))
        assert result.ades_subindic == AdESPassed.OK, result
        assert result.best_signature_time < cert.not_valid_after_utc
    finally:
        served.close()
        tsa_server.shutdown()


def test_pdfsig_still_finds_the_signature_valid_once_the_certificate_expired(tmp_path):
    """poppler reads neither the DSS nor time stamps: it checks the signature, and the
    certificate as of today."""
    from reportlab.pdfgen import canvas
    from kp_workspace.signing import WorkspaceKeySigner, long_term_data, sign_pdf
    from kp_workspace.signing.authority import SIGNER_YEARS, SigningAuthority, load_pem
    authority = SigningAuthority(SECRET)
    authority.issue('u', 'Short Lived', 'admin')
    expiry = _utc() + datetime.timedelta(seconds=3)
    record = authority.activate('u', '123456', SECRET, crl_url='http://127.0.0.1:9/ca.crl',
                                now=expiry - datetime.timedelta(days=365 * SIGNER_YEARS))
    key, record = authority.unlock('u', '123456', SECRET)
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, 'An order')
    page.showPage()
    page.save()
    signer = WorkspaceKeySigner(key, record.certificate, [load_pem(authority.ca_cert_pem)],
                                record.name, 'Post')
    signer.long_term = long_term_data(authority, SECRET)
    pdf = sign_pdf(out.getvalue(), signer, 'Approved')
    assert '/DSS' in pdf.decode('latin-1')
    db = _nss_db(tmp_path, [authority.ca_cert_pem])
    assert 'Certificate is Trusted' in _pdfsig(db, pdf, tmp_path)
    time.sleep(max(0.0, (record.certificate.not_valid_after_utc - _utc()).total_seconds()) + 1)
    out = _pdfsig(db, pdf, tmp_path)
    assert 'Signature is Valid' in out and 'Certificate has Expired' in out, out


def test_the_public_url_setting(tmp_path):
    from kp_workspace.settings import SettingsError, read_settings

    def read(value):
        settings = {'kp_workspace.var_dir': str(tmp_path), 'kp_workspace.secret': SECRET}
        if value is not None:
            settings['kp_workspace.public_url'] = value
        return read_settings({'here': str(tmp_path)}, settings)
    assert read(None).crl_url == 'http://127.0.0.1:6543/ca.crl'
    assert read(' https://eoffice.kp.example/kpw/ ').crl_url == \
        'https://eoffice.kp.example/kpw/ca.crl'
    for bad in ('eoffice.kp.example', 'ftp://x/', 'https://', 'https://x/?a=1'):
        with pytest.raises(SettingsError, match='public_url'):
            read(bad)
