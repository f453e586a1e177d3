"""Official PDFs and signatures: how long signing and rendering take.

Prints the median over ``--runs`` of:
  - unlocking a signer's key with the PIN (argon2id, by design not instant)
  - rendering a one-page notification (English and Urdu)
  - signing it (PAdES, visible stamp, incremental) with pyHanko, and a second
    signature on the signed output
  - the whole signing action through the API (unlock + number + render + sign + store)
and the time to render a 50-page case-file export (noting sheet, movement register,
correspondence merged with bookmarks), with its page count read back by pypdf.

    .venv/bin/python benchmarks/signing.py [--runs 20]
"""
import argparse
import datetime
import io
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pypdf import PdfReader  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from benchmarks.search_scale import timed  # noqa: E402
from kp_workspace import official_pdf  # noqa: E402
from kp_workspace.populate import DEMO_NOTIFICATION, DEMO_PIN  # noqa: E402
from kp_workspace.scripts import kpw  # noqa: E402
from kp_workspace.signing import SigningAuthority, WorkspaceKeySigner, sign_pdf  # noqa: E402
from tests.conftest import Browser, close_app, make_app, write_ini  # noqa: E402

SECRET = 'b' * 64


def median_ms(fn, runs):
    return statistics.median(timed(fn, runs))


def notification():
    return {'kind_title': 'Notification', 'department_title': 'Finance Department',
            'department_title_ur': 'محکمہ خزانہ', 'number': 'FD/N/2026/0001',
            'date': datetime.datetime(2026, 11, 23), 'subject': 'Revision of pension rates',
            'body': DEMO_NOTIFICATION, 'addressees': 'The Accountant General',
            'copies': 'PS to Chief Secretary', 'signer_name': 'Imran Yousafzai',
            'signer_post': 'Secretary Finance', 'final': True}


def letter(pages):
    out = io.BytesIO()
    c = canvas.Canvas(out)
    for n in range(pages):
        c.drawString(72, 770, f'Letter page {n + 1}')
        c.showPage()
    c.save()
    return out.getvalue()


def file_export():
    at = datetime.datetime(2026, 1, 1, 9, tzinfo=datetime.timezone.utc)
    text = ('The matter has been examined in the light of the rules and the advice of the '
            'Finance Department. ' * 6)
    notes = [(n, 'Ayesha Khan', 'Section Officer (Budget)', at + datetime.timedelta(hours=n),
              text + ('\n\nپنشن کی شرح میں اضافہ کیا جاتا ہے۔' if n % 5 == 0 else ''))
             for n in range(1, 80)]
    movements = [(at + datetime.timedelta(hours=n), 'forward', 'SO (Budget)',
                  'Secretary Finance', 'Ayesha Khan', 'For orders, please.')
                 for n in range(200)]
    fields = {'department_title': 'Finance Department', 'number': 'FD/2026/0001',
              'subject': 'Revision of pension rates', 'notes': notes, 'movements': movements}
    attachments = [(f'Letter {n}', io.BytesIO(letter(8)), '') for n in range(3)]
    return official_pdf.render_file(fields, attachments)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--runs', type=int, default=20)
    args = parser.parse_args()
    runs = args.runs
    authority = SigningAuthority(SECRET)
    authority.issue('secretary.finance', 'Imran Yousafzai', 'bench')
    record = authority.activate('secretary.finance', DEMO_PIN, SECRET)
    unlock = median_ms(lambda: authority.unlock('secretary.finance', DEMO_PIN, SECRET), runs)
    key, record = authority.unlock('secretary.finance', DEMO_PIN, SECRET)
    signer = WorkspaceKeySigner(key, record.certificate, [authority.ca_certificate],
                                record.name, 'Secretary Finance')
    render = median_ms(lambda: official_pdf.render_outgoing(notification()), runs)
    pdf = official_pdf.render_outgoing(notification())
    sign = median_ms(lambda: sign_pdf(pdf, signer, 'bench'), runs)
    once = sign_pdf(pdf, signer, 'bench')
    second = median_ms(lambda: sign_pdf(once, signer, 'bench'), runs)
    start = time.perf_counter()
    export = file_export()
    export_s = time.perf_counter() - start
    pages = len(PdfReader(io.BytesIO(export)).pages)
    export_runs = [export_s]
    for _ in range(2):
        start = time.perf_counter()
        file_export()
        export_runs.append(time.perf_counter() - start)
    # the whole action through the API, on the demo draft (one run: it can be signed once)
    with tempfile.TemporaryDirectory(prefix='kpw-sign-bench-') as tmp:
        var = os.path.join(tmp, 'var')
        ini = write_ini(tmp, var)
        kpw.main(['-c', ini, 'init', '--demo'], out=open(os.devnull, 'w'))
        app = make_app(var)
        try:
            browser = Browser(app)
            token = browser.token('secretary.finance')
            inbox = browser.api('get', '/api/v1/inbox', token).json['items']
            draft_id = browser.api('get', f'/api/v1/files/{inbox[0]["id"]}',
                                   token).json['drafts'][0]['id']
            act = f'/api/v1/drafts/{draft_id}/actions'
            browser.api('post_json', f'{act}/approve', token, params={})
            start = time.perf_counter()
            browser.api('post_json', f'{act}/sign', token, params={'pin': DEMO_PIN})
            action_ms = (time.perf_counter() - start) * 1000
        finally:
            close_app(app)
    print(f'medians over {runs} runs (ms): unlock key with PIN (argon2id) {unlock:.0f} | '
          f'render notification {render:.0f} | sign {sign:.0f} | second signature '
          f'{second:.0f}')
    print(f'signing action through the API (unlock + number + render + sign + store), '
          f'one run: {action_ms:.0f} ms')
    print(f'50-page file export: {pages} pages ({len(export) // 1024} KB), median of 3 '
          f'renders {statistics.median(export_runs):.2f} s')


if __name__ == '__main__':
    main()
