"""Ten clients (four officers, four Secretaries, two browsers) on a real server
for half a minute: inbox, file pages, search and PDFs read while notes, files,
forwards, send-backs and uploads are written (benchmarks/load_mixed.py, which
runs it for longer and prints the figures).

No 5xx other than a 503 after the retries ran out (counted; each says that
nothing was saved), no other refusal, no traceback in any answer or the server's
log, every acknowledged file, note, attachment and move in the database exactly
once and nothing answered 503, and the index agrees with the database.  The same on
two app processes sharing the database through ZEO (``kpw serve``): both write, one
indexes, nothing is lost or indexed wrong.
"""
import pytest

from benchmarks.load_mixed import KINDS, report, run

SECONDS = 30  # (of load; the benchmark runs longer)

@pytest.mark.parametrize('workers', [None, 2], ids=['one-process', 'two-processes-over-zeo'])
def test_mixed_load_loses_nothing_and_answers_no_5xx(tmp_path, record_property, workers):
    result = run(str(tmp_path), clients=10, seconds=SECONDS,
                 workers=workers)
    lines = report(result)
    print('\n'.join(lines))
    record_property('load_figures', lines)
    ledger = result['ledger']
    assert not ledger.errors, (ledger.errors[:10], lines)
    assert not result['problems'], (result['problems'][:10], lines)
    assert result['log']['unhandled errors'] == 0 and result['log']['tracebacks'] == 0, lines
    code, out = result['reindex_check']
    assert code == 0, out
    for kind in KINDS:  # every kind of request was made (and answered as above)
        assert ledger.statuses[kind], (kind, lines)
