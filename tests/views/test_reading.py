"""Reading correspondence beside the noting sheet: inline PDFs and images with safe
headers, flags and page counts, the reading pane, and the upload script's answer."""
import re
import zipfile

import pytest

from kp_workspace.content_types.attachment import flag_letters
from kp_workspace.security.headers import CONTENT_SECURITY_POLICY, READING_PANE_PDF_POLICY
from tests.views.test_api_attachments import api_file, pdf_bytes, upload

PNG = b'\x89PNG\r\n\x1a\n' + b'\0' * 100


def docx_bytes(tmp_path):
    path = tmp_path / 'd.docx'
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('[Content_Types].xml', '<Types/>')
        z.writestr('word/document.xml', '<w:document/>')
    return path.read_bytes()


@pytest.fixture
def correspondence(app, tmp_path):
    """A routine file of so.finance with a 3-page PDF (a1), a PNG (a2) and a Word file (a3),
    so.finance signed in to the browser."""
    token = app.token('so.finance')
    fid = api_file(app, token, 'Correspondence to read')
    upload(app, token, fid, 'ag-letter.pdf', pdf_bytes(3), title='Letter from AG office')
    upload(app, token, fid, 'site.png', PNG, title='Photograph of the site')
    upload(app, token, fid, 'minutes.docx', docx_bytes(tmp_path), title='Minutes')
    app.login('so.finance')
    return token, fid


def _framable(res):
    return res.headers['X-Frame-Options'] != 'DENY' or \
        "frame-ancestors 'none'" not in res.headers['Content-Security-Policy']


def test_flags_run_a_b_c_then_aa_after_z():
    assert [flag_letters(n) for n in (1, 2, 3, 26, 27, 28, 52, 53, 702, 703)] == \
        ['A', 'B', 'C', 'Z', 'AA', 'AB', 'AZ', 'BA', 'ZZ', 'AAA']


def test_pdf_is_shown_inline_and_only_this_site_may_frame_it(app, correspondence):
    _token, fid = correspondence
    res = app.get(f'/files/{fid}/attachments/a1/inline')
    assert res.content_type == 'application/pdf' and res.body == pdf_bytes(3)
    assert res.headers['Content-Disposition'] == 'inline; filename="a1-ag-letter.pdf"'
    assert res.headers['X-Content-Type-Options'] == 'nosniff'
    assert res.headers['Cache-Control'] == 'no-store'
    assert res.headers['X-Frame-Options'] == 'SAMEORIGIN'
    assert res.headers['Content-Security-Policy'] == READING_PANE_PDF_POLICY
    assert "default-src 'none'" in READING_PANE_PDF_POLICY
    assert "frame-ancestors 'self'" in READING_PANE_PDF_POLICY
    # the download stays a download, and unframable
    res = app.get(f'/files/{fid}/attachments/a1')
    assert res.headers['Content-Disposition'].startswith('attachment;')
    assert not _framable(res)
    # the page that frames it allows a frame of its own site only
    page = app.get(f'/files/{fid}')
    assert page.headers['Content-Security-Policy'] == CONTENT_SECURITY_POLICY
    assert "frame-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_png_is_shown_inline_but_never_framed(app, correspondence):
    _token, fid = correspondence
    res = app.get(f'/files/{fid}/attachments/a2/inline')
    assert res.content_type == 'image/png' and res.body == PNG
    assert res.headers['Content-Disposition'] == 'inline; filename="a2-site.png"'
    assert res.headers['X-Content-Type-Options'] == 'nosniff'
    assert res.headers['Cache-Control'] == 'no-store'
    assert not _framable(res)
    assert res.headers['Content-Security-Policy'] == "default-src 'none'; frame-ancestors 'none'"


def test_office_documents_are_never_inline(app, correspondence):
    _token, fid = correspondence
    res = app.get(f'/files/{fid}/attachments/a3/inline')
    assert res.headers['Content-Disposition'] == 'attachment; filename="a3-minutes.docx"'
    assert res.content_type.endswith('wordprocessingml.document')
    assert not _framable(res) and res.headers['X-Content-Type-Options'] == 'nosniff'


@pytest.mark.parametrize('stored_type', ['image/svg+xml', 'text/html', 'application/xhtml+xml',
                                         'text/plain', 'image/tiff'])
def test_other_types_are_downloads_never_inline_never_framed(app, correspondence, open_site,
                                                             stored_type):
    """An attachment recorded with another type (an older release, a damaged record) is
    downloaded as bytes (TIFF under its own type): never shown, never framed."""
    _token, fid = correspondence

    def retype(site, conn):
        site.desk.items[fid].attachments['a1'].content_type = stored_type
    open_site(retype, commit=True)
    for path in (f'/files/{fid}/attachments/a1/inline', f'/files/{fid}/attachments/a1'):
        res = app.get(path)
        assert res.headers['Content-Disposition'].startswith('attachment;')
        expected = 'image/tiff' if stored_type == 'image/tiff' else 'application/octet-stream'
        assert res.content_type == expected
        assert res.headers['X-Content-Type-Options'] == 'nosniff'
        assert not _framable(res)
    page = app.get(f'/files/{fid}', {'read': 'a1'})
    assert '<iframe' not in page.text and '<img' not in page.text
    assert 'cannot be shown in the browser' in page.text


def test_who_may_not_view_the_file_gets_the_404_of_a_missing_attachment(app, other,
                                                                       correspondence):
    _token, fid = correspondence
    missing = app.get(f'/files/{fid}/attachments/a9/inline', status=404)
    other.login('so.hed')
    for path in ('/attachments/a1/inline', '/attachments/a2/inline', '/attachments/a1',
                 '/attachments/a9/inline'):
        res = other.get(f'/files/{fid}{path}', status=404)
        assert res.content_type == missing.content_type == 'text/html'
        assert 'Letter from AG office' not in res.text
    assert other.get(f'/files/{fid}', {'read': 'a1'}, status=404).text.count('<iframe') == 0


def test_flags_and_page_counts_in_the_list_and_the_api(app, correspondence):
    token, fid = correspondence
    page = app.get(f'/files/{fid}')
    text = re.sub(r'<[^>]+>', '', page.text)
    text = re.sub(r'\s+', ' ', text)
    assert 'Flag A · Letter from AG office · 3 pages' in text
    assert 'Flag B · Photograph of the site' in text and 'Flag C · Minutes' in text
    # readable ones open beside the notes; the Word file is a download
    assert f'href="http://localhost/files/{fid}?read=a1#reading"' in page.text
    assert f'href="http://localhost/files/{fid}?read=a2#reading"' in page.text
    assert '?read=a3' not in page.text
    atts = app.api('get', f'/api/v1/files/{fid}', token).json['attachments']
    assert [(a['id'], a['flag'], a['pages']) for a in atts] == \
        [('a1', 'A', 3), ('a2', 'B', None), ('a3', 'C', None)]
    openapi = app.get('/api/v1/openapi.json').json
    assert {'flag', 'pages'} <= set(
        openapi['components']['schemas']['Attachment']['properties'])


def test_flags_keep_the_order_attached_past_nine(app, correspondence):
    """a10 sorts before a2 by name: the list follows the flags, not the names."""
    token, fid = correspondence
    for n in range(4, 12):
        upload(app, token, fid, f'p{n}.png', PNG, title=f'Photo {n}')
    atts = app.api('get', f'/api/v1/files/{fid}', token).json['attachments']
    assert [a['flag'] for a in atts] == [flag_letters(n) for n in range(1, 12)]
    assert [a['id'] for a in atts] == [f'a{n}' for n in range(1, 12)]
    text = app.get(f'/files/{fid}').text
    assert text.index('Flag J') < text.index('Flag K') and text.index('Flag B') < text.index(
        'Flag K')


def test_reading_page_shows_the_pdf_beside_the_notes(app, correspondence):
    _token, fid = correspondence
    page = app.get(f'/files/{fid}', {'read': 'a1'})
    assert 'class="file-grid reading"' in page.text
    frame = page.html.find('iframe', class_='reading-frame')
    assert frame['src'] == f'http://localhost/files/{fid}/attachments/a1/inline'
    assert frame['title'] == 'Flag A: Letter from AG office'
    assert page.html.find(id='noting-h') is not None  # the notes stay on the page
    pane = page.html.find(id='reading')
    assert 'Flag A' in pane.h2.text and '3 pages' in pane.text
    assert pane.find('a', string='Close the document')['href'] == f'http://localhost/files/{fid}'
    current = page.html.find('li', attrs={'aria-current': 'true'})
    assert 'Letter from AG office' in current.text


def test_reading_page_shows_an_image_and_says_when_it_cannot(app, correspondence):
    _token, fid = correspondence
    page = app.get(f'/files/{fid}', {'read': 'a2'})
    img = page.html.find('img', class_='reading-image')
    assert img['src'].endswith('/attachments/a2/inline') and img['alt'].startswith('Flag B')
    page = app.get(f'/files/{fid}', {'read': 'a3'})
    assert page.html.find('iframe') is None and page.html.find('img') is None
    assert 'This kind of document cannot be shown in the browser' in page.text
    assert page.html.find(id='reading').find('a', string='Download')['href'].endswith(
        '/attachments/a3')


@pytest.mark.parametrize('value', ['a9', '', 'A', '../a1', 'a1 ', 'x' * 500])
def test_reading_an_unknown_document_is_a_plain_404(app, correspondence, value):
    _token, fid = correspondence
    page = app.get(f'/files/{fid}', {'read': value}, status=404)
    assert 'There is no such document on this file.' in page.text
    assert page.html.find('iframe') is None
    assert 'Correspondence to read' in page.text  # the file itself is still shown


def test_a_read_value_with_a_control_character_is_refused_plainly(app, correspondence):
    _token, fid = correspondence
    page = app.get(f'/files/{fid}', {'read': 'a1\x00'}, status=400)
    assert 'control character' in page.text and 'Traceback' not in page.text


def test_without_a_read_value_no_pane(app, correspondence):
    _token, fid = correspondence
    page = app.get(f'/files/{fid}')
    assert page.html.find(id='reading') is None and 'class="file-grid"' in page.text


def test_upload_script_gets_the_page_to_open_and_the_message_waits_for_it(app,
                                                                        correspondence):
    _token, fid = correspondence
    page = app.get(f'/files/{fid}')
    form = page.html.find('form', class_='attach-form')
    assert form['data-limit'] == str(50 * 1024 * 1024)
    assert form['data-too-large'] == 'The file is larger than the limit of 50 MB.'
    res = app.post(f'/files/{fid}/attachments',
                   {'csrf_token': app.csrf(), 'title': 'Reply of the AG'},
                   upload_files=[('file', 'reply.pdf', pdf_bytes(2))],
                   headers={'X-Requested-With': 'XMLHttpRequest'}, status=200)
    assert res.json == {'location': f'http://localhost/files/{fid}'}
    page = app.get(res.json['location'])
    assert 'Reply of the AG attached as flag D.' in page.text
    # a refusal is the page with its status, as without the script
    res = app.post(f'/files/{fid}/attachments', {'csrf_token': app.csrf()},
                   upload_files=[('file', 'fake.pdf', b'not a pdf')],
                   headers={'X-Requested-With': 'XMLHttpRequest'}, status=415)
    assert 'This kind of file is not accepted' in res.html.find(class_='alert-error').text


def test_without_the_script_the_form_posts_and_redirects(app, correspondence):
    _token, fid = correspondence
    res = app.post(f'/files/{fid}/attachments', {'csrf_token': app.csrf()},
                   upload_files=[('file', 'x.png', PNG)], status=303)
    assert res.location == f'http://localhost/files/{fid}'
    assert 'x.png attached as flag D.' in res.follow().text


def test_pages_load_the_script_deferred(app, correspondence):
    _token, fid = correspondence
    page = app.get(f'/files/{fid}')
    script = page.html.find('script', src=re.compile('upload.js'))
    assert script.has_attr('defer')
    assert page.html.find('a', attrs={'data-export': f'file-{fid}.pdf'}) is not None
    assert 'style=' not in str(page.html.find(id='corr-h').parent)
    js = app.get(script['src'].replace('http://localhost', ''))
    assert js.content_type in ('application/javascript', 'text/javascript')


def test_the_reading_page_in_urdu(app, correspondence):
    _token, fid = correspondence
    app.get('/language/ur', status=303)
    page = app.get(f'/files/{fid}', {'read': 'a1'})
    pane = page.html.find(id='reading')
    assert 'فلیگ A' in pane.h2.text and '3 صفحات' in pane.text
    assert pane.find('a', string='دستاویز بند کریں') is not None
    assert 'دستاویز نہیں ملی' in app.get(f'/files/{fid}', {'read': 'nope'}, status=404).text
    assert 'اس قسم کی دستاویز براؤزر میں' in app.get(f'/files/{fid}', {'read': 'a3'}).text
