"""Does reading a batch of scans slow the pages officers wait on?

Builds a demo data directory, attaches a batch of scanned pages (English and Urdu,
rendered at 300 dpi and wrapped in PDFs without text, as tests/ocr_pages.py makes
them) to a file, lets the OCR worker read the batch in its thread, and meanwhile
measures the pages an officer opens all day (the inbox, a file, the home page, the
search) through the WSGI app, in rounds of two blocks:

  reading   the batch read as the workspace reads it (Tesseract on one thread at the
            lowest priority: kp_workspace/ocr/engine.py);
  quiet     the reader's programs held (SIGSTOP, by this script): nothing is read.

The blocks alternate, so that a change of the machine's load over the minutes touches
both alike.  (The first version measured all the quiet requests before the batch and
all the others during it, and printed 1.4 for the search and the file page: the
machine's load had changed in between.  Run on a busy machine, that order gave ratios
from 0.8 to 4.0 in one run.)  It prints each page's median per block and their ratio
(close to 1: the batch does not slow it), and the batch's seconds per page.

    .venv/bin/python benchmarks/ocr_while_working.py [--pages 30] [--rounds 20]
"""
import argparse
import collections
import glob
import os
import signal
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.desk_scale import samples_ms  # noqa: E402
from kp_workspace.scripts import kpw  # noqa: E402
from kp_workspace.site import close_databases  # noqa: E402
from tests.conftest import Browser, make_app, write_ini  # noqa: E402
from tests.ocr_pages import ENGLISH, URDU, render_png, scanned_pdf  # noqa: E402

PAGES = ('/inbox', '/', '/search?q=pension')
BLOCKS = ('reading', 'quiet')


def programs():
    """The processes this one started (the reader's Tesseract or pdftoppm)."""
    found = []
    for task in glob.glob(f'/proc/{os.getpid()}/task/*/children'):
        with open(task) as f:
            found += [int(pid) for pid in f.read().split()]
    return found


def signal_all(which):
    for pid in programs():
        try:
            os.kill(pid, which)
        except ProcessLookupError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--pages', type=int, default=30, help='scanned pages in the batch')
    parser.add_argument('--rounds', type=int, default=20, help='rounds of the two blocks')
    parser.add_argument('--runs', type=int, default=5, help='requests per page and block')
    args = parser.parse_args()
    times = {block: collections.defaultdict(list) for block in BLOCKS}
    with tempfile.TemporaryDirectory(prefix='kpw-bench-') as tmp:
        var = os.path.join(tmp, 'var')
        kpw.main(['-c', write_ini(tmp, var), 'init', '--demo'], out=open(os.devnull, 'w'))
        app = make_app(var, **{'kp_workspace.ocr': 'thread'})
        worker = app.registry.kpw_ocr
        worker.stop()   # (its thread: this script runs the batch itself)
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
            paths = (*PAGES, f'/files/{fid}')
            for path in paths:
                officer.get(path, status=200)   # (warm)
            worker._stop.clear()
            done = {}

            def read_batch():
                started = time.perf_counter()
                done['scans'] = worker.run_pending()
                done['seconds'] = time.perf_counter() - started
            reader = threading.Thread(target=read_batch)
            reader.start()
            time.sleep(1.0)   # (the first page under way)
            rounds = 0
            for _ in range(args.rounds):
                if not reader.is_alive():
                    break
                for block in BLOCKS:
                    if block == 'quiet':
                        signal_all(signal.SIGSTOP)
                    try:
                        for path in paths:
                            times[block][path] += samples_ms(officer, path, runs=args.runs)
                    finally:
                        if block == 'quiet':
                            signal_all(signal.SIGCONT)
                rounds += 1
            reader.join()
        finally:
            close_databases(app.registry)
    print(f'OCR batch: {done["scans"]} scanned pages read in {done["seconds"]:.1f} s '
          f'({done["seconds"] / max(done["scans"], 1):.2f} s a page, with the measuring); '
          f'{rounds} of {args.rounds} rounds measured while it read'
          f'{"" if rounds == args.rounds else " (raise --pages for more)"}')
    print(f'{"page (median ms)":<22}' + ''.join(f'{b:>11}' for b in BLOCKS) +
          f'{"ratio":>9}')
    for path in paths:
        name = '/files/{id}' if path.startswith('/files/') else path
        medians = {b: statistics.median(times[b][path]) for b in BLOCKS}
        print(f'{name:<22}' + ''.join(f'{medians[b]:>11.1f}' for b in BLOCKS) +
              f'{medians["reading"] / medians["quiet"]:>9.2f}')


if __name__ == '__main__':
    main()
