"""The official PDFs, made by many request threads at once."""
import datetime
import io
import sys
import threading

from pypdf import PdfReader

from kp_workspace import official_pdf


def a_file(n):
    at = datetime.datetime(2026, 12, 6, 10, n % 60)
    words = ' '.join(f'word{k * n}' for k in range(40))
    return {'department_title': 'Finance Department', 'number': f'FD/2026/{n:04d}',
            'subject': f'Subject {n}: {words}',
            'notes': [(k, 'Imran Yousafzai', 'Section Officer (Budget)', at,
                       f'Note {k} of file {n}: {words} محکمہ خزانہ کی رائے {n * k} درکار ہے۔')
                      for k in range(1, 4)],
            'movements': [(at, 'forwarded', 'Section Officer (Budget)', 'Secretary Finance',
                           'Imran Yousafzai', f'please see {n}')]}


def test_pdfs_made_in_many_threads_at_once_are_all_whole():
    """reportlab's fonts keep the glyphs each document uses as it is built, and are
    shared by every thread; two documents built at once took each other's glyphs
    (a KeyError in makeSubset: a 500 for one PDF in a thousand under the read load)."""
    made, failed = {}, []

    def worker(first):
        for n in range(first, first + 5):  # (8 threads at once: the race showed with 2)
            try:
                made[n] = official_pdf.render_file(a_file(n), [])
            except Exception as e:  # (collected: a thread's exception would be lost)
                failed.append((n, repr(e)))
    threads = [threading.Thread(target=worker, args=(t * 100,)) for t in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # (threads take turns often: the race shows on every run)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert failed == [] and len(made) == 40
    for n, data in made.items():
        text = ''.join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
        assert f'FD/2026/{n:04d}' in text and f'word{39 * n}' in text
