"""Attachments: type by content, broken PDFs, limits, streaming, and bytes back."""
import io
import os
import tracemalloc

import pypdf
import pytest
import webob

from tests.conftest import close_app, make_app


def pdf_bytes(pages=1):
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def big_pdf(path, size):
    """A valid one-page PDF of about ``size`` bytes, written to disk without holding it."""
    with open(path, 'wb') as f:
        offsets = []
        f.write(b'%PDF-1.4\n')
        for body in (b'<< /Type /Catalog /Pages 2 0 R >>',
                     b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
                     b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>'):
            offsets.append(f.tell())
            f.write(b'%d 0 obj\n' % (len(offsets)) + body + b'\nendobj\n')
        offsets.append(f.tell())
        f.write(b'4 0 obj\n<< /Length %d >>\nstream\n' % size)
        line = b'% padding ' + b'.' * 1013 + b'\n'
        for _ in range(size // len(line)):
            f.write(line)
        f.write(b' ' * (size % len(line)))
        f.write(b'\nendstream\nendobj\n')
        xref = f.tell()
        f.write(b'xref\n0 5\n0000000000 65535 f \n')
        for off in offsets:
            f.write(b'%010d 00000 n \n' % off)
        f.write(b'trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' % xref)


def api_file(browser, token, subject):
    """The id of a new Finance file opened through the API by the holder of ``token``."""
    return browser.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                       params={'subject': subject}).json['id']


@pytest.fixture
def file_id(app):
    token = app.token('so.finance')
    return token, api_file(app, token, 'Correspondence test')


def upload(app, token, fid, name, data, status=201, **fields):
    return app.api('post', f'/api/v1/files/{fid}/attachments', token, status=status,
                   params=fields, upload_files=[('file', name, data)])


@pytest.mark.storages
def test_pdf_is_kept_and_returned_byte_for_byte(app, file_id, audit_entries):
    token, fid = file_id
    data = pdf_bytes(3)
    res = upload(app, token, fid, 'letter.pdf', data, title='Letter from AG Office')
    att = res.json
    assert att['content_type'] == 'application/pdf' and att['size'] == len(data)
    got = app.api('get', f'/api/v1/files/{fid}/attachments/{att["id"]}', token)
    assert got.body == data and got.content_type == 'application/pdf'
    assert got.headers['X-Content-Type-Options'] == 'nosniff'
    assert len(pypdf.PdfReader(io.BytesIO(got.body)).pages) == 3
    listed = app.api('get', f'/api/v1/files/{fid}', token).json['attachments']
    assert listed[0]['title'] == 'Letter from AG Office'
    assert [e.action for e in audit_entries(2)] == ['attachment.read', 'attachment.added']


@pytest.mark.storages
def test_receipt_gets_a_diary_number(app, file_id):
    token, fid = file_id
    # only the diary gives numbers: the file goes to the diary clerk, who registers
    app.api('post_json', f'/api/v1/files/{fid}/actions/forward', token,
            params={'to_post': 'diary-finance'})
    diary = app.token('diary.finance')
    first = upload(app, diary, fid, 'in.pdf', pdf_bytes(), receipt='1').json['diary_number']
    second = upload(app, diary, fid, 'in2.pdf', pdf_bytes(), receipt='1').json['diary_number']
    # (the diary's series: after the demo letters; the next number, never one twice)
    assert first.startswith('FD/D/') and second.startswith('FD/D/')
    assert int(second.rsplit('/', 1)[1]) == int(first.rsplit('/', 1)[1]) + 1


@pytest.mark.parametrize('name, data, content_type', [
    ('photo.png', b'\x89PNG\r\n\x1a\n' + b'\0' * 100, 'image/png'),
    ('scan.jpg', b'\xff\xd8\xff\xe0' + b'\0' * 100, 'image/jpeg'),
])
def test_images_by_their_bytes(app, file_id, name, data, content_type):
    token, fid = file_id
    assert upload(app, token, fid, name, data).json['content_type'] == content_type


def test_office_document_by_its_bytes(app, file_id, tmp_path):
    import zipfile
    path = tmp_path / 'd.docx'
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('[Content_Types].xml', '<Types/>')
        z.writestr('word/document.xml', '<w:document/>')
    token, fid = file_id
    res = upload(app, token, fid, 'minutes.docx', path.read_bytes())
    assert res.json['content_type'].endswith('wordprocessingml.document')


@pytest.mark.parametrize('name, data, status, message', [
    ('fake.pdf', b'this is not a pdf at all', 415, 'not accepted'),
    ('broken.pdf', b'%PDF-1.4\n1 0 obj <</Type /Catalog>> garbage', 400, 'not a readable PDF'),
    ('script.html', b'<script>alert(1)</script>', 415, 'not accepted'),
    ('empty.pdf', b'', 400, 'empty'),
])
def test_bad_uploads_are_refused_and_change_nothing(app, file_id, name, data, status, message):
    token, fid = file_id
    res = upload(app, token, fid, name, data, status=status)
    assert message in res.json['error']
    assert app.api('get', f'/api/v1/files/{fid}', token).json['attachments'] == []


def test_truncated_pdf_is_refused(app, file_id):
    token, fid = file_id
    data = pdf_bytes(2)
    res = upload(app, token, fid, 'cut.pdf', data[:len(data) // 2], status=400)
    assert 'not a readable PDF' in res.json['error']


def test_missing_file_field(app, file_id):
    token, fid = file_id
    app.api('post', f'/api/v1/files/{fid}/attachments', token, status=400, params={'x': '1'})


@pytest.mark.storages
def test_only_the_holder_attaches(app, file_id):
    token, fid = file_id
    other = app.token('so.hed')
    upload(app, other, fid, 'x.pdf', pdf_bytes(), status=404)
    app.api('post_json', f'/api/v1/files/{fid}/actions/forward', token,
            params={'to_post': 'secretary-finance'})
    upload(app, token, fid, 'x.pdf', pdf_bytes(), status=409)


def test_over_the_limit_is_413(var_dir):
    app = make_app(var_dir, **{'kp_workspace.upload_limit_mb': '1'})
    try:
        from tests.conftest import Browser
        browser = Browser(app)
        token = browser.token('so.finance')
        fid = api_file(browser, token, 'Limits')
        data = pdf_bytes() + b'\0' * (2 << 20)
        res = browser.api('post', f'/api/v1/files/{fid}/attachments', token, status=413,
                          upload_files=[('file', 'big.pdf', data)])
        assert 'larger than the limit of 1 MB' in res.json['error']
    finally:
        close_app(app)


@pytest.mark.storages
def test_a_100_mb_pdf_is_accepted_with_bounded_memory(var_dir, tmp_path):
    """The upload streams from disk into the blob: Python's peak allocation stays far
    below the file's size."""
    app = make_app(var_dir, **{'kp_workspace.upload_limit_mb': '200'})
    try:
        from tests.conftest import Browser
        browser = Browser(app)
        token = browser.token('so.finance')
        fid = browser.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                          params={'subject': 'Large scan'}).json['id']
        size = 100 * 1024 * 1024
        pdf = tmp_path / 'big.pdf'
        big_pdf(pdf, size)
        boundary = 'kpwboundary7d9a'
        body = tmp_path / 'body'
        with open(body, 'wb') as out, open(pdf, 'rb') as src:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                      f'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode())
            while chunk := src.read(1 << 20):
                out.write(chunk)
            out.write(f'\r\n--{boundary}--\r\n'.encode())
        with open(body, 'rb') as stream:
            request = webob.Request.blank(
                f'/api/v1/files/{fid}/attachments', method='POST',
                headers={'Authorization': f'Bearer {token}'},
                content_type=f'multipart/form-data; boundary={boundary}')
            request.body_file_raw = stream
            request.content_length = os.path.getsize(body)
            tracemalloc.start()
            response = request.get_response(app)
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert response.status_int == 201, response.text
        assert response.json['size'] == os.path.getsize(pdf)
        print(f'100 MB upload: peak Python allocation {peak / 2**20:.1f} MB')
        assert peak < 32 * 1024 * 1024, f'peak Python allocation {peak >> 20} MB'
        got = browser.api('get', f'/api/v1/files/{fid}/attachments/{response.json["id"]}', token)
        assert len(got.body) == os.path.getsize(pdf)
    finally:
        close_app(app)


def test_declared_oversize_is_refused_before_reading(app, file_id):
    token, fid = file_id
    res = app.post(f'/api/v1/files/{fid}/attachments', b'x' * 10,
                   headers={'Authorization': f'Bearer {token}',
                            'Content-Type': 'multipart/form-data; boundary=zz',
                            'Content-Length': str(60 << 20)}, status=413, expect_errors=True)
    assert 'larger than the limit of 50 MB' in res.json['error']


def test_declared_oversize_in_the_browser_is_a_page(app, file_id):
    _token, fid = file_id
    res = app.post(f'/files/{fid}/attachments', b'x' * 10,
                   headers={'Content-Type': 'multipart/form-data; boundary=zz',
                            'Content-Length': str(60 << 20)}, status=413, expect_errors=True)
    assert 'larger than the limit of 50 MB' in res.text and '<h1>Too large</h1>' in res.text


@pytest.mark.storages
@pytest.mark.parametrize('kind, members', [
    ('word', {'word/document.xml': '<w:document><w:t>Pension &amp; gratuity</w:t></w:document>'}),
    ('xl', {'xl/sharedStrings.xml': '<sst><si><t>Pension</t></si><si><t>&amp; gratuity</t></si>'
                                    '</sst>', 'xl/worksheets/sheet1.xml': '<worksheet/>'}),
    ('ppt', {'ppt/slides/slide2.xml': '<p:sld><a:t>gratuity</a:t></p:sld>',
             'ppt/slides/slide1.xml': '<p:sld><a:t>Pension &amp;</a:t></p:sld>'}),
])
def test_office_text_is_extracted_for_search(app, file_id, tmp_path, open_site, kind, members):
    import zipfile
    path = tmp_path / 'doc.zip'
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('[Content_Types].xml', '<Types/>')
        for name, body in members.items():
            z.writestr(name, body)
    token, fid = file_id
    att_id = upload(app, token, fid, f'doc.{kind}x', path.read_bytes()).json['id']
    text = open_site(lambda site, conn: site.desk.items[fid].attachments[att_id].text)
    assert text == 'Pension & gratuity'
