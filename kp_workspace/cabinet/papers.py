"""The cabinet's PDFs: the working papers of a meeting and its minutes.

The **working papers** are one PDF: a cover and the agenda (reportlab), then for each
item its summary (the summary's signed PDF) and its annexures (PDFs), merged with
pypdf; an outline (bookmarks) with the cover, the agenda and each item (its summary
and annexures beneath it); and every page numbered "page N of M" at its foot.  The
signatures of the summaries merged in do not carry over (the pages are copied into a
new document): the signed summary itself stays with its department.

The **minutes** (reportlab) set out each item's decision, the departments concerned
and the due date, with space for the Chief Secretary's signature.
"""
import io
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, Spacer, Table, TableStyle

from .. import official_pdf
from ..official_pdf import _build, _letterhead, _styles, dated, text_block

WING = 'Cabinet Wing, Chief Secretary\'s Office'


def _front(meeting, member_names, starts, total_pages, departments=None):
    """The cover and the agenda as PDF bytes; ``starts``: item n -> its first page (1-based)
    in the whole papers (None on the first pass)."""
    styles = _styles()
    story = _letterhead(styles, WING)
    if meeting.secret:
        story.append(Paragraph('<font color="#b00000"><b>SECRET</b></font> (until the '
                               'meeting)', styles['title']))
    story.append(Spacer(1, 30 * mm))
    story.append(Paragraph('WORKING PAPERS', styles['title']))
    story.append(Paragraph(f'{escape(meeting.title)} of the Provincial Cabinet',
                           styles['head']))
    story.append(Paragraph(f'{escape(dated(meeting.date))} · {escape(meeting.place)}',
                           styles['sub']))
    story.append(Spacer(1, 20 * mm))
    story.append(Paragraph('<b>Members called</b>', styles['body']))
    for n, name in enumerate(member_names, 1):
        story.append(Paragraph(f'{n}. {escape(name)}', styles['body']))
    story.append(Paragraph(f'{len(meeting.items)} item(s) on the agenda; '
                           f'{total_pages or "..."} pages in all.', styles['body']))
    story.append(PageBreak())
    story.append(Paragraph('AGENDA', styles['title']))
    cell = styles['small']
    rows = [['Item', 'Subject', 'Department', 'Summary No.', 'Page']]
    for n, item in enumerate(meeting.items, 1):
        page = str(starts[n]) if starts else ''
        subject = item.subject
        if item.classification != 'routine':
            subject = f'[{item.classification.upper()}] {subject}'
        rows.append([str(n), official_pdf._cell(subject, cell),
                     Paragraph(escape((departments or {}).get(item.department,
                                                              item.department)), cell),
                     Paragraph(escape(item.number), cell), page])
    table = Table(rows, colWidths=[12 * mm, 80 * mm, 30 * mm, 30 * mm, 14 * mm], repeatRows=1)
    table.setStyle(TableStyle([('FONT', (0, 0), (-1, 0), 'Sans-Bold', 9),
                               ('FONT', (0, 1), (-1, -1), 'Sans', 9),
                               ('GRID', (0, 0), (-1, -1), 0.4, colors.grey),
                               ('VALIGN', (0, 0), (-1, -1), 'TOP')]))
    story.append(table)
    return _build(story, f'{meeting.title}: working papers', WING, bottom_margin=18 * mm)


def _pages(data):
    return len(PdfReader(io.BytesIO(data)).pages)


def _numbering(writer, title, headers=None):
    """Stamp "title · page N of M" at the foot of every page of ``writer``; and
    ``headers`` (page index -> text, e.g. "SECRET") at the head of those pages."""
    official_pdf._register_fonts()
    total = len(writer.pages)
    out = io.BytesIO()
    stamp = canvas.Canvas(out)
    for n, page in enumerate(writer.pages, 1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        stamp.setPageSize((width, height))
        stamp.setFillColor(colors.white)
        stamp.rect(width / 2 - 80 * mm, 2 * mm, 160 * mm, 13 * mm, stroke=0, fill=1)
        stamp.setFillColor(colors.black)
        stamp.setFont('Sans', 8)
        stamp.drawCentredString(width / 2, 6 * mm, f'{title} · page {n} of {total}')
        header = (headers or {}).get(n - 1)
        if header:
            stamp.setFillColor(colors.HexColor('#b00000'))
            stamp.setFont('Sans-Bold', 10)
            stamp.drawCentredString(width / 2, height - 7 * mm, header)
            stamp.setFillColor(colors.black)
        stamp.showPage()
    with official_pdf._reportlab:
        stamp.save()
    overlay = PdfReader(io.BytesIO(out.getvalue()))
    for page, mark in zip(writer.pages, overlay.pages):
        page.merge_page(mark)


def render_papers(site, meeting, member_names, summary_pdf):
    """The working papers of ``meeting``: ``(bytes, pages)``.

    :param summary_pdf: item -> the bytes of its summary's PDF (or None: left out).
    """
    parts = []   # per item: [(title, bytes)]
    for item in meeting.items:
        found = []
        data = summary_pdf(item)
        if data is not None:
            found.append((f'Summary {item.number}', data))
        for letter, annexure in zip('ABCDEFGHIJKLMNOPQRSTUVWXYZ', item.annexures):
            with annexure.blob.open('r') as f:
                found.append((f'Annexure {letter}: {annexure.title}', f.read()))
        parts.append(found)
    sizes = [[_pages(data) for _t, data in found] for found in parts]
    departments = {name: d.title for name, d in site['departments'].items()}
    front = _front(meeting, member_names, None, None, departments)
    for _attempt in range(3):   # (page numbers in the agenda could, in theory, add a page)
        first = _pages(front)
        starts, at = {}, first + 1
        for n, counts in enumerate(sizes, 1):
            starts[n] = at
            at += sum(counts)
        total = at - 1
        front = _front(meeting, member_names, starts, total, departments)
        if _pages(front) == first:
            break
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(front)))
    marks = []   # (title, page, parent title or None): added once the pages are there
    headers = {}   # page index -> the classification of the item it belongs to
    for n, (item, found) in enumerate(zip(meeting.items, parts), 1):
        parent = f'Item {n}: {item.subject}'[:200]
        marks.append((parent, starts[n] - 1, None))
        for title, data in found:
            marks.append((title[:200], len(writer.pages), parent))
            first = len(writer.pages)
            writer.append(PdfReader(io.BytesIO(data)), import_outline=False)
            if item.classification != 'routine':
                for page in range(first, len(writer.pages)):
                    headers[page] = f'{item.classification.upper()} · item {n}'
    writer.add_outline_item(title='Cover', page_number=0)
    writer.add_outline_item(title='Agenda', page_number=1)
    parents = {}
    for title, page, parent in marks:
        found = writer.add_outline_item(title=title, page_number=page,
                                        parent=parents.get(parent))
        if parent is None:
            parents[title] = found
    label = f'{meeting.title}' + (' · SECRET' if meeting.secret else '')
    _numbering(writer, label, headers)
    writer.add_metadata({'/Title': f'{meeting.title}: working papers',
                         '/Creator': 'KP Digital Workspace'})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), len(writer.pages)


def render_minutes(meeting, member_names, department_titles, signer_name, signer_post, at):
    """The minutes of ``meeting`` for the Chief Secretary's signature."""
    styles = _styles()
    story = _letterhead(styles, WING)
    story.append(Paragraph('MINUTES', styles['title']))
    story.append(Paragraph(f'{escape(meeting.title)} of the Provincial Cabinet, held on '
                           f'{escape(dated(meeting.date))} at {escape(meeting.place)}',
                           styles['sub']))
    story.append(Paragraph('<b>Members called</b>: ' + escape(', '.join(member_names)),
                           styles['body']))
    for n, item in enumerate(meeting.items, 1):
        decision = item.decision
        story.append(Paragraph(f'<b>Item {n}. {escape(item.subject)}</b> '
                               f'(summary {escape(item.number)})', styles['body']))
        story.extend(text_block(f'Decision: {decision.text}', styles['body']))
        concerned = ', '.join(department_titles.get(d, d) for d in decision.departments)
        story.append(Paragraph(f'Departments concerned: {escape(concerned)}. '
                               f'To be implemented by {escape(dated(decision.due))}.',
                               styles['small']))
    story.append(Spacer(1, 10))
    story.append(Paragraph(f'Confirmed: <b>{escape(signer_name)}</b>, {escape(signer_post)}, '
                           f'{escape(dated(at))}', styles['right']))
    return _build(story, f'{meeting.title}: minutes', signer_name)
