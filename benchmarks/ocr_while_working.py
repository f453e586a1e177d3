"""Does reading a batch of scans slow the pages officers wait on?

Builds a demo data directory, attaches a batch of scanned pages (English and Urdu,
rendered at 300 dpi and wrapped in PDFs without text, as tests/ocr_pages.py makes
them) to a file, and measures the median time of the pages an officer opens all day
(the inbox, a file, the home page, the search) through the WSGI app:

  1. with nothing being read (the baseline), then
  2. while the OCR worker reads the batch in its thread (Tesseract on one thread at
     the lowest priority: kp_workspace/ocr/engine.py),

and prints both medians and their ratio per page (close to 1: the batch does not slow
them), with the batch's seconds per page.  Ratios, not absolute times: the machine is
noisy.

    .venv/bin/python benchmarks/ocr_while_working.py [--pages 12] [--runs 30]
"""
import argparse
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.desk_scale import median_ms  # noqa: E402
from kp_workspace.scripts import kpw  # noqa: E402
from kp_workspace.site import close_databases  # noqa: E402
from tests.conftest import Browser, make_app, write_ini  # noqa: E402
from tests.ocr_pages import ENGLISH, URDU, render_png, scanned_pdf  # noqa: E402

PAGES = ('/inbox', '/', '/search?q=pension')


def measure(browser, file_path, runs):
    found = {}
    for path in (*PAGES, file_path):
        browser.get(path, status=200)   # (warm)
        found[path] = median_ms(browser, path, runs=runs)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--pages', type=int, default=12, help='scanned pages in the batch')
    parser.add_argument('--runs', type=int, default=30, help='requests per page measured')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='kpw-bench-') as tmp:
        var = os.path.join(tmp, 'var')
        kpw.main(['-c', write_ini(tmp, var), 'init', '--demo'], out=open(os.devnull, 'w'))
        app = make_app(var)
        try:
            officer = Browser(app)
            token = officer.token('so.finance')
            auth = {'Authorization': f'Bearer {token}'}
            fid = officer.post_json('/api/v1/departments/finance/files',
                                    {'subject': 'Scanned correspondence'}, headers=auth,
                                    status=201).json['id']
            for n in range(args.pages):
                png, pdf = os.path.join(tmp, f'p{n}.png'), os.path.join(tmp, f'p{n}.pdf')
                if n % 2:
                    render_png(png, URDU, font='NotoNaskhArabic-Regular.ttf', rtl=True)
                else:
                    render_png(png, ENGLISH)
                scanned_pdf(pdf, [png])
                with open(pdf, 'rb') as f:
                    officer.post(f'/api/v1/files/{fid}/attachments', {'title': f'Scan {n}'},
                                 upload_files=[('file', f'scan{n}.pdf', f.read())],
                                 headers=auth, status=201)
            officer.login('so.finance')
            file_path = f'/files/{fid}'
            quiet = measure(officer, file_path, args.runs)
            worker = app.registry.kpw_ocr
            done = {}

            def read_batch():
                started = time.perf_counter()
                done['scans'] = worker.run_pending()
                done['seconds'] = time.perf_counter() - started
            reader = threading.Thread(target=read_batch)
            reader.start()
            time.sleep(1.0)   # (the first page under way)
            busy = measure(officer, file_path, args.runs)
            still_reading = reader.is_alive()
            reader.join()
        finally:
            close_databases(app.registry)
    print(f'OCR batch: {done["scans"]} scanned pages read in {done["seconds"]:.1f} s '
          f'({done["seconds"] / max(done["scans"], 1):.2f} s a page, one Tesseract thread '
          f'at the lowest priority); still reading when the measuring ended: '
          f'{"yes" if still_reading else "no (raise --pages)"}')
    print(f'{"page":<28}{"quiet ms":>10}{"during ms":>11}{"ratio":>8}')
    for path in quiet:
        name = '/files/{id}' if path == file_path else path
        print(f'{name:<28}{quiet[path]:>10.1f}{busy[path]:>11.1f}'
              f'{busy[path] / quiet[path]:>8.2f}')


if __name__ == '__main__':
    main()
