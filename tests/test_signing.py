"""Official PDFs and signatures: sign, sign again, verify with pyHanko and with
poppler's pdfsig, tampering, wrong PINs, revocation, who may sign, Urdu text."""
import datetime
import io
import os
import shutil
import subprocess
import unicodedata

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, pkcs12
from cryptography.x509.oid import NameOID
from pypdf import PdfReader, PdfWriter

from kp_workspace.populate import DEMO_PIN
from tests.conftest import close_app, confirm, write_ini

PDFSIG = shutil.which('pdfsig')
CERTUTIL = shutil.which('certutil')


def api(app, tokens, login, method, path, status=200, **kw):
    return app.api(method, path, tokens(login), status=status, **kw)


def demo_draft(app, tokens):
    """The demo notification: drafted by so.finance, put up to secretary.finance."""
    inbox = api(app, tokens, 'secretary.finance', 'get', '/api/v1/inbox').json['items']
    file_id = inbox[0]['id']
    f = api(app, tokens, 'secretary.finance', 'get', f'/api/v1/files/{file_id}').json
    (draft,) = f['drafts']
    assert draft['state'] == 'pending' and draft['kind'] == 'notification'
    return file_id, draft['id']


def sign_demo(app, tokens, issue=True):
    file_id, draft_id = demo_draft(app, tokens)
    act = f'/api/v1/drafts/{draft_id}/actions'
    api(app, tokens, 'secretary.finance', 'post_json', f'{act}/approve', params={})
    signed = api(app, tokens, 'secretary.finance', 'post_json', f'{act}/sign',
                 params={'pin': DEMO_PIN}).json
    if issue:
        api(app, tokens, 'secretary.finance', 'post_json', f'{act}/issue', params={})
    pdf = api(app, tokens, 'secretary.finance', 'get', f'/api/v1/drafts/{draft_id}/pdf').body
    return file_id, draft_id, signed, pdf


def verify_api(app, data, status=200):
    return app.post('/api/v1/verify', upload_files=[('file', 'doc.pdf', data)],
                    status=status).json


@pytest.fixture
def nss_db(tmp_path, app, demo_responder):
    """An NSS database trusting the workspace CA (downloaded from /ca.pem); the demo's
    OCSP responder, which pdfsig asks, is up."""
    if not (PDFSIG and CERTUTIL):
        pytest.fail('pdfsig and certutil are needed (make test installs poppler-utils, '
                    'libnss3-tools)')
    ca = tmp_path / 'ca.pem'
    ca.write_bytes(app.get('/ca.pem').body)
    db = tmp_path / 'nss'
    db.mkdir()
    subprocess.run([CERTUTIL, '-N', '-d', f'sql:{db}', '--empty-password'], check=True)
    subprocess.run([CERTUTIL, '-A', '-d', f'sql:{db}', '-n', 'kpw-ca', '-t', 'CT,C,C', '-i',
                    str(ca)], check=True)
    return db


def pdfsig(db, data, tmp_path):
    path = tmp_path / 'check.pdf'
    path.write_bytes(data)
    run = subprocess.run([PDFSIG, '-nssdir', f'sql:{db}', str(path)], capture_output=True,
                         text=True)
    return run.stdout + run.stderr


def test_secretary_signs_and_issues_the_demo_notification(app, tokens, nss_db, tmp_path,
                                                          audit_entries):
    file_id, draft_id, signed, pdf = sign_demo(app, tokens)
    assert signed['state'] == 'signed'
    assert signed['number'].startswith('FD/N/') and signed['dated_at']
    assert signed['signatures'][0]['name'] == 'Imran Yousafzai'
    # pyHanko (through the public API, no sign-in)
    result = verify_api(app, pdf)
    assert result['valid'] is True
    (sig,) = result['signatures']
    assert (sig['signer'], sig['signer_login'], sig['intact'], sig['trusted'], sig['revoked'],
            sig['changed_after']) == ('Imran Yousafzai', 'secretary.finance', True, True,
                                      False, False)
    # poppler, trusting only the workspace CA
    out = pdfsig(nss_db, pdf, tmp_path)
    assert 'Signature is Valid' in out and 'Certificate is Trusted' in out, out
    # published: the public page lists it and serves the same signed PDF
    public = app.get('/public/notifications')
    assert signed['number'] in public.text
    assert app.get(f'/public/notifications/{draft_id}.pdf').body == pdf
    actions = [e.action for e in audit_entries(20)]
    assert 'draft.signed' in actions and 'draft.issued' in actions
    # the text is in the PDF, English and Urdu (extracted in logical order)
    text = unicodedata.normalize('NFKC', PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert 'Revision of pension rates' in text and signed['number'] in text
    assert 'پنشن' in text and 'نافذ' in text


def test_a_signed_document_cannot_change_or_be_signed_twice(app, tokens):
    file_id, draft_id, signed, pdf = sign_demo(app, tokens, issue=False)
    res = api(app, tokens, 'secretary.finance', 'post_json',
              f'/api/v1/drafts/{draft_id}/actions/sign', status=409, params={'pin': DEMO_PIN})
    assert 'cannot be done while it is signed' in res.json['error']
    app.login('secretary.finance')
    page = app.get(f'/files/{file_id}')
    local = draft_id.split('-')[1]
    assert not [f for f in page.forms.values() if '/drafts/' in (f.action or '')
                and f.action.split('/')[-1] in ('revise', 'edit', 'sign')]
    # a forged post of the actions the page no longer offers changes nothing
    for action in ('revise', 'edit'):
        res = app.post(f'/files/{file_id}/drafts/{local}/actions/{action}',
                       {'csrf_token': app.csrf(), 'subject': 'Changed', 'body': 'Changed'},
                       status=409)
        assert 'signed' in res.text
    res = api(app, tokens, 'secretary.finance', 'get', f'/api/v1/files/{file_id}').json
    assert res['drafts'][0]['state'] == 'signed'
    assert api(app, tokens, 'secretary.finance', 'get',
               f'/api/v1/drafts/{draft_id}/pdf').body == pdf


def test_a_changed_byte_is_refused_by_pyhanko_and_pdfsig(app, tokens, nss_db, tmp_path):
    _f, _d, signed, pdf = sign_demo(app, tokens, issue=False)
    at = pdf.index(b'Revision of pension rates') if b'Revision of pension rates' in pdf \
        else pdf.index(b'stream') + 40
    tampered = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1:]
    (sig,) = verify_api(app, tampered)['signatures']
    assert sig['intact'] is False and sig['valid'] is False
    out = pdfsig(nss_db, tampered, tmp_path)
    assert 'Signature is Valid' not in out, out


def test_a_change_appended_after_signing_is_caught(app, tokens, nss_db, tmp_path):
    _f, _d, signed, pdf = sign_demo(app, tokens, issue=False)
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.add_blank_page()  # an "extra page" slipped in after signing
    out = io.BytesIO()
    writer.write(out)
    appended = out.getvalue()
    assert appended.startswith(pdf)
    (sig,) = verify_api(app, appended)['signatures']
    assert sig['intact'] is True  # the signed bytes are untouched...
    assert sig['changed_after'] is True and sig['valid'] is False  # ...but the file changed


def test_summary_signed_by_the_secretary_then_decided_by_the_cm(app, tokens, nss_db, tmp_path):
    s = api(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/summaries',
            201, params={'subject': 'Grant for flood relief', 'background': 'Floods.',
                         'proposal': 'Release Rs. 100 million.',
                         'decision_sought': 'Approval, please.'}).json
    act = f'/api/v1/summaries/{s["id"]}/actions'
    api(app, tokens, 'so.finance', 'post_json', f'{act}/submit',
        params={'to_post': 'secretary-finance'})
    api(app, tokens, 'secretary.finance', 'post_json', f'{act}/sign', params={'pin': DEMO_PIN})
    api(app, tokens, 'secretary.finance', 'post_json', f'{act}/put_up',
        params={'to_post': 'chief-minister'})
    # the decision needs the PIN
    api(app, tokens, 'cm', 'post_json', f'{act}/decide', 403,
        params={'decision': 'approved', 'pin': '000000'})
    decided = api(app, tokens, 'cm', 'post_json', f'{act}/decide',
                  params={'decision': 'approved', 'remarks': 'Approved.', 'pin': DEMO_PIN}).json
    assert decided['state'] == 'decided'
    assert [x['login'] for x in decided['signatures']] == ['secretary.finance', 'cm']
    pdf = api(app, tokens, 'so.finance', 'get', f'/api/v1/summaries/{s["id"]}/pdf').body
    result = verify_api(app, pdf)
    assert result['valid'] is True
    first, second = result['signatures']
    assert (first['signer_login'], first['changes']) == ('secretary.finance', 'signatures')
    assert (second['signer_login'], second['changes']) == ('cm', 'none')
    out = pdfsig(nss_db, pdf, tmp_path)
    assert out.count('Signature is Valid') == 2 and out.count('Certificate is Trusted') == 2, out


def test_wrong_pins_are_refused_counted_and_lock_signing(app, tokens, audit_entries):
    file_id, draft_id = demo_draft(app, tokens)
    act = f'/api/v1/drafts/{draft_id}/actions'
    api(app, tokens, 'secretary.finance', 'post_json', f'{act}/approve', params={})
    for attempt in range(4):
        res = api(app, tokens, 'secretary.finance', 'post_json', f'{act}/sign', 403,
                  params={'pin': '111111'})
        assert res.json['error'] == 'The PIN is not right. Nothing was signed.'
    assert audit_entries(1)[0].action == 'signing.wrong_pin'  # committed, not rolled back
    res = api(app, tokens, 'secretary.finance', 'post_json', f'{act}/sign', 429,
              params={'pin': '111111'})
    assert 'locked' in res.json['error']
    # locked: even the right PIN is refused now, and nothing was signed
    res = api(app, tokens, 'secretary.finance', 'post_json', f'{act}/sign', 429,
              params={'pin': DEMO_PIN})
    draft = api(app, tokens, 'secretary.finance', 'get', f'/api/v1/files/{file_id}').json[
        'drafts'][0]
    assert (draft['state'], draft['number'], draft['signatures']) == ('approved', None, [])


def test_who_may_sign(app, tokens):
    file_id, draft_id = demo_draft(app, tokens)
    act = f'/api/v1/drafts/{draft_id}/actions'
    api(app, tokens, 'secretary.finance', 'post_json', f'{act}/approve', params={})
    # another department's secretary cannot even see it
    api(app, tokens, 'secretary.hed', 'post_json', f'{act}/sign', 404, params={'pin': DEMO_PIN})
    # the section officer drafted it but may not sign (no signing permission)
    api(app, tokens, 'secretary.finance', 'post_json', f'/api/v1/files/{file_id}/actions/return',
        params={'remarks': 'see me'})
    res = api(app, tokens, 'so.finance', 'post_json', f'{act}/sign', 403, params={'pin': DEMO_PIN})
    assert 'may not sign' in res.json['error']
    # administrators manage people, not files
    api(app, tokens, 'admin', 'post_json', f'{act}/sign', 404, params={'pin': DEMO_PIN})


def revoke_form(page, login):
    forms = [f for f in page.forms.values() if 'holder' in f.fields]
    return next(f for f in forms if f['holder'].value == login), len(forms)


def test_a_revoked_certificate_cannot_sign_and_its_signatures_are_reported(app, tokens,
                                                                          audit_entries):
    _f, draft_id, signed, pdf = sign_demo(app, tokens)
    assert verify_api(app, pdf)['valid'] is True
    app.login('admin')
    form, count = revoke_form(app.get('/admin/signing'), 'secretary.finance')
    assert count == 3  # the three demo signers
    form['reason'] = 'Key compromised'
    confirm(form.submit(status=200))
    assert audit_entries(1)[0].action == 'signing.certificate_revoked'
    result = verify_api(app, pdf)
    (sig,) = result['signatures']
    assert (sig['revoked'], sig['valid'], result['valid']) == (True, False, False)
    assert sig['intact'] is True and sig['trusted'] is True
    # and it cannot sign any more
    s = api(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/summaries', 201,
            params={'subject': 'Revoked signer test', 'background': 'b', 'proposal': 'p',
                    'decision_sought': 'd'}).json
    api(app, tokens, 'so.finance', 'post_json', f'/api/v1/summaries/{s["id"]}/actions/submit',
        params={'to_post': 'secretary-finance'})
    res = api(app, tokens, 'secretary.finance', 'post_json',
              f'/api/v1/summaries/{s["id"]}/actions/sign', 403, params={'pin': DEMO_PIN})
    assert 'revoked' in res.json['error']


def test_an_officer_sets_a_pin_after_the_administrator_issues_a_certificate(app, tokens):
    app.login('admin')
    page = app.get('/admin/signing')
    form = next(f for f in page.forms.values() if f.fields.get('op') and f['op'].value == 'issue')
    form['login'] = 'secretary.hed'
    form.submit(status=303)
    form = next(f for f in app.get('/admin/signing').forms.values()
                if f.fields.get('op') and f['op'].value == 'issue')
    form['login'] = 'secretary.hed'
    res = form.submit(status=409)
    assert 'already has a signing certificate' in res.text
    app.reset()
    app.login('secretary.hed')
    page = app.get('/account/signing')
    assert 'Waiting for you to set a signing PIN' in page.text
    form = page.forms['kpw-form']
    form['pin'], form['again'] = '12345', '12345'
    assert 'A signing PIN is 6 to 12 digits.' in form.submit(status=400).text
    form = app.get('/account/signing').forms['kpw-form']
    form['pin'], form['again'] = '135790', '135791'
    assert 'The two PINs differ.' in form.submit(status=400).text
    form = app.get('/account/signing').forms['kpw-form']
    form['pin'], form['again'] = '135790', '135790'
    form.submit(status=303)
    page = app.get('/account/signing')
    assert 'Ready to sign' in page.text
    form = page.forms['kpw-form']
    form['current'], form['pin'], form['again'] = '999999', '246802', '246802'
    assert 'The PIN is not right.' in form.submit(status=403).text
    form = app.get('/account/signing').forms['kpw-form']
    form['current'], form['pin'], form['again'] = '135790', '246802', '246802'
    form.submit(status=303)


def test_officers_without_a_certificate_are_told_how_to_get_one(app, tokens):
    app.login('so.finance')
    assert 'You have no signing certificate' in app.get('/account/signing').text
    app.get('/admin/signing', status=403)


def test_verification_of_bad_input(app):
    res = verify_api(app, b'%PDF-1.7 this is not really a pdf', status=400)
    assert res['error'] == 'This file is not a PDF that can be read.'
    app.post('/api/v1/verify', status=400)
    unsigned = io.BytesIO()
    w = PdfWriter()
    w.add_blank_page(200, 200)
    w.write(unsigned)
    assert verify_api(app, unsigned.getvalue()) == {'valid': False, 'signatures': []}
    page = app.get('/verify')
    form = page.forms[0] if 0 in page.forms else next(iter(page.forms.values()))
    form['file'] = ('x.pdf', unsigned.getvalue())
    assert 'This PDF carries no digital signature.' in form.submit().text
    form['file'] = ('x.pdf', b'not a pdf')
    assert 'This file is not a PDF that can be read.' in form.submit(status=400).text
    assert app.get('/ca.pem').body.startswith(b'-----BEGIN CERTIFICATE-----')
    assert 'No notification has been issued yet.' in app.get('/public/notifications').text
    app.get('/public/notifications/nosuch-d1.pdf', status=404)


def test_an_unissued_notification_is_not_public(app, tokens):
    _f, draft_id, signed, pdf = sign_demo(app, tokens, issue=False)
    app.get(f'/public/notifications/{draft_id}.pdf', status=404)
    assert signed['number'] not in app.get('/public/notifications').text


def test_whole_file_export_has_the_noting_sheet_register_and_correspondence(app, tokens):
    from reportlab.pdfgen import canvas
    file_id, draft_id, signed, _pdf = sign_demo(app, tokens)
    letter = io.BytesIO()
    c = canvas.Canvas(letter)
    for n in range(3):
        c.drawString(100, 700, f'Letter page {n + 1}')
        c.showPage()
    c.save()
    api(app, tokens, 'secretary.finance', 'post', f'/api/v1/files/{file_id}/attachments', 201,
        params={'title': 'Letter from the Accountant General'},
        upload_files=[('file', 'letter.pdf', letter.getvalue())])
    res = api(app, tokens, 'secretary.finance', 'get', f'/api/v1/files/{file_id}/pdf')
    reader = PdfReader(io.BytesIO(res.body))
    titles = [o.title for o in reader.outline if not isinstance(o, list)]
    assert titles == ['Noting sheet', 'Movement register', 'Correspondence']
    children = reader.outline[-1]
    assert [o.title for o in children] == ['Letter from the Accountant General',
                                           f'{signed["number"]}: Revision of pension rates']
    text = ' '.join(p.extract_text() for p in reader.pages)
    assert 'NOTING SHEET' in text and 'MOVEMENT REGISTER' in text and 'Letter page 3' in text
    api(app, tokens, 'secretary.hed', 'get', f'/api/v1/files/{file_id}/pdf', 404)


def _test_ca(common_name):
    """A CA for tests (another authority than the workspace's): (key, certificate)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (_builder(name, name, key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _issued_by(ca_key, ca, common_name, extension):
    """A key and a certificate for ``common_name`` issued by ``ca``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (_builder(name, ca.subject, key).add_extension(extension, critical=True)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _builder(subject, issuer, key):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)))


def _external_signer(tmp_path):
    ca_key, ca = _test_ca('External Test CA')
    key, cert = _issued_by(ca_key, ca, 'Token Holder', x509.KeyUsage(
        True, True, False, False, False, False, False, False, False))
    p12 = pkcs12.serialize_key_and_certificates(b'holder', key, cert, [ca],
                                                BestAvailableEncryption(b'p12-pass'))
    (tmp_path / 'signer.p12').write_bytes(p12)
    (tmp_path / 'ca.pem').write_bytes(ca.public_bytes(Encoding.PEM))


def test_imported_pkcs12_signs_and_verifies_once_its_ca_is_trusted(app, tokens, wsgi_app,
                                                                 var_dir, tmp_path, monkeypatch):
    from kp_workspace.scripts import kpw
    _external_signer(tmp_path)
    file_id, draft_id = demo_draft(app, tokens)
    api(app, tokens, 'secretary.finance', 'post_json',
        f'/api/v1/drafts/{draft_id}/actions/approve', params={})
    close_app(wsgi_app)
    ini = write_ini(tmp_path, var_dir)
    # replace secretary.finance's workspace certificate by the imported one
    monkeypatch.setattr('sys.stdin', io.StringIO('p12-pass\n112233\n'))
    out = io.StringIO()
    assert kpw.main(['-c', ini, 'cert', 'import', 'secretary.finance',
                     str(tmp_path / 'signer.p12')], out=out, err=out) == 1
    assert 'already has a signing certificate' in out.getvalue()
    from tests.conftest import Browser, make_app
    again = make_app(var_dir)
    try:
        browser = Browser(again)
        browser.login('admin')
        confirm(revoke_form(browser.get('/admin/signing'), 'secretary.finance')[0].submit(
            status=200))
    finally:
        close_app(again)
    monkeypatch.setattr('sys.stdin', io.StringIO('p12-pass\n112233\n'))
    assert kpw.main(['-c', ini, 'cert', 'import', 'secretary.finance',
                     str(tmp_path / 'signer.p12')], out=io.StringIO()) == 0
    again = make_app(var_dir)
    try:
        browser = Browser(again)
        token = browser.token('secretary.finance')
        browser.api('post_json', f'/api/v1/drafts/{draft_id}/actions/sign', token,
                    params={'pin': '112233'})
        pdf = browser.api('get', f'/api/v1/drafts/{draft_id}/pdf', token).body
        (sig,) = verify_api(browser, pdf)['signatures']
        assert (sig['signer'], sig['intact'], sig['trusted']) == ('Token Holder', True, False)
    finally:
        close_app(again)
    out = io.StringIO()
    assert kpw.main(['-c', ini, 'ca', 'import', str(tmp_path / 'ca.pem')], out=out) == 0
    (tmp_path / 'signed.pdf').write_bytes(pdf)
    out = io.StringIO()
    assert kpw.main(['-c', ini, 'verify', str(tmp_path / 'signed.pdf')], out=out) == 0
    assert 'Token Holder' in out.getvalue() and 'all signatures valid' in out.getvalue()
    os.remove(tmp_path / 'signed.pdf')


def _tsa_server(tmp_path):
    """A real RFC 3161 time-stamping service over HTTP on loopback (pyHanko's in-process
    TSA behind http.server), with its own CA.  :returns: (url, CA PEM, server)."""
    import http.server
    import threading
    from asn1crypto import keys as asn1_keys, tsp, x509 as asn1_x509
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    ca_key, ca = _test_ca('Test TSA Root')
    key, cert = _issued_by(ca_key, ca, 'Test TSA', x509.ExtendedKeyUsage(
        [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]))
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())),
        certs_to_embed=[asn1_x509.Certificate.load(ca.public_bytes(Encoding.DER))])
    served = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers['Content-Length']))
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            served.append(self.headers['Content-Type'])
            self.send_response(200)
            self.send_header('Content-Type', 'application/timestamp-reply')
            self.send_header('Content-Length', str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f'http://127.0.0.1:{server.server_port}/', ca.public_bytes(Encoding.PEM), server, \
        served


def test_signatures_carry_a_time_stamp_when_a_tsa_is_configured(var_dir, tmp_path):
    from tests.conftest import Browser, make_app, token_getter
    url, tsa_ca, server, served = _tsa_server(tmp_path)
    app = make_app(var_dir, **{'kp_workspace.tsa_url': url})
    try:
        browser = Browser(app)
        token = token_getter(browser)
        _f, _d, signed, pdf = sign_demo(browser, token, issue=False)
        assert served and set(served) == {'application/timestamp-query'}  # the TSA was asked
        (sig,) = verify_api(browser, pdf)['signatures']
        assert (sig['timestamped'], sig['timestamp_trusted'], sig['valid']) == (True, False, False)
        # the TSA's CA is not trusted yet: the time stamp cannot be relied on
        browser.login('admin')
        form = next(f for f in browser.get('/admin/signing').forms.values()
                    if 'pem' in f.fields)
        form['pem'] = tsa_ca.decode()
        form.submit(status=303)
        result = verify_api(browser, pdf)
        (sig,) = result['signatures']
        assert (sig['timestamped'], sig['timestamp_trusted'], sig['valid'], result['valid']) \
            == (True, True, True, True)
        stamped = datetime.datetime.fromisoformat(sig['signed_at'])
        assert abs((stamped - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 300
    finally:
        server.shutdown()
        close_app(app)


def test_a_failing_time_stamping_service_signs_nothing(var_dir):
    import socket
    from tests.conftest import Browser, make_app
    with socket.socket() as s:  # a port nobody listens on
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    app = make_app(var_dir, **{'kp_workspace.tsa_url': f'http://127.0.0.1:{port}/'})
    try:
        browser = Browser(app)
        token = browser.token('secretary.finance')
        draft_id = demo_draft(browser, lambda login: token)[1]
        act = f'/api/v1/drafts/{draft_id}/actions'
        browser.api('post_json', f'{act}/approve', token, params={})
        res = browser.api('post_json', f'{act}/sign', token, status=503, params={'pin': DEMO_PIN})
        assert 'time-stamping service did not answer' in res.json['error']
        draft = browser.api('post_json', f'{act}/revise', token, params={}).json
        assert (draft['state'], draft['number'], draft['signatures']) == ('draft', None, [])
    finally:
        close_app(app)


def test_published_notices_page_newest_first():
    from kp_workspace.content_types.outgoing import PublishedNotices
    notices = PublishedNotices()
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    for n in range(25):
        notices.add(f'f{n}-d1', start + datetime.timedelta(days=n))
    first, after = notices.page(size=20)
    assert len(notices) == 25 and first[:2] == ['f24-d1', 'f23-d1'] and len(first) == 20
    rest, after2 = notices.page(after, size=20)
    assert rest == [f'f{n}-d1' for n in range(4, -1, -1)] and after2 is None


def test_public_notifications_page_through_older_ones(app, tokens, open_site):
    _f, draft_id, signed, _pdf = sign_demo(app, tokens)

    def more(site, conn):
        start = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
        for n in range(20):
            site.notices.add(draft_id, start + datetime.timedelta(days=n))
    open_site(more, commit=True)
    page = app.get('/public/notifications')
    assert page.text.count(signed['number']) == 20
    older = page.click('Older notifications')
    assert older.text.count(signed['number']) == 1 and 'Older notifications' not in older.text
    app.get('/public/notifications', params={'after': 'nonsense'}, status=400)


def test_kpw_verify_works_while_the_server_runs(app, tokens, var_dir, tmp_path):
    from kp_workspace.scripts import kpw
    _f, _d, signed, pdf = sign_demo(app, tokens)
    (tmp_path / 'n.pdf').write_bytes(pdf)
    ini = write_ini(tmp_path, var_dir)
    out = io.StringIO()
    # the app (the "server") holds the database open all along
    assert kpw.main(['-c', ini, 'verify', str(tmp_path / 'n.pdf')], out=out) == 0
    assert 'Imran Yousafzai (secretary.finance)' in out.getvalue()
    assert 'all signatures valid' in out.getvalue()
    (tmp_path / 'bad.pdf').write_bytes(pdf[:200] + b'x' + pdf[201:])
    out = io.StringIO()
    assert kpw.main(['-c', ini, 'verify', str(tmp_path / 'bad.pdf')], out=out) == 3
    assert 'NOT VALID' in out.getvalue()
    (tmp_path / 'junk.pdf').write_bytes(b'junk')
    err = io.StringIO()
    assert kpw.main(['-c', ini, 'verify', str(tmp_path / 'junk.pdf')], out=io.StringIO(),
                    err=err) == 1
    assert 'is not a PDF that can be read' in err.getvalue()
    # commands that write say why they cannot run now, without a traceback
    err = io.StringIO()
    assert kpw.main(['-c', ini, 'reindex', '--check'], out=io.StringIO(), err=err) == 1
    assert 'in use by a running server' in err.getvalue()


def test_signing_and_verifying_work_inside_a_running_event_loop(app, tokens):
    """pyHanko's sync calls use asyncio.run; an async server (or a browser-driving test
    session) has a loop running in the thread that handles the request."""
    import asyncio
    import concurrent.futures

    async def inside():  # a request handled while this thread's loop runs
        _f, _d, signed, pdf = sign_demo(app, tokens, issue=False)
        return signed, verify_api(app, pdf)
    # in a thread of its own, whether or not the test session already runs a loop here
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        signed, result = pool.submit(asyncio.run, inside()).result()
    assert signed['state'] == 'signed' and result['valid'] is True


def test_text_the_pdf_fonts_cannot_draw_still_gives_a_signed_pdf(app, tokens):
    """Code points this Python's Unicode does not assign yet (found by schemathesis in
    a decision's remarks) broke the bidirectional reordering of the PDF: a 500, and
    a summary the Chief Minister could not decide."""
    odd = 'Approved \U00084ece \u0627\U00019a2d.'
    s = api(app, tokens, 'so.finance', 'post_json', '/api/v1/departments/finance/summaries',
            201, params={'subject': 'Grant for flood relief', 'background': f'Floods {odd}',
                         'proposal': 'Release Rs. 100 million.',
                         'decision_sought': 'Approval, please.'}).json
    act = f'/api/v1/summaries/{s["id"]}/actions'
    api(app, tokens, 'so.finance', 'post_json', f'{act}/submit',
        params={'to_post': 'secretary-finance'})
    api(app, tokens, 'secretary.finance', 'post_json', f'{act}/put_up',
        params={'to_post': 'chief-minister'})
    decided = api(app, tokens, 'cm', 'post_json', f'{act}/decide',
                  params={'decision': 'approved', 'remarks': odd, 'pin': DEMO_PIN}).json
    assert decided['state'] == 'decided'
    pdf = api(app, tokens, 'so.finance', 'get', f'/api/v1/summaries/{s["id"]}/pdf').body
    assert verify_api(app, pdf)['valid'] is True
    text = ''.join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert 'Decision of the Chief Minister' in text and 'Release Rs. 100 million.' in text
