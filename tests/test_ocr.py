"""Scanned correspondence becomes searchable: a scanned PDF (pages that are pictures) and
a PNG, in English and in Urdu, are read by Tesseract outside the request, and their
words found by the search, by those who may see the file only.  The original bytes are
never altered; a searchable copy is kept beside them; a restart in the middle of the
queue loses no job; a corrupt image fails with a clear status, and is tried again."""
import contextlib
import hashlib
import io
import os
import struct
import zlib

import pytest
from pypdf import PdfReader

from kp_workspace.ocr import engine
from kp_workspace.search.reindex import check
from tests.conftest import Browser, close_app, make_app, set_generation
from tests.ocr_pages import ENGLISH, URDU, render_png, scanned_pdf

pytestmark = pytest.mark.skipif(not engine.available(), reason='make test installs Tesseract')


@pytest.fixture(scope='module')
def scans(tmp_path_factory):
    """``{'english.pdf': bytes, 'urdu.png': bytes}``: pages as a scanner makes them."""
    folder = tmp_path_factory.mktemp('scans')
    render_png(folder / 'english.png', ENGLISH)
    scanned_pdf(folder / 'english.pdf', [folder / 'english.png'])
    render_png(folder / 'urdu.png', URDU, font='NotoNaskhArabic-Regular.ttf', rtl=True)
    return {name: (folder / name).read_bytes() for name in ('english.pdf', 'urdu.png')}


@contextlib.contextmanager
def served(var_dir, **settings):
    """``(app, browser, so.finance's token)`` on ``var_dir``, closed at the end (an app
    that stops, as a server's process does)."""
    app = make_app(var_dir, **settings)
    try:
        browser = Browser(app)
        yield app, browser, browser.token('so.finance')
    finally:
        close_app(app)


def a_file_with_a_scan(var_dir, data, name):
    """``(file id, attachment id)``: a new file with the scan ``data``, in an app that
    then stops."""
    with served(var_dir) as (_app, browser, token):
        fid = new_file(browser, token)
        return fid, upload(browser, token, fid, name, data, 'A scan')


def auth(token):
    return {'Authorization': f'Bearer {token}'}


def new_file(app, token, subject='Correspondence on the new budget rules'):
    return app.post_json('/api/v1/departments/finance/files', {'subject': subject},
                         headers=auth(token), status=201).json['id']


def upload(app, token, fid, name, data, title):
    return app.post(f'/api/v1/files/{fid}/attachments', {'title': title},
                    upload_files=[('file', name, data)], headers=auth(token),
                    status=201).json['id']


def attachment(app, token, fid, att_id):
    found = app.get(f'/api/v1/files/{fid}', headers=auth(token)).json['attachments']
    return [a for a in found if a['id'] == att_id][0]


def search(app, token, q):
    return {h['id'] for h in app.get('/api/v1/search', params={'q': q},
                                     headers=auth(token)).json['items']}


def test_a_scanned_pdf_and_a_png_become_searchable(wsgi_app, app, tokens, scans, open_site):
    token = tokens('so.finance')
    fid = new_file(app, token)
    pdf_id = upload(app, token, fid, 'letter.pdf', scans['english.pdf'], 'Letter of the AG')
    png_id = upload(app, token, fid, 'khat.png', scans['urdu.png'], 'Urdu letter')
    # the upload answered at once: the scans wait, and nothing of them is searchable yet
    for att_id in (pdf_id, png_id):
        assert attachment(app, token, fid, att_id)['ocr'] == {
            'state': 'waiting', 'pages_done': 0, 'pages': 1, 'error': None,
            'searchable_pdf': False}
    app.indexed()
    assert fid not in search(app, token, 'pensioners')
    engine = wsgi_app.registry.kpw_search
    before = engine.stamps()
    assert wsgi_app.registry.kpw_ocr.run_pending() == 2
    # the index's check sees the recognised text missing until it is indexed
    stale = open_site(lambda site, conn: check(engine, site))[2]
    assert {f'{fid}/{pdf_id}', f'{fid}/{png_id}'} <= set(stale) or \
        engine.stamps() != before   # (unless the indexer was quicker than the check)
    app.indexed()
    assert open_site(lambda site, conn: check(engine, site)) == ([], [], [])
    for att_id in (pdf_id, png_id):
        assert attachment(app, token, fid, att_id)['ocr'] == {
            'state': 'done', 'pages_done': 1, 'pages': 1, 'error': None,
            'searchable_pdf': True}
    # English words (stemmed: "pension" finds "pensioners") and Urdu ones
    assert fid in search(app, token, 'pension')
    assert fid in search(app, token, 'خزانہ')
    # only by those who may see the file
    assert fid not in search(app, tokens('so.hed'), 'pension')
    # the originals are the bytes sent; the searchable copy carries the text
    for att_id, name in ((pdf_id, 'english.pdf'), (png_id, 'urdu.png')):
        body = app.get(f'/api/v1/files/{fid}/attachments/{att_id}', headers=auth(token)).body
        assert hashlib.sha256(body).digest() == hashlib.sha256(scans[name]).digest()
    copy = app.get(f'/api/v1/files/{fid}/attachments/{pdf_id}/searchable',
                   headers=auth(token))
    assert copy.content_type == 'application/pdf'
    text = PdfReader(io.BytesIO(copy.body)).pages[0].extract_text()
    assert 'Finance' in text and 'pension' in text
    app.get(f'/api/v1/files/{fid}/attachments/{pdf_id}/searchable',
            headers=auth(tokens('so.hed')), status=404)
    # the file page says it, and links the copy
    app.login('so.finance')
    page = app.get(f'/files/{fid}').text
    assert 'Text recognised: searchable' in page and f'{pdf_id}/searchable' in page


def test_a_restart_in_the_middle_of_the_queue_loses_no_job(var_dir, scans):
    with served(var_dir) as (app, browser, token):
        fid = new_file(browser, token)
        first = upload(browser, token, fid, 'a.pdf', scans['english.pdf'], 'First scan')
        second = upload(browser, token, fid, 'b.png', scans['urdu.png'], 'Second scan')
        # a worker claims the first scan and the process ends before it is read
        worker = app.registry.kpw_ocr
        claimed = worker._in_transaction(worker._claim)
        assert claimed is not None
        assert attachment(browser, token, fid, first)['ocr']['state'] == 'reading'
    with served(var_dir) as (app, browser, token):
        worker = app.registry.kpw_ocr
        # the second waits and is read at once; the first once its claim is stale
        assert worker.run_pending() == 1
        assert attachment(browser, token, fid, second)['ocr']['state'] == 'done'
        assert attachment(browser, token, fid, first)['ocr']['state'] == 'reading'
        worker.claim_seconds = 0
        assert worker.run_pending() == 1
        assert attachment(browser, token, fid, first)['ocr']['state'] == 'done'
        assert worker.run_pending() == 0


def test_a_worker_stopping_between_pages_leaves_the_job_waiting(wsgi_app, app, tokens, scans,
                                                                  tmp_path):
    token = tokens('so.finance')
    fid = new_file(app, token)
    two_pages = tmp_path / 'two.pdf'
    render_png(tmp_path / 'p1.png', ENGLISH)
    render_png(tmp_path / 'p2.png', ENGLISH[::-1])
    scanned_pdf(two_pages, [tmp_path / 'p1.png', tmp_path / 'p2.png'])
    att_id = upload(app, token, fid, 'two.pdf', two_pages.read_bytes(), 'Two pages')
    worker = wsgi_app.registry.kpw_ocr
    worker._stop.set()   # (asked to stop: it stops after the page under way)
    assert worker.run_one() is False
    found = attachment(app, token, fid, att_id)['ocr']
    assert found['state'] == 'waiting' and found['pages'] == 2
    worker._stop.clear()
    assert worker.run_pending() == 1
    assert attachment(app, token, fid, att_id)['ocr'] == {
        'state': 'done', 'pages_done': 2, 'pages': 2, 'error': None, 'searchable_pdf': True}
    copy = app.get(f'/api/v1/files/{fid}/attachments/{att_id}/searchable', headers=auth(token))
    assert len(PdfReader(io.BytesIO(copy.body)).pages) == 2


def test_a_corrupt_image_fails_clearly_and_is_tried_again(wsgi_app, app, tokens, audit_entries):
    token = tokens('so.finance')
    fid = new_file(app, token)
    broken = b'\x89PNG\r\n\x1a\n' + b'\x00\x00\x00\rIHDR' + b'not really an image' * 50
    att_id = upload(app, token, fid, 'broken.png', broken, 'A damaged scan')
    assert wsgi_app.registry.kpw_ocr.run_pending() == 1
    found = attachment(app, token, fid, att_id)['ocr']
    assert found['state'] == 'failed' and found['error'] and found['searchable_pdf'] is False
    # it blocks nothing: the file still moves
    app.login('so.finance')
    page = app.get(f'/files/{fid}').text
    assert 'The text could not be read: the scan is damaged, or is not an image.' in page
    assert 'Read the text again' in page
    # tried again by the holder (not by another department, nor once done)
    app.post_json(f'/api/v1/files/{fid}/attachments/{att_id}/ocr', {},
                  headers=auth(tokens('so.hed')), status=404)
    again = app.post_json(f'/api/v1/files/{fid}/attachments/{att_id}/ocr', {},
                          headers=auth(token)).json
    assert again['ocr']['state'] == 'waiting'
    assert 'attachment.ocr_retried' in [e.action for e in audit_entries(10)]
    app.post_json(f'/api/v1/files/{fid}/attachments/{att_id}/ocr', {},
                  headers=auth(token), status=409)   # (waiting: nothing to try again)
    assert wsgi_app.registry.kpw_ocr.run_pending() == 1
    assert attachment(app, token, fid, att_id)['ocr']['state'] == 'failed'
    moved = app.post_json(f'/api/v1/files/{fid}/actions/forward',
                          {'to_post': 'secretary-finance'}, headers=auth(token)).json
    assert moved['holder']['id'] == 'secretary-finance'
    # no longer the holder: may not try again
    app.post_json(f'/api/v1/files/{fid}/attachments/{att_id}/ocr', {},
                  headers=auth(token), status=409)


def test_the_browser_tries_a_failed_scan_again(wsgi_app, app, tokens):
    token = tokens('so.finance')
    fid = new_file(app, token)
    att_id = upload(app, token, fid, 'broken.png', b'\x89PNG\r\n\x1a\n' + b'x' * 500, 'Bad')
    wsgi_app.registry.kpw_ocr.run_pending()
    app.login('so.finance')
    page = app.get(f'/files/{fid}')
    form = [f for f in page.forms.values() if f.action.endswith(f'{att_id}/ocr')][0]
    # forged (no CSRF token): refused, nothing changes
    app.post(f'/files/{fid}/attachments/{att_id}/ocr', status=400)
    assert attachment(app, token, fid, att_id)['ocr']['state'] == 'failed'
    done = form.submit(status=303).follow()
    assert 'will be read again' in done.text and 'Text recognition: waiting' in done.text


def test_a_scanned_letter_in_the_dak_becomes_searchable(wsgi_app, app, tokens, scans):
    token = tokens('diary.finance')
    receipt = app.post('/api/v1/departments/finance/receipts', {
        'subject': 'Letter from the Accountant General', 'sender': 'Accountant General',
        'mode': 'post'}, upload_files=[('file', 'scan.png', scans['urdu.png'])],
        headers=auth(token), status=201).json
    assert receipt['letter']['ocr']['state'] == 'waiting'
    assert wsgi_app.registry.kpw_ocr.run_pending() == 1
    app.indexed()
    assert receipt['id'] in search(app, token, 'خزانہ')


def test_a_letter_in_the_dak_that_fails_is_read_again_by_its_holder(wsgi_app, app, tokens,
                                                                     audit_entries):
    """A dak letter that could not be read says so on the receipt's page, and whoever holds
    the receipt (the diary, then the officer it is marked to) may have it read again;
    nobody else may (404 to those who may not see it, 409 to those who do not hold it)."""
    token = tokens('diary.finance')
    receipt = app.post('/api/v1/departments/finance/receipts', {
        'subject': 'A torn letter', 'sender': 'Accountant General', 'mode': 'post'},
        upload_files=[('file', 'torn.png', b'\x89PNG\r\n\x1a\n' + b'x' * 500)],
        headers=auth(token), status=201).json
    rid = receipt['id']
    wsgi_app.registry.kpw_ocr.run_pending()
    letter = app.get(f'/api/v1/receipts/{rid}', headers=auth(token)).json['letter']
    assert letter['ocr']['state'] == 'failed' and 'damaged' in letter['ocr']['error']
    # the diary holds it: its page says why, and offers to read it again
    app.login('diary.finance')
    page = app.get(f'/receipts/{rid}')
    assert 'The text could not be read' in page.text
    form = [f for f in page.forms.values() if f.action.endswith(f'{rid}/letter/ocr')][0]
    app.post(f'/receipts/{rid}/letter/ocr', status=400)   # (forged: no CSRF token)
    done = form.submit(status=303).follow()
    assert 'will be read again' in done.text and 'Text recognition: waiting' in done.text
    assert [e.target for e in audit_entries(10) if e.action == 'attachment.ocr_retried'][0] \
        == f'receipt:{rid}'
    # read again: it fails again (the same bytes); through the API this time
    wsgi_app.registry.kpw_ocr.run_pending()
    again = app.post_json(f'/api/v1/receipts/{rid}/letter/ocr', {}, headers=auth(token),
                          status=200).json
    assert again['letter']['ocr']['state'] == 'waiting'
    # not failed (waiting): nothing to read again
    app.post_json(f'/api/v1/receipts/{rid}/letter/ocr', {}, headers=auth(token), status=409)
    wsgi_app.registry.kpw_ocr.run_pending()
    # marked to the officer: the diary no longer holds it (409); another department's
    # officer may not even see it (404); the officer may, and has no button before
    app.post_json(f'/api/v1/receipts/{rid}/actions/mark', {'to_post': 'so-budget-finance'},
                  headers=auth(token), status=200)
    app.post_json(f'/api/v1/receipts/{rid}/letter/ocr', {}, headers=auth(token), status=409)
    app.post_json(f'/api/v1/receipts/{rid}/letter/ocr', {},
                  headers=auth(tokens('so.hed')), status=404)
    assert f'{rid}/letter/ocr' not in app.get(f'/receipts/{rid}').text   # (the diary's)
    app.post_json(f'/api/v1/receipts/{rid}/letter/ocr', {},
                  headers=auth(tokens('so.finance')), status=200)


def test_kpw_ocr_reads_what_waits(var_dir, tmp_path, scans):
    """``kpw ocr --pending`` (for servers with kp_workspace.ocr = off) reads the queue and
    indexes what it read."""
    from tests.conftest import write_ini
    from tests.scripts.test_kpw import run
    fid, att_id = a_file_with_a_scan(var_dir, scans['english.pdf'], 'scan.pdf')
    ini = write_ini(tmp_path, var_dir)
    status, out, err = run(ini, 'ocr', '--pending')
    assert (status, err) == (0, '') and 'Read 1 scans.' in out
    assert run(ini, 'ocr', '--pending')[1].strip() == 'Read 0 scans.'
    with served(var_dir) as (_app, browser, token):
        assert attachment(browser, token, fid, att_id)['ocr']['state'] == 'done'
        browser.indexed()
        assert fid in search(browser, token, 'pension')


def test_step_22_queues_the_scans_attached_before_it(var_dir, scans):
    """A database as release 21 left it (scans attached, no queue): step 22 queues them."""
    from kp_workspace.evolve import GENERATION
    fid, att_id = a_file_with_a_scan(var_dir, scans['urdu.png'], 'scan.png')

    def as_release_21(site):
        att = site.desk.items[fid].attachments[att_id]
        att._p_activate()   # (a ghost's __dict__ is empty)
        for name in ('ocr_state', 'ocr_pages', 'ocr_done', 'ocr_error'):
            att.__dict__.pop(name, None)
        att._p_changed = True
        del site.ocr_queue
    set_generation(var_dir, 21, as_release_21)
    with served(var_dir, **{'kp_workspace.indexer': 'off'}) as (app, browser, token):
        assert app.registry.kpw_generations == (21, GENERATION)
        assert attachment(browser, token, fid, att_id)['ocr']['state'] == 'waiting'
        assert app.registry.kpw_ocr.run_pending() == 1   # (the demo has no scan)
        assert attachment(browser, token, fid, att_id)['ocr']['state'] == 'done'


def test_step_22_reads_a_filed_letter_for_its_receipt_and_its_file(var_dir, scans):
    """A dak letter put into a file before step 22 is read once, and its words found
    through both the receipt and the file, whichever of them step 22 meets first."""
    from kp_workspace.evolve import GENERATION
    with served(var_dir) as (app, browser, token):
        diary = browser.token('diary.finance')
        rid = browser.post('/api/v1/departments/finance/receipts', {
            'subject': 'Letter from the Treasury', 'sender': 'Treasury', 'mode': 'post'},
            upload_files=[('file', 'khat.png', scans['urdu.png'])], headers=auth(diary),
            status=201).json['id']
        browser.post_json(f'/api/v1/receipts/{rid}/actions/mark',
                          {'to_post': 'so-budget-finance'}, headers=auth(diary), status=200)
        fid = new_file(browser, token)
        while fid > rid:   # (a file met before the receipt: the order that was wrong)
            fid = new_file(browser, token)
        browser.post_json(f'/api/v1/receipts/{rid}/actions/file', {'file': fid},
                          headers=auth(token), status=200)

    def as_release_21(site):
        letter = site.desk.items[rid].letter
        letter._p_activate()   # (a ghost's __dict__ is empty)
        for name in ('ocr_state', 'ocr_pages', 'ocr_done', 'ocr_error', 'held_in'):
            letter.__dict__.pop(name, None)
        letter._p_changed = True
        del site.ocr_queue
    set_generation(var_dir, 21, as_release_21)
    with served(var_dir) as (app, browser, token):
        assert app.registry.kpw_generations == (21, GENERATION)
        assert app.registry.kpw_ocr.run_pending() == 1   # (read once)
        browser.indexed()
        found = search(browser, token, 'خزانہ')
        assert {rid, fid} <= found


def png_declaring(width, height):
    """A small PNG whose header declares ``width`` x ``height`` grey pixels."""
    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data)))
    return (b'\x89PNG\r\n\x1a\n'
            + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(b'\x00' * 64)) + chunk(b'IEND', b''))


@pytest.mark.parametrize('name, data, reason', [
    ('bomb.png', png_declaring(60_000, 60_000), 'too large'),     # Pillow's own limit
    ('wide.png', png_declaring(20_000, 4_000), 'too large'),      # past ours only
    ('plain.png', b'\x89PNG\r\n\x1a\n' + b'\x00' * 300, 'cannot be opened'),
])
def test_an_image_made_to_exhaust_the_reader_fails_at_once(wsgi_app, app, tokens, name, data,
                                                            reason):
    token = tokens('so.finance')
    fid = new_file(app, token)
    att_id = upload(app, token, fid, name, data, 'Hostile')
    assert wsgi_app.registry.kpw_ocr.run_pending() == 1
    found = attachment(app, token, fid, att_id)['ocr']
    assert found['state'] == 'failed' and reason in found['error']


def test_a_pdf_page_too_large_is_read_smaller_or_refused(tmp_path):
    from reportlab.pdfgen import canvas
    big = tmp_path / 'big.pdf'
    pdf = canvas.Canvas(str(big), pagesize=(40 * 72, 30 * 72))   # 40 x 30 inches
    pdf.drawString(72, 72, 'A large drawing')
    pdf.showPage()
    pdf.setPageSize((400 * 72, 400 * 72))                        # 400 x 400 inches
    pdf.showPage()
    pdf.save()
    first, second = (page.mediabox for page in PdfReader(big).pages)
    dpi = engine.page_dpi(first, 1)
    assert dpi < engine.DPI and 40 * 30 * dpi * dpi <= engine.MAX_PIXELS
    with pytest.raises(engine.RecognitionFailed, match='too large'):
        engine.page_dpi(second, 2)
    with pytest.raises(engine.RecognitionFailed, match='too large') as refused:
        engine.recognise(str(big), 'application/pdf')   # (refused before a page is read)
    assert refused.value.reason == 'too_large'


def test_a_tiff_with_a_huge_later_page_is_refused(tmp_path):
    from PIL import Image
    tiff = tmp_path / 'pages.tif'
    small = Image.new('1', (200, 200), 1)
    huge = Image.new('1', (9000, 6000), 1)   # (54 million pixels, a few kilobytes packed)
    small.save(tiff, save_all=True, append_images=[huge], compression='group4')
    with pytest.raises(engine.RecognitionFailed, match='too large'):
        engine.check_image(str(tiff))


def test_a_job_whose_scan_cannot_be_copied_fails_and_the_queue_goes_on(wsgi_app, app, tokens,
                                                                      open_site, scans):
    token = tokens('so.finance')
    fid = new_file(app, token)
    lost = upload(app, token, fid, 'lost.png', scans['urdu.png'], 'Its blob is lost')
    other = upload(app, token, fid, 'other.png', scans['urdu.png'], 'A good one')

    def lose_the_blob(site, _conn):
        path = site.desk.items[fid].attachments[lost].blob.committed()
        os.chmod(path, 0o600)
        os.remove(path)
    open_site(lose_the_blob)
    assert wsgi_app.registry.kpw_ocr.run_pending() == 2
    assert attachment(app, token, fid, lost)['ocr']['state'] == 'failed'
    assert attachment(app, token, fid, other)['ocr']['state'] == 'done'


def test_a_job_begun_too_often_fails(wsgi_app, app, tokens, scans):
    """A scan whose reading stopped its worker each time (claimed, never finished) is
    given up after MAX_ATTEMPTS claims, not read for ever."""
    from kp_workspace import ocr
    token = tokens('so.finance')
    fid = new_file(app, token)
    att_id = upload(app, token, fid, 'scan.png', scans['urdu.png'], 'A scan')
    worker = wsgi_app.registry.kpw_ocr
    worker.claim_seconds = 0
    for _attempt in range(ocr.MAX_ATTEMPTS):   # (each claim left behind, as by a crash)
        assert worker._in_transaction(worker._claim) is not None
    assert worker.run_pending() == 1
    found = attachment(app, token, fid, att_id)['ocr']
    assert found['state'] == 'failed' and 'never finished' in found['error']


KILLED_READER = '''
import os, sys, threading, time
sys.path.insert(0, sys.argv[1])
from kp_workspace.ocr import engine
from kp_workspace.search.reindex import check
threading.Thread(target=engine._run, args=(['sleep', '60'], 90, 'Sleeping'),
                 daemon=True).start()
for _ in range(100):
    children = [c for t in os.listdir('/proc/self/task')
                for c in open(f'/proc/self/task/{t}/children').read().split()]
    if children:
        break
    time.sleep(0.05)
print(children[0], flush=True)
time.sleep(60)
'''


def gone(pid):
    """Whether process ``pid`` has ended (a zombie has: nobody may have reaped it)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except FileNotFoundError:
        return True


def test_a_reader_killed_outright_leaves_no_program_running(tmp_path):
    """A server killed (not stopped) takes its Tesseract with it; the temporary folders
    of the killed reader are swept by the next one to start."""
    import signal
    import subprocess
    import sys
    import time
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    reader = subprocess.Popen([sys.executable, '-c', KILLED_READER, root],
                              stdout=subprocess.PIPE, text=True)
    try:
        program = int(reader.stdout.readline())
        assert not gone(program)
        os.kill(reader.pid, signal.SIGKILL)
        reader.wait(10)
        for _ in range(100):
            if gone(program):
                break
            time.sleep(0.05)
        assert gone(program), 'the program outlived the reader that started it'
    finally:
        reader.kill()
        reader.wait(10)
    left = tmp_path / f'kpw-ocr-{reader.pid}-abc'   # (its pid is now no process's)
    left.mkdir()
    (left / 'page.png').write_bytes(b'x')
    mine = tmp_path / f'{engine.work_prefix()}def'
    mine.mkdir()
    engine.sweep(str(tmp_path))
    assert not left.exists() and mine.exists()
