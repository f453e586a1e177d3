"""Correspondence in Chromium: a PDF attached with a progress bar (and without
JavaScript), read beside the noting sheet in the browser's own PDF viewer, and the
long exports saved with progress."""
import re

import pytest
from playwright.sync_api import expect
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from tests.e2e.test_file_journey import sign_in

# Records the furthest any <progress> got (value / max) in sessionStorage, so the test
# can read it after the page has moved on: a progress bar set to its end is seen.
WATCH_PROGRESS = """
new MutationObserver(function (records) {
  records.forEach(function (r) {
    var el = r.target;
    if (el.tagName === 'PROGRESS' && el.hasAttribute('value')) {
      var seen = parseFloat(sessionStorage.getItem('kpw-progress') || '0');
      sessionStorage.setItem('kpw-progress', String(Math.max(seen, el.value / el.max)));
    }
  });
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['value']});
"""


def letter_pdf(path, pages=3):
    """A real letter of ``pages`` pages, made with reportlab, about 1 MB (so the upload
    reports progress as it goes)."""
    c = canvas.Canvas(str(path), pagesize=A4, pageCompression=0)
    for page in range(1, pages + 1):
        c.setFont('Helvetica-Bold', 15)
        c.drawString(72, 780, 'Office of the Accountant General, Khyber Pakhtunkhwa')
        c.setFont('Helvetica', 11)
        c.drawString(72, 760, f'No. AG/B/2026/114, page {page} of {pages}')
        for line in range(1, 4000):
            c.drawString(72 + (line % 3), 740 - (line % 60) * 11,
                         f'{line}. The release of funds for the treasury network is requested.')
        c.showPage()
    c.save()
    return path


def _context(chromium, **kw):
    context = chromium.new_context(viewport={'width': 1280, 'height': 800}, **kw)
    context.set_default_timeout(60_000)
    return context


def open_file(page, base, subject):
    page.get_by_role('link', name='Open a new file').click()
    page.get_by_label('Subject').fill(subject)
    page.get_by_role('button', name='Open file').click()
    page.wait_for_url(f'{base}/files/*')
    return page.url


def progress_seen(page):
    return float(page.evaluate("sessionStorage.getItem('kpw-progress') || '0'"))


def test_pdf_attached_with_progress_and_read_beside_the_notes(live_server, chromium,
                                                              tmp_path):
    pdf = letter_pdf(tmp_path / 'ag-letter.pdf')
    assert pdf.stat().st_size > 500_000
    context = _context(chromium)
    context.add_init_script(WATCH_PROGRESS)
    page = context.new_page()
    sign_in(page, live_server, 'so.finance')
    file_url = open_file(page, live_server, 'Release of funds for the treasury network')
    page.get_by_label('New note').fill('The letter of the Accountant General is at F/A.')
    page.get_by_role('button', name='Add note').click()
    expect(page.get_by_text('Note 1 added.')).to_be_visible()

    page.get_by_label('File (PDF, image or office document)').set_input_files(str(pdf))
    page.get_by_label('Title').fill('Letter from AG office')
    with page.expect_request(lambda r: r.method == 'POST' and r.url.endswith('/attachments')) \
            as sent:
        page.get_by_role('button', name='Attach').click()
    assert sent.value.headers.get('x-requested-with') == 'XMLHttpRequest'  # the script sent it
    expect(page.get_by_text('Letter from AG office attached as flag A.')).to_be_visible()
    assert page.url == file_url
    assert progress_seen(page) == 1.0  # the bar reached its end
    item = page.locator('ul.attachments li').first
    expect(item).to_contain_text(re.compile(r'Flag A · Letter from AG office · 3 pages'))
    page.screenshot(path=str(tmp_path / 'attached.png'), full_page=True)

    with page.expect_response(lambda r: r.url.endswith('/attachments/a1/inline')) as shown, \
            page.expect_event('framenavigated',
                              predicate=lambda f: f.url.startswith('chrome-extension://')):
        item.get_by_role('link', name='Letter from AG office').click()
    assert shown.value.status == 200
    assert shown.value.headers['content-type'] == 'application/pdf'
    assert shown.value.headers['content-disposition'].startswith('inline;')
    assert shown.value.headers['x-frame-options'] == 'SAMEORIGIN'
    # the browser's own PDF viewer has opened it in the frame beside the notes
    assert any(f.url.startswith('chrome-extension://') for f in page.frames)
    frame = page.locator('iframe.reading-frame')
    expect(frame).to_be_visible()
    expect(page.locator('#reading h2')).to_contain_text('Flag A')
    notes, pane = page.locator('.noting').bounding_box(), frame.bounding_box()
    assert notes['x'] + notes['width'] <= pane['x']  # beside the notes, not under them
    page.screenshot(path=str(tmp_path / 'reading-1280.png'))
    page.set_viewport_size({'width': 390, 'height': 844})
    expect(frame).to_be_visible()
    assert page.evaluate('document.documentElement.scrollWidth') <= 390
    page.screenshot(path=str(tmp_path / 'reading-390.png'), full_page=True)

    # without JavaScript the same form posts and the page comes back with the list
    plain = _context(chromium, java_script_enabled=False).new_page()
    sign_in(plain, live_server, 'so.finance')
    plain.goto(file_url)
    plain.get_by_label('File (PDF, image or office document)').set_input_files(str(pdf))
    plain.get_by_label('Title').fill('Copy to the Finance Secretary')
    plain.get_by_role('button', name='Attach').click()
    expect(plain.get_by_text('Copy to the Finance Secretary attached as flag B.')).to_be_visible()
    expect(plain.locator('ul.attachments li').nth(1)).to_contain_text(
        'Flag B · Copy to the Finance Secretary · 3 pages')
    expect(plain.locator('.upload-status')).to_be_hidden()
    plain.context.close()
    context.close()


def test_a_file_over_the_limit_is_refused_before_it_is_sent(tmp_path, demo_template, chromium):
    import socket
    import threading

    import waitress.server

    from tests.conftest import close_app, copy_demo, make_app
    app = make_app(copy_demo(demo_template, tmp_path / 'var'),
                   **{'kp_workspace.upload_limit_mb': '1'})
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    server = waitress.server.create_server(app, host='127.0.0.1', port=port, threads=2)
    threading.Thread(target=server.run, daemon=True).start()
    base = f'http://127.0.0.1:{port}'
    try:
        context = _context(chromium)
        page = context.new_page()
        sign_in(page, base, 'so.finance')
        open_file(page, base, 'A large scan')
        posts = []
        page.on('request', lambda r: posts.append(r) if r.method == 'POST' else None)
        big = letter_pdf(tmp_path / 'big.pdf', pages=4)
        assert big.stat().st_size > 1024 * 1024
        page.get_by_label('File (PDF, image or office document)').set_input_files(str(big))
        error = page.locator('.upload-error')
        expect(error).to_have_text('The file is larger than the limit of 1 MB.')
        page.get_by_role('button', name='Attach').click()
        expect(page.locator('#att-file')).to_be_focused()  # to choose another
        assert posts == []  # nothing was sent
        expect(page.get_by_text('Nothing attached yet.')).to_be_visible()
        # a refusal by the server is shown without losing the form
        page.get_by_label('File (PDF, image or office document)').set_input_files(
            files=[{'name': 'fake.pdf', 'mimeType': 'application/pdf', 'buffer': b'not a pdf'}])
        page.get_by_label('Title').fill('Kept title')
        page.get_by_role('button', name='Attach').click()
        expect(error).to_contain_text('This kind of file is not accepted')
        expect(page.get_by_label('Title')).to_have_value('Kept title')
        context.close()
    finally:
        server.close()
        close_app(app)


def test_drop_a_file_on_the_form(live_server, page):
    sign_in(page, live_server, 'so.finance')
    open_file(page, live_server, 'Dropped letter')
    expect(page.get_by_text('You can also drop a file here.')).to_be_visible()
    data = page.evaluate_handle("""() => {
        const dt = new DataTransfer();
        dt.items.add(new File(['%PDF-1.4 not really'], 'dropped.pdf', {type: 'application/pdf'}));
        return dt; }""")
    form = page.locator('form.attach-form')
    form.dispatch_event('dragover', {'dataTransfer': data})
    expect(form).to_have_class(re.compile('dragging'))
    form.dispatch_event('drop', {'dataTransfer': data})
    expect(form).not_to_have_class(re.compile('dragging'))
    assert page.locator('#att-file').evaluate('i => i.files[0].name') == 'dropped.pdf'


@pytest.mark.parametrize('javascript', [True, False])
def test_exports_are_saved_under_their_names(live_server, chromium, javascript):
    context = _context(chromium, java_script_enabled=javascript, accept_downloads=True)
    if javascript:
        context.add_init_script(WATCH_PROGRESS)
    page = context.new_page()
    sign_in(page, live_server, 'so.finance')
    file_url = open_file(page, live_server, 'File to export')
    with page.expect_download() as download:
        page.get_by_role('link', name='Export the whole file as PDF').click()
    file_id = file_url.rsplit('/', 1)[1]
    assert download.value.suggested_filename == f'file-{file_id}.pdf'
    assert open(download.value.path(), 'rb').read(5) == b'%PDF-'
    if javascript:
        expect(page.locator('.export-message')).to_contain_text(f'file-{file_id}.pdf')
        assert progress_seen(page) == 1.0
    page.get_by_role('button', name='Sign out').click()
    sign_in(page, live_server, 'admin')
    page.goto(live_server + '/admin/audit')
    with page.expect_download() as download:
        page.get_by_role('link', name='Export as CSV').click()
    assert download.value.suggested_filename == 'audit-log.csv'
    with open(download.value.path(), encoding='utf-8') as f:
        assert f.readline().startswith('when,')
    if javascript:
        expect(page.locator('.export-message')).to_contain_text('audit-log.csv')
    context.close()
