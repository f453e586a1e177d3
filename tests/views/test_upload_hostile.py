"""Hostile uploads: decompression bombs, fake files, oversize and chunked bodies,
retried and concurrent uploads, and the 413 from a real waitress server.

The bombs are built here (``BOMBS``; benchmarks/upload_bombs.py measures the same
files).  What is refused and what is kept with truncated text is decided and
documented in :mod:`kp_workspace.content_types.extract`.
"""
import http.client
import io
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
import zlib

import pytest
import transaction
import webob

from tests.conftest import Browser, close_app, make_app, write_ini

CT = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/' \
     'content-types"/>'
SENTENCE = b'The budget estimates for the district hospitals are approved. '
MB = 1 << 20


# ---- builders: each writes one hostile file at ``path`` ------------------------------

def _stream_member(z, name, head, filler, size, tail=b''):
    """A zip member of about ``size`` bytes (``head``, ``filler`` repeated, ``tail``),
    written a chunk at a time so that building a bomb never holds it."""
    block = filler * max(1, (1 << 20) // len(filler))
    with z.open(name, 'w', force_zip64=size > 0x7FFFFFFF) as out:
        out.write(head)
        left = size
        while left > 0:
            out.write(block[:left])
            left -= len(block)
        out.write(tail)


def office(path, kind, members, compresslevel=9):
    """An Office Open XML package of ``kind`` (word, xl, ppt) with extra ``members``:
    a dict of name -> bytes, or name -> (head, filler, size, tail) for a streamed one."""
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        z.writestr('[Content_Types].xml', CT)
        z.writestr(f'{kind}/_rels/.rels', '<Relationships/>')
        for name, body in members.items():
            if isinstance(body, tuple):
                _stream_member(z, name, *body)
            else:
                z.writestr(name, body)
    return path


def docx_huge_member(path):
    """The issue's example: about 400 KB that inflates to 400 MB of document.xml."""
    return office(path, 'word', {'word/document.xml': (
        b'<w:document><w:body><w:p><w:r><w:t>bombword ', b' ', 400 * MB,
        b'</w:t></w:r></w:p></w:body></w:document>')})


def xlsx_huge_strings(path):
    return office(path, 'xl', {'xl/sharedStrings.xml': (b'<sst><si><t>', b'A', 200 * MB,
                                                        b'</t></si></sst>')})


def docx_many_members(path):
    return office(path, 'word', {'word/document.xml': '<w:t>few</w:t>',
                                 **{f'word/media/p{i}.bin': b'' for i in range(10_001)}})


def pptx_many_members(path):
    return office(path, 'ppt', {f'ppt/slides/slide{i}.xml': f'<a:t>slide {i}</a:t>'
                                for i in range(10_001)})


def docx_lying_directory(path):
    """A small package whose end record claims 65,000 parts."""
    office(path, 'word', {'word/document.xml': '<w:t>few</w:t>'})
    data = bytearray(open(path, 'rb').read())
    at = data.rfind(b'PK\x05\x06')
    data[at + 8:at + 12] = struct.pack('<HH', 65_000, 65_000)
    open(path, 'wb').write(bytes(data))
    return path


def docx_high_ratio(path):
    """40 MB of markup from 40 KB: small in absolute terms, but 1000:1."""
    return office(path, 'word', {'word/document.xml': (b'<w:document>', b'<w:p/>', 40 * MB,
                                                       b'</w:document>')})


def docx_lying_sizes(path):
    """document.xml declares 2 KB but its deflate stream inflates to 100 MB."""
    office(path, 'word', {'word/document.xml': (b'<w:t>liar ', b' ', 100 * MB, b'</w:t>')})
    data = bytearray(open(path, 'rb').read())
    for sig, at_size in ((b'PK\x03\x04', 22), (b'PK\x01\x02', 24)):
        start = 0
        while (at := data.find(sig, start)) >= 0:
            name_len = struct.unpack('<H', data[at + (26 if sig == b'PK\x03\x04' else 28):][:2])[0]
            head = 30 if sig == b'PK\x03\x04' else 46
            name = bytes(data[at + head:at + head + name_len])
            if name == b'word/document.xml':
                data[at + at_size:at + at_size + 4] = struct.pack('<I', 2048)
            start = at + 4
    open(path, 'wb').write(bytes(data))
    return path


def docx_long_text(path):
    """12 MB of real text, 1000:1 but under the floor where ratio is judged: kept,
    its text truncated (the word at its start is found, the one at its end is not)."""
    return office(path, 'word', {'word/document.xml': (
        b'<w:document><w:t>openingword ', SENTENCE, 12 * MB, b' closingword</w:t></w:document>')})


def pptx_many_slides(path):
    return office(path, 'ppt', {f'ppt/slides/slide{i}.xml': (
        f'<p:sld><a:t>slideword{i} '.encode(), SENTENCE, 64 * 1024, b'</a:t></p:sld>')
        for i in range(1, 3001)})


def docx_nested_zip(path):
    """A 42.zip in miniature inside word/embeddings/: never opened, so harmless."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        _stream_member(z, 'zeros.bin', b'', b'\0', 200 * MB)
    for depth in range(3):
        layer = io.BytesIO()
        with zipfile.ZipFile(layer, 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for i in range(8):
                z.writestr(f'layer{depth}-{i}.zip', inner.getvalue())
        inner = layer
    return office(path, 'word', {'word/document.xml': '<w:t>nestedword</w:t>',
                                 'word/embeddings/oleObject1.zip': inner.getvalue()})


def docx_corrupt_member(path):
    """A sound package whose document.xml is noise in the middle of its deflate stream."""
    words = ' '.join(os.urandom(8).hex() for _ in range(2000))
    office(path, 'word', {'word/document.xml': f'<w:t>{words}</w:t>'})
    with zipfile.ZipFile(path) as z:
        info = z.getinfo('word/document.xml')
    data = bytearray(open(path, 'rb').read())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 1000:start + 1400] = os.urandom(400)
    open(path, 'wb').write(bytes(data))
    return path


def _pdf(path, objects, trailer_extra=b'', xref=True):
    """A PDF of ``objects`` (1-based, bytes each), with a correct xref table."""
    with open(path, 'wb') as f:
        f.write(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
        offsets = []
        for n, body in enumerate(objects, 1):
            offsets.append(f.tell())
            f.write(b'%d 0 obj\n' % n)
            if callable(body):
                body(f)
            else:
                f.write(body)
            f.write(b'\nendobj\n')
        start = f.tell()
        if xref:
            f.write(b'xref\n0 %d\n0000000000 65535 f \n' % (len(objects) + 1))
            for off in offsets:
                f.write(b'%010d 00000 n \n' % off)
        f.write(b'trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n'
                % (len(objects) + 1, trailer_extra, start))
    return path


def _flate_stream(size, head=b'', filler=b' '):
    """A /FlateDecode stream of ``head`` and ``size`` bytes of ``filler``.  Each
    megabyte is deflated once and its bytes repeated (a full flush makes blocks
    independent), so a 400 MB bomb takes a moment to build, not seconds."""
    def write(f):
        block = filler * (MB // len(filler))
        raw = zlib.compressobj(9, zlib.DEFLATED, -15)
        first = raw.compress(head) + raw.flush(zlib.Z_FULL_FLUSH)
        again = raw.compress(block) + raw.flush(zlib.Z_FULL_FLUSH)
        end = raw.flush(zlib.Z_FINISH)
        adler = zlib.adler32(head)
        for _ in range(size // MB):
            adler = zlib.adler32(block, adler)
        length = 2 + len(first) + len(again) * (size // MB) + len(end) + 4
        f.write(b'<< /Length %d /Filter /FlateDecode >>\nstream\n' % length)
        f.write(b'\x78\xda' + first)
        for _ in range(size // MB):
            f.write(again)
        f.write(end + struct.pack('>I', adler) + b'\nendstream')
    return write


PAGE = b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R ' \
       b'/Resources << /Font << /F1 5 0 R >> >> >>'
FONT = b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'


def pdf_flate_bomb(path):
    """One page whose content stream inflates from 400 KB to 400 MB."""
    return _pdf(path, [b'<< /Type /Catalog /Pages 2 0 R >>',
                       b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>', PAGE,
                       _flate_stream(400 * MB, b'BT /F1 12 Tf 72 720 Td (flateword) Tj ET\n'),
                       FONT])


def pdf_many_pages(path):
    """20,000 pages (each a tiny object): over the page limit."""
    n = 20_000
    kids = b' '.join(b'%d 0 R' % (i + 4) for i in range(n))
    objects = [b'<< /Type /Catalog /Pages 2 0 R >>',
               b'<< /Type /Pages /Kids [' + kids + b'] /Count %d >>' % n, FONT]
    objects += [b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>'] * n
    return _pdf(path, objects)


def pdf_broken_xref(path):
    """A readable PDF whose xref offsets and startxref all point at nonsense."""
    good = _pdf(path, [b'<< /Type /Catalog /Pages 2 0 R >>',
                       b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>', PAGE,
                       b'<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 720 Td (xrefword) Tj ET\n'
                       b'endstream', FONT])
    data = open(good, 'rb').read()
    at = data.index(b'xref\n')
    table = data[at:data.index(b'trailer')]
    broken = b'xref\n0 6\n' + b''.join(b'%010d 00000 n \n' % (i * 977) for i in range(6))
    data = data[:at] + broken + b' ' * max(0, len(table) - len(broken)) + \
        data[data.index(b'trailer'):]
    data = data.replace(b'startxref\n%d' % at, b'startxref\n999999999')
    open(path, 'wb').write(data)
    return path


def pdf_xref_stream_bomb(path):
    """A cross-reference stream that claims 10 million objects, inflating to 70 MB."""
    def xref(f):
        compressor = zlib.compressobj(9)
        row = b'\x01' + struct.pack('>I', 9) + b'\0\0'
        parts = [compressor.compress(row * 10_000) for _ in range(1000)]
        parts.append(compressor.flush())
        data = b''.join(parts)
        f.write(b'<< /Type /XRef /Size 10000000 /W [1 4 2] /Root 1 0 R /Length %d '
                b'/Filter /FlateDecode >>\nstream\n' % len(data))
        f.write(data + b'\nendstream')
    path = _pdf(path, [b'<< /Type /Catalog /Pages 2 0 R >>',
                       b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>', PAGE, xref], xref=False)
    data = open(path, 'rb').read()
    start = data.index(b'4 0 obj')
    data = data[:data.index(b'trailer')] + b'startxref\n%d\n%%%%EOF\n' % start
    open(path, 'wb').write(data)
    return path


def exe_named_pdf(path):
    open(path, 'wb').write(b'MZ\x90\x00\x03' + b'\0' * 59 + b'PE\0\0' + os.urandom(4096))
    return path


def pdf_header_on_noise(path):
    open(path, 'wb').write(b'%PDF-1.7\n' + os.urandom(256 * 1024))
    return path


def empty_file(path):
    open(path, 'wb').close()
    return path


def png_named_pdf(path):
    """A PNG sent as report.pdf with Content-Type application/pdf."""
    return png_absurd(path, 640, 480)


def png_absurd(path, width=1_000_000, height=1_000_000):
    """A PNG header claiming a million by a million pixels (never decoded)."""
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + \
            struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b'\0' * 4096)
    open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', idat)
                           + chunk(b'IEND', b''))
    return path


def plain_zip(path):
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('readme.txt', 'not an office document')
    return path


# name: (builder, upload file name, expected status, fragment of the message or of the text)
BOMBS = {
    'docx-huge-member': (docx_huge_member, 'report.docx', 400, 'cannot be read safely'),
    'xlsx-huge-strings': (xlsx_huge_strings, 'sheet.xlsx', 400, 'cannot be read safely'),
    'docx-many-members': (docx_many_members, 'many.docx', 400, 'more than 10000 parts'),
    'pptx-many-members': (pptx_many_members, 'many.pptx', 400, 'more than 10000 parts'),
    'docx-lying-directory': (docx_lying_directory, 'liar.docx', 400, 'more than 10000 parts'),
    'docx-high-ratio': (docx_high_ratio, 'ratio.docx', 400, 'inflate'),
    'docx-lying-sizes': (docx_lying_sizes, 'sizes.docx', 201, None),
    'docx-long-text': (docx_long_text, 'long.docx', 201, 'openingword'),
    'pptx-many-slides': (pptx_many_slides, 'deck.pptx', 201, 'slideword1'),
    'docx-nested-zip': (docx_nested_zip, 'nested.docx', 201, 'nestedword'),
    'docx-corrupt-member': (docx_corrupt_member, 'corrupt.docx', 201, None),
    'pdf-flate-bomb': (pdf_flate_bomb, 'flate.pdf', 201, None),
    'pdf-many-pages': (pdf_many_pages, 'pages.pdf', 400, 'more than 10000 pages'),
    'pdf-broken-xref': (pdf_broken_xref, 'xref.pdf', 201, 'xrefword'),
    'pdf-xref-stream-bomb': (pdf_xref_stream_bomb, 'xrefbomb.pdf', 400, 'PDF'),
    'exe-named-pdf': (exe_named_pdf, 'invoice.pdf', 415, 'not accepted'),
    'pdf-header-on-noise': (pdf_header_on_noise, 'scan.pdf', 400, 'not a readable PDF'),
    'empty-file': (empty_file, 'empty.pdf', 400, 'empty'),
    'png-named-pdf': (png_named_pdf, 'report.pdf', 201, None),
    'png-absurd-dimensions': (png_absurd, 'huge.png', 201, None),
    'plain-zip': (plain_zip, 'archive.docx', 415, 'not accepted'),
}


@pytest.fixture(scope='module')
def bombs(tmp_path_factory):
    """Every hostile file, built once for the module (name -> path)."""
    base = tmp_path_factory.mktemp('bombs')
    return {name: builder(str(base / upload_name))
            for name, (builder, upload_name, _s, _m) in BOMBS.items()}


@pytest.fixture
def file_id(app):
    token = app.token('so.finance')
    res = app.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                  params={'subject': 'Hostile uploads'})
    return token, res.json['id']


def stored(open_site, fid):
    """``{attachment id: (content type, text, bytes)}`` of file ``fid`` as stored."""
    def read(site, conn):
        out = {}
        for att_id, att in site.desk.items[fid].attachments.items():
            with att.open() as f:
                out[att_id] = (att.content_type, att.text, f.read())
        return out
    return open_site(read)


def attach_form(app, fid):
    page = app.get(f'/files/{fid}')
    return [f for f in page.forms.values() if f.action.endswith('/attachments')][0]


def post_file(app, token, fid, name, path, content_type=None, status='*'):
    """Upload the file at ``path`` as ``name``, measuring Python's peak allocation."""
    data = open(path, 'rb').read()
    files = [('file', name, data, content_type)] if content_type else [('file', name, data)]
    tracemalloc.start()
    try:
        res = app.api('post', f'/api/v1/files/{fid}/attachments', token, status=status,
                      upload_files=files)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return res, peak - len(data) * 3  # the test's own copies of the request body


@pytest.mark.parametrize('name', list(BOMBS))
def test_hostile_file_is_refused_or_kept_with_bounded_text(app, file_id, bombs, open_site, name):
    from kp_workspace.content_types.extract import TEXT_LIMIT
    _builder, upload_name, status, fragment = BOMBS[name]
    token, fid = file_id
    res, peak = post_file(app, token, fid, upload_name, bombs[name], status=status)
    assert peak < 64 * MB, f'{name}: peak Python allocation {peak / MB:.0f} MB'
    kept = stored(open_site, fid)
    if status != 201:
        assert fragment in res.json['error'], res.json
        assert kept == {}  # a refusal changes nothing
        return
    (content_type, text, data), = kept.values()
    assert data == open(bombs[name], 'rb').read()
    assert len(text) <= TEXT_LIMIT
    if fragment:
        assert fragment in text


def test_truncated_text_keeps_the_start_only(app, file_id, bombs, open_site):
    token, fid = file_id
    post_file(app, token, fid, 'long.docx', bombs['docx-long-text'], status=201)
    (_ct, text, _data), = stored(open_site, fid).values()
    assert text.startswith('openingword The budget estimates')
    assert 'closingword' not in text


def test_type_comes_from_the_bytes_not_the_name_or_the_declared_type(app, file_id, bombs,
                                                                     open_site):
    token, fid = file_id
    res, _peak = post_file(app, token, fid, 'report.pdf', bombs['png-named-pdf'],
                           content_type='application/pdf', status=201)
    assert res.json['content_type'] == 'image/png'
    res, _peak = post_file(app, token, fid, 'photo.png', bombs['pdf-broken-xref'],
                           content_type='image/png', status=201)
    assert res.json['content_type'] == 'application/pdf'


def test_a_bomb_through_the_browser_is_a_page_and_changes_nothing(app, bombs, open_site):
    token = app.token('so.finance')
    fid = app.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                  params={'subject': 'Browser bomb'}).json['id']
    app.login('so.finance')
    form = attach_form(app, fid)
    form['file'] = ('report.docx', open(bombs['docx-huge-member'], 'rb').read())
    res = form.submit(status=400)
    assert 'cannot be read safely' in res.text and '<html' in res.text
    assert stored(open_site, fid) == {}


# ---- over the limit: declared, chunked, real server --------------------------------------

class CountingStream:
    """A request body of ``size`` bytes produced on demand, counting what was read."""

    def __init__(self, size, head=b''):
        self.size, self.head, self.read_bytes = size, head, 0

    def read(self, n=-1):
        left = self.size - self.read_bytes
        n = left if n is None or n < 0 else min(n, left)
        if n <= 0:
            return b''
        start = self.read_bytes
        self.read_bytes += n
        if start < len(self.head):
            return (self.head[start:] + b'x' * n)[:n]
        return b'x' * n

    def readline(self, n=-1):
        return self.read(min(n, 1024) if n and n > 0 else 1024)


@pytest.fixture
def small_limit_app(var_dir):
    app = make_app(var_dir, **{'kp_workspace.upload_limit_mb': '1'})
    yield Browser(app)
    transaction.abort()
    close_app(app)


def _chunked_request(path, body, token=None):
    headers = {'Content-Type': 'multipart/form-data; boundary=zzz', 'Transfer-Encoding': 'chunked'}
    if token:
        headers['Authorization'] = f'Bearer {token}'
    request = webob.Request.blank(path, method='POST', headers=headers)
    request.environ.pop('CONTENT_LENGTH', None)
    request.environ['wsgi.input'] = body
    request.environ['wsgi.input_terminated'] = True
    return request


@pytest.mark.parametrize('api', [True, False])
def test_chunked_upload_over_the_limit_is_413_and_reading_stops(small_limit_app, api):
    browser = small_limit_app
    token = browser.token('so.finance')
    fid = browser.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                      params={'subject': 'Chunked'}).json['id']
    head = (b'--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
            b'Content-Type: application/pdf\r\n\r\n%PDF-1.4\n')
    body = CountingStream(200 * MB, head)
    path = f'/api/v1/files/{fid}/attachments' if api else f'/files/{fid}/attachments'
    tracemalloc.start()
    try:
        response = _chunked_request(path, body, token if api else None).get_response(browser.app)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_int == 413
    # reading stopped just past 1 MB + the room for the form fields: 2 MB, not 200 MB
    assert body.read_bytes <= 2 * MB + 64 * 1024
    assert peak < 16 * MB
    if api:
        assert 'larger than the limit of 1 MB' in response.json['error']
    else:
        assert 'larger than the limit of 1 MB' in response.text and '<html' in response.text
    assert browser.api('get', f'/api/v1/files/{fid}', token).json['attachments'] == []


def test_chunked_upload_under_the_limit_is_stored(small_limit_app):
    browser = small_limit_app
    token = browser.token('so.finance')
    fid = browser.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                      params={'subject': 'Chunked small'}).json['id']
    png = b'\x89PNG\r\n\x1a\n' + os.urandom(300 * 1024)
    raw = (b'--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
           b'Content-Type: image/png\r\n\r\n' + png + b'\r\n--zzz--\r\n')
    response = _chunked_request(f'/api/v1/files/{fid}/attachments', io.BytesIO(raw),
                                token).get_response(browser.app)
    assert response.status_int == 201, response.text
    got = browser.api('get', f'/api/v1/files/{fid}/attachments/{response.json["id"]}', token)
    assert got.body == png


def test_declared_oversize_is_refused_without_reading_the_body(small_limit_app):
    browser = small_limit_app
    token = browser.token('so.finance')
    fid = browser.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                      params={'subject': 'Declared'}).json['id']
    body = CountingStream(500 * MB)
    request = webob.Request.blank(f'/api/v1/files/{fid}/attachments', method='POST',
                                  headers={'Authorization': f'Bearer {token}',
                                           'Content-Type': 'multipart/form-data; boundary=zzz'})
    request.environ['wsgi.input'] = body
    request.environ['CONTENT_LENGTH'] = str(500 * MB)
    response = request.get_response(browser.app)
    assert response.status_int == 413 and body.read_bytes == 0
    assert 'larger than the limit of 1 MB' in response.json['error']
    # no hop-by-hop header, which WSGI servers refuse (a bare 500 before)
    assert 'Connection' not in response.headers


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, var_dir):
    """The app served by pserve + waitress (a process of its own) on a free port."""
    port = _free_port()
    ini = write_ini(tmp_path, var_dir, **{'kp_workspace.upload_limit_mb': '1',
                                          'kp_workspace.indexer': 'off'})
    with open(ini, 'a') as f:
        f.write(f'\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\n'
                f'threads = 2\n')
    pserve = os.path.join(os.path.dirname(sys.executable), 'pserve')
    proc = subprocess.Popen([pserve, ini], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(proc.stderr.read().decode()[-2000:])
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def _http(port, method, path, body=b'', headers=None, chunked=False):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {},
                     encode_chunked=chunked)
        res = conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()
    finally:
        conn.close()


def test_real_server_answers_413_page_and_json(server):
    import json

    from kp_workspace.populate import DEMO_PASSWORD
    status, _h, body = _http(server, 'POST', '/api/v1/auth/token',
                             json.dumps({'login': 'so.finance',
                                         'password': DEMO_PASSWORD}).encode(),
                             {'Content-Type': 'application/json'})
    assert status == 201, body
    auth = {'Authorization': f'Bearer {json.loads(body)["token"]}'}
    status, _h, body = _http(server, 'POST', '/api/v1/departments/finance/files',
                             json.dumps({'subject': 'Over the wire'}).encode(),
                             {'Content-Type': 'application/json', **auth})
    fid = json.loads(body)['id']
    form = {'Content-Type': 'multipart/form-data; boundary=zzz'}
    big = (b'--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
           + b'%PDF-1.4\n' + b'x' * (3 * MB) + b'\r\n--zzz--\r\n')
    status, headers, body = _http(server, 'POST', f'/api/v1/files/{fid}/attachments', big,
                                  {**form, **auth})
    assert status == 413, body[:500]
    assert headers['Content-Type'].startswith('application/json')
    assert 'larger than the limit of 1 MB' in json.loads(body)['error']
    status, headers, body = _http(server, 'POST', f'/files/{fid}/attachments', big, form)
    assert status == 413 and headers['Content-Type'].startswith('text/html')
    assert b'larger than the limit of 1 MB' in body
    status, _h, body = _http(server, 'POST', f'/api/v1/files/{fid}/attachments',
                             iter([big[i:i + 65536] for i in range(0, len(big), 65536)]),
                             {**form, **auth}, chunked=True)
    assert status == 413 and b'larger than the limit' in body
    status, _h, body = _http(server, 'GET', f'/api/v1/files/{fid}', headers=auth)
    assert status == 200 and json.loads(body)['attachments'] == []


# ---- retries and concurrency: every valid upload stored intact ---------------------------

def _conflict_on(wsgi_app, fid):
    """Commit a change to case file ``fid`` from another connection (a concurrent writer)."""
    from kp_workspace.site import ROOT_KEY
    db = wsgi_app.registry._zodb_databases['']
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    with tm:
        conn.root()[ROOT_KEY].desk.items[fid]._p_changed = True
    conn.close()


@pytest.mark.parametrize('via', ['api', 'browser'])
def test_upload_retried_after_a_conflict_stores_the_bytes_sent(app, wsgi_app, file_id,
                                                                monkeypatch, open_site, via):
    from kp_workspace.content_types import attachment
    from kp_workspace.views import errors
    monkeypatch.setattr(errors, 'sleep', lambda s: None)
    token, fid = file_id
    original = attachment.attach
    calls = []

    def attach_with_a_concurrent_writer(item, *args, **kw):
        att = original(item, *args, **kw)  # reads the whole upload
        calls.append(att.size)
        if len(calls) == 1:
            _conflict_on(wsgi_app, fid)  # so this attempt's commit conflicts
        return att

    if via == 'api':
        from kp_workspace.views.api import files as views
    else:
        from kp_workspace.views import files as views
    monkeypatch.setattr(views, 'attach', attach_with_a_concurrent_writer)
    data = b'\x89PNG\r\n\x1a\n' + os.urandom(200 * 1024)
    if via == 'api':
        res = app.api('post', f'/api/v1/files/{fid}/attachments', token, status=201,
                      upload_files=[('file', 'scan.png', data)])
        assert res.json['size'] == len(data)
    else:
        app.login('so.finance')
        form = attach_form(app, fid)
        form['file'] = ('scan.png', data)
        form.submit(status=303)
    assert calls == [len(data), len(data)]  # the first attempt conflicted and was retried
    (content_type, _text, stored_bytes), = stored(open_site, fid).values()
    assert content_type == 'image/png' and stored_bytes == data


@pytest.fixture
def quiet_app(var_dir):
    """The app without its indexer thread, so that only the uploads commit."""
    app = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    yield app
    transaction.abort()
    close_app(app)


def test_concurrent_uploads_to_one_department_are_all_stored_intact(quiet_app, monkeypatch):
    from kp_workspace.content_types import attachment
    from kp_workspace.site import ROOT_KEY
    from kp_workspace.views.api import files as views
    # Four receipts race for the department's diary counter: every first attempt reads
    # its upload, then waits for the others, so that all commit together; the losers
    # conflict and are retried with their upload already read once.  Each other
    # upload's commit can fail an attempt once, so four uploads need at most four of
    # the five attempts: every one must be stored, intact.
    n = 4
    browser = Browser(quiet_app)
    token = browser.token('so.finance')
    fids = [browser.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                        params={'subject': f'Concurrent {i}'}).json['id'] for i in range(n)]
    for fid in fids:  # only the diary registers receipts: the files go to its clerk
        browser.api('post_json', f'/api/v1/files/{fid}/actions/forward', token, status=200,
                    params={'to_post': 'diary-finance'})
    token = browser.token('diary.finance')
    barrier = threading.Barrier(n, timeout=60)
    original = attachment.attach
    attempts = []

    def attach_together(item, *args, **kw):
        att = original(item, *args, **kw)
        attempts.append(item.id)
        if attempts.count(item.id) == 1:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass
        return att
    monkeypatch.setattr(views, 'attach', attach_together)

    sent = {fid: b'\x89PNG\r\n\x1a\n' + os.urandom(100 * 1024 + i * 997)
            for i, fid in enumerate(fids)}
    results = {}

    def upload(fid):
        res = Browser(quiet_app).api('post', f'/api/v1/files/{fid}/attachments', token,
                                     status='*', upload_files=[('file', 'p.png', sent[fid])],
                                     params={'receipt': '1'})
        results[fid] = (res.status_int, res.text)

    threads = [threading.Thread(target=upload, args=(fid,)) for fid in fids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [r for r in results.values() if r[0] != 201] == []
    assert len(attempts) > n  # some commits conflicted and were retried

    db = quiet_app.registry._zodb_databases['']
    conn = db.open()
    try:
        items = conn.root()[ROOT_KEY].desk.items
        diaries = set()
        for fid in fids:
            (att,) = items[fid].attachments.values()
            with att.open() as f:
                assert f.read() == sent[fid]
            diaries.add(att.diary_number)
    finally:
        conn.transaction_manager.abort()
        conn.close()
    assert len(diaries) == n  # one diary number each, none given twice


def test_refusals_are_translated(app, file_id, bombs):
    token, fid = file_id
    data = open(bombs['docx-huge-member'], 'rb').read()
    res = app.post(f'/api/v1/files/{fid}/attachments', upload_files=[('file', 'r.docx', data)],
                   headers={'Authorization': f'Bearer {token}', 'Accept-Language': 'ur'},
                   status=400)
    assert 'ڈی کمپریشن بم' in res.json['error'] and '1028' in res.json['error']
    pages = open(bombs['pdf-many-pages'], 'rb').read()
    res = app.post(f'/api/v1/files/{fid}/attachments', upload_files=[('file', 'p.pdf', pages)],
                   headers={'Authorization': f'Bearer {token}', 'Accept-Language': 'ur'},
                   status=400)
    assert '10000 سے زیادہ صفحات' in res.json['error']


def test_every_body_is_bounded_not_only_uploads(small_limit_app):
    """A JSON body over the limit is refused the same way (the limit applies to every
    request body: nothing else needs more)."""
    browser = small_limit_app
    token = browser.token('so.finance')
    body = b'{"subject": "' + b'x' * (3 * MB) + b'"}'
    res = browser.post('/api/v1/departments/finance/files', body, status=413,
                       headers={'Authorization': f'Bearer {token}',
                                'Content-Type': 'application/json'})
    assert 'larger than the limit of 1 MB' in res.json['error']


# ---- mutated documents: whatever the bytes, a type, a refusal or no text; never a crash --

def _seed_docx():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('[Content_Types].xml', CT)
        z.writestr('word/document.xml', '<w:document><w:t>' + 'seed text ' * 50 + '</w:t>'
                   '</w:document>')
    return buf.getvalue()


def _seed_pdf(tmp):
    path = os.path.join(tmp, 'seed.pdf')
    _pdf(path, [b'<< /Type /Catalog /Pages 2 0 R >>',
                b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>', PAGE,
                _flate_stream(0, b'BT /F1 12 Tf 72 720 Td (seed) Tj ET\n'), FONT])
    return open(path, 'rb').read()


def test_mutated_documents_never_crash_the_readers(tmp_path):
    from hypothesis import HealthCheck, given, settings, strategies as st

    from kp_workspace.content_types import extract
    seeds = [_seed_docx(), _seed_pdf(str(tmp_path))]
    path = str(tmp_path / 'mutant')

    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(seed=st.sampled_from(seeds), data=st.data())
    def mutate(seed, data):
        mutant = bytearray(seed)
        for _ in range(data.draw(st.integers(1, 8))):
            at = data.draw(st.integers(0, len(mutant) - 1))
            op = data.draw(st.sampled_from(['flip', 'cut', 'insert']))
            if op == 'flip':
                mutant[at] = data.draw(st.integers(0, 255))
            elif op == 'cut':
                del mutant[at:at + data.draw(st.integers(1, 64))]
            else:
                mutant[at:at] = data.draw(st.binary(min_size=1, max_size=32))
            if not mutant:
                mutant = bytearray(b'\0')
        with open(path, 'wb') as f:
            f.write(mutant)
        try:
            found = extract.sniff(path)
            if found and found[0] == 'application/pdf':
                extract.check_pdf(path)
        except extract.DocumentRefused:
            return
        if found:
            assert isinstance(extract.extract_text(path, found[0]), str)
    mutate()
