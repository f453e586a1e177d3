"""Hostile uploads through the app: the server's memory and time per upload.

Builds every file of ``BOMBS`` (tests/views/test_upload_hostile.py: zip bombs,
PDF bombs, fake files), starts the app on a fresh demo data directory and
uploads each one through the JSON API (WebTest, in this process).  For each it
prints the answer, the process's resident memory before the upload, its peak
during the upload (the kernel's high-water mark, reset before each upload) and
after, and the wall time of the upload.  Figures only, no assertions.

    .venv/bin/python benchmarks/upload_bombs.py [--only NAME ...] [--repeat 1]

Run from an older checkout (with this file and the test module copied in) to
compare against code without the bounds.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kp_workspace.scripts import kpw  # noqa: E402
from tests.conftest import Browser, close_app, make_app, write_ini  # noqa: E402
from tests.views.test_upload_hostile import BOMBS  # noqa: E402


def memory():
    """``(resident, peak)`` of this process in MB, from /proc."""
    values = {}
    with open('/proc/self/status') as f:
        for line in f:
            key, _sep, rest = line.partition(':')
            if key in ('VmRSS', 'VmHWM'):
                values[key] = int(rest.split()[0]) / 1024
    return values.get('VmRSS', 0.0), values.get('VmHWM', 0.0)


def reset_peak():
    """Start a new high-water mark (Linux: writing 5 to clear_refs); False if refused."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--only', nargs='*', default=None, help='names from BOMBS')
    parser.add_argument('--repeat', type=int, default=1, help='uploads of each file')
    args = parser.parse_args(argv)
    names = args.only or list(BOMBS)
    work = tempfile.mkdtemp(prefix='kpw-bombs-')
    try:
        files = os.path.join(work, 'files')
        os.mkdir(files)
        built = {}
        for name in names:
            builder, upload_name = BOMBS[name][:2]
            built[name] = builder(os.path.join(files, upload_name))
        var = os.path.join(work, 'var')
        ini = write_ini(work, var)
        with open(os.devnull, 'w') as out:
            kpw.main(['-c', ini, 'init', '--demo'], out=out)
        app = make_app(var, **{'kp_workspace.indexer': 'off'})
        try:
            browser = Browser(app)
            token = browser.token('so.finance')
            fid = browser.api('post_json', '/api/v1/departments/finance/files', token,
                              status=201, params={'subject': 'Bombs'}).json['id']
            exact = reset_peak()
            print(f'peak per upload: {"reset before each" if exact else "process peak so far"}')
            print(f'{"file":24} {"bytes":>10} {"status":>6} {"RSS before":>10} '
                  f'{"peak":>8} {"after":>8} {"seconds":>8}  answer')
            for name in names:
                _builder, upload_name, _status, _fragment = BOMBS[name]
                with open(built[name], 'rb') as f:
                    data = f.read()
                for _ in range(args.repeat):
                    before, _peak = memory()
                    reset_peak()
                    started = time.perf_counter()
                    res = browser.api('post', f'/api/v1/files/{fid}/attachments', token,
                                      status='*', upload_files=[('file', upload_name, data)])
                    took = time.perf_counter() - started
                    after, peak = memory()
                    answer = res.json.get('error') or res.json.get('content_type') \
                        if res.content_type == 'application/json' else res.text[:60]
                    print(f'{name:24} {len(data):>10} {res.status_int:>6} {before:>8.0f}MB '
                          f'{peak:>6.0f}MB {after:>6.0f}MB {took:>8.2f}  {str(answer)[:70]}',
                          flush=True)
        finally:
            close_app(app)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
