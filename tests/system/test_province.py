"""benchmarks/province.py end to end at a tiny size, so the command cannot rot: a
province of the six demo departments, 200 files through the domain (with the one
decided summary and the one issued document that 200 files carry), indexed through
the queue and rebuilt by ``kpw reindex``, served by a real ``pserve`` and measured
over HTTP a few times.  The JSON it writes holds every operation, measured as often
as asked, with no HTTP error, and the figures of the build, the index, the disk and
the server."""
import glob
import json

from benchmarks.province import OPERATIONS, QUERIES, main

REPS = 3


def test_province_builds_measures_and_writes_every_figure(tmp_path, capsys):
    results = tmp_path / 'results'
    status = main(['--files', '200', '--people', '60', '--departments', '6', '--reps',
                   str(REPS), '--keep', str(tmp_path / 'province'), '--results', str(results)])
    printed = capsys.readouterr().out
    (path,) = glob.glob(str(results / 'province-*-200.json'))
    with open(path, encoding='utf-8') as f:
        figures = json.load(f)
    assert figures['errors'] == [], figures['errors']
    assert status == 0, printed
    for op in OPERATIONS:
        assert figures['operations'][op]['n'] == REPS, (op, figures['operations'][op])
        assert figures['operations'][op]['median ms'] > 0, op
    content = figures['content']
    assert content['files'] == 200
    for kind in ('notes', 'urdu notes', 'attachments', 'forwards', 'closed files',
                 'summaries decided', 'issued documents'):
        assert content[kind] > 0, (kind, content)
    assert figures['build']['files/s'] > 0
    assert figures['indexing']['documents added'] > 200, figures['indexing']
    assert figures['rebuild']['documents'] == figures['indexing']['documents']
    assert figures['disk']['Data.fs MB'] > 0 and figures['disk']['blob files'] > 0
    assert figures['server']['RSS MB'] > 0 and figures['server']['exit status'] is not None
    searches = figures['facts']['search totals']
    assert set(searches) == set(QUERIES)
    assert searches['pension']['secretary'] > 0 and searches['پنشن']['secretary'] > 0
    assert '200' in printed and 'median ms' in printed
