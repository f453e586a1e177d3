"""OCR: Tesseract's seconds per page and word accuracy, English and Urdu.

Renders A4 pages at 300 dpi from known text (tests/ocr_pages.py: an official
English paragraph in Noto Sans, an official Urdu paragraph in Noto Naskh Arabic
and in Noto Nastaliq Urdu, all at 12 pt) and recognises each three ways: as the
workspace does (``kp_workspace.ocr.engine.recognise_page``: English and Urdu together,
then Urdu alone when most of the page is Urdu), with eng+urd only, and with the page's
own language alone (eng or urd).  Prints,
for each, the median seconds per page over ``--pages`` pages (each page a
different line order of the same text, so each is a different image) and the mean
share of the expected words found, against the targets (English at least 95%,
Urdu Naskh at least 85%, Nastaliq measured only).  Needs tesseract with eng and
urd, not the app.

    .venv/bin/python benchmarks/ocr.py [--pages 3] [--show]

The pages are clean renders: a real scan (noise, skew, blur) can only do worse.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kp_workspace.ocr import engine  # noqa: E402
from tests.ocr_pages import ENGLISH, URDU, render_png, word_accuracy, words  # noqa: E402

# (label, font, lines, right to left, the page's own language, target share or None)
CASES = [
    ('English, Noto Sans', 'NotoSans-Regular.ttf', ENGLISH, False, 'eng', 0.95),
    ('Urdu, Noto Naskh Arabic', 'NotoNaskhArabic-Regular.ttf', URDU, True, 'urd', 0.85),
    ('Urdu, Noto Nastaliq Urdu', 'NotoNastaliqUrdu-Regular.ttf', URDU, True, 'urd', None),
]
DPI = 300


def tesseract_version():
    done = subprocess.run(['tesseract', '--version'], capture_output=True, text=True,
                          check=False)
    first = (done.stdout or done.stderr).splitlines()
    return first[0] if first else 'tesseract (version unknown)'


def pages_of(work, name, font, lines, rtl, count):
    """``count`` page images of ``lines``, page n starting at line n (wrapping round)."""
    paths = []
    for n in range(count):
        k = n % len(lines)
        paths.append(render_png(os.path.join(work, f'{name}-{n + 1}.png'),
                                lines[k:] + lines[:k], font=font, rtl=rtl, dpi=DPI))
    return paths


PRODUCT = 'workspace'   # the languages as kp_workspace.ocr.engine.recognise_page chooses them


def measure(paths, lines, langs):
    """``(seconds per page, accuracies, first page's text)``."""
    seconds, accuracies, first = [], [], None
    for path in paths:
        start = time.perf_counter()
        if langs == PRODUCT:   # (what the workspace does: both, then Urdu alone if Urdu)
            text, _pdf = engine.recognise_page(path, dpi=DPI)
        else:
            text, _pdf = engine.recognise_image(path, langs=langs, dpi=DPI)
        seconds.append(time.perf_counter() - start)
        accuracies.append(word_accuracy(lines, text))
        first = text if first is None else first
    return seconds, accuracies, first


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--pages', type=int, default=3, help='pages of each kind')
    parser.add_argument('--show', action='store_true',
                        help="print the text recognised on each kind's first page")
    args = parser.parse_args(argv)
    if not engine.available():
        print('tesseract and pdftoppm are not installed')
        return 1
    print(f'{tesseract_version()}, {os.cpu_count()} CPUs, Tesseract on '
          f'{engine.ENVIRONMENT["OMP_THREAD_LIMIT"]} thread at the lowest priority (as the '
          f'workspace runs it); A4 pages at {DPI} dpi, '
          f'12 pt text, {args.pages} pages a row')
    print(f'{"page":26} {"words":>5} {"languages":>9} {"s/page median":>13} '
          f'{"(min-max)":>11} {"accuracy mean":>13} {"(min-max)":>13}  target')
    work = tempfile.mkdtemp(prefix='kpw-ocr-bench-')
    results = {}
    try:
        for number, (label, font, lines, rtl, own, target) in enumerate(CASES):
            paths = pages_of(work, f'case{number}', font, lines, rtl, args.pages)
            for langs in (PRODUCT, engine.LANGS, own):
                seconds, accuracies, first = measure(paths, lines, langs)
                results[label, langs] = statistics.mean(accuracies)
                if target is None:
                    verdict = 'measured'
                else:
                    met = 'met' if statistics.mean(accuracies) >= target else 'MISSED'
                    verdict = f'>= {target:.0%} {met}'
                print(f'{label:26} {len(words(" ".join(lines))):>5} {langs:>9} '
                      f'{statistics.median(seconds):>11.2f} s '
                      f'{min(seconds):>5.1f}-{max(seconds):<5.1f} '
                      f'{statistics.mean(accuracies):>12.1%} '
                      f'{min(accuracies):>6.1%}-{max(accuracies):<6.1%}  {verdict}',
                      flush=True)
                if args.show:
                    print('    ' + first.replace('\n', '\n    '))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for label, _font, _lines, _rtl, own, _target in CASES:
        both, alone = results[label, engine.LANGS], results[label, own]
        print(f'{label}: {engine.LANGS} {both:.1%} against {own} alone {alone:.1%} '
              f'({(both - alone) * 100:+.1f} points)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
