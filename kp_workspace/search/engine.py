"""The search interface (index, unindex, query) and its Whoosh implementation.

Views and the indexer talk to :class:`WhooshEngine` only through these
methods, so another engine (Solr, Elasticsearch, PostgreSQL) can take its place
for a very large archive without touching them.

Every document carries ``allowed``: the principals that may open the object it
comes from.  :meth:`query` always filters on the caller's principals inside
Whoosh, so totals, pages, facet counts and snippets are computed over what the
caller may open and nothing else.

One process writes (the indexer); every thread of every process may read at
the same time.  Readers never fail while the writer works: files that a commit
replaces are deleted only a minute later (:class:`_IndexStorage`), so a searcher
opened on an older generation still finds the files it opens lazily; whether a
searcher is out of date is told by a marker file the writer replaces after each
commit (one small read, not a listing of the directory); the schema is the code's,
never re-read from the index's table of contents per query.
"""
import bisect
import datetime
import heapq
import os
import random
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import whoosh.util
from whoosh import sorting
from whoosh.columns import RefBytesColumn
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Positions
from whoosh.filedb.filestore import FileStorage
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.idsets import BitSet, DocIdSet
from whoosh.index import TOC
from whoosh.query import And, DateRange, Or, Term
from whoosh.searching import Searcher
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.util.numeric import byte_to_length, to_sortable
from whoosh.writing import CLEAR, NO_MERGE, SegmentWriter
from zc.lockfile import LockError, SimpleLockFile

from .analysis import PickledAsWhoosh, whoosh_class, workspace_analyzer
from .arrays import Postings, Scorer, Unsupported, length_bytes
from .snippets import Snippets

# Whoosh names segments and temporary files with the random module, which any code
# may seed -- hypothesis does so before every example: the next segment then took
# the name of an earlier one and truncated its files.  Its names come from the
# operating system's randomness instead, which no one can seed.
whoosh.util.random = random.SystemRandom()

KINDS = ('file', 'summary', 'attachment', 'draft', 'receipt')
FILTERS = ('kind', 'department', 'state', 'classification')
# Segments are written as separate files, not one compound file: whoosh-reloaded
# copies a compound segment's term and posting files into memory every time a
# searcher (or a merge) opens it (~100 ms and ~130 MB at 100,000 documents).
WRITER_OPTIONS = {'compound': False}
ALLOWED_SETS = 16   # sets of principals whose documents each thread keeps (a bit each)
SEGMENT_SETS = 1024  # (segment, principals) bit sets kept for all threads
# No merge builds a segment of more documents than this: a merge's memory grows with the
# terms of what it merges (every file number is a term), so this bounds the memory of
# indexing and of a full rebuild, whatever the size of the archive.
MAX_SEGMENT_DOCS = 50_000
# Segments are merged in size classes (below 1,000 documents, below 8,000, below
# 64,000...): once MERGE_FACTOR segments of one class exist they become one of the
# next.  Each document is rewritten once per class, so a steady stream of small
# commits never rewrites a large segment again and again.
MERGE_FACTOR = 8
SMALLEST_CLASS = 1000
INLINE_MERGE_AT = 2 * MERGE_FACTOR
GRACE_SECONDS = 60  # replaced index files are kept this long for searchers still reading them
MARKER = '.generation'  # replaced by the writer after every commit (whoosh ignores dot files)
TEMPORARY = '.tmp'
COLUMN = '.col'
KNOWN_COLUMNS = 20_000  # column files whose existence the storage remembers
INDEXER_LOCK = '.indexer.lock'  # in the index's directory: whoever holds it is its indexer


def _size_class(docs):
    size_class, limit = 0, SMALLEST_CLASS
    while docs >= limit:
        size_class, limit = size_class + 1, limit * MERGE_FACTOR
    return size_class


def _merge(writer, segments, chosen):
    for seg in chosen:  # (the writer closes the readers when it has written the postings)
        writer.add_reader(SegmentReader(writer.storage, writer.schema, seg))
    ids = {seg.segment_id() for seg in chosen}
    return [seg for seg in segments if seg.segment_id() not in ids]


def _fill(candidates):
    """The smallest of ``candidates``, as many as fit in one segment of at most
    :data:`MAX_SEGMENT_DOCS`."""
    chosen, total = [], 0
    for seg in sorted(candidates, key=lambda seg: seg.doc_count_all()):
        if chosen and total + seg.doc_count_all() > MAX_SEGMENT_DOCS:
            break
        chosen.append(seg)
        total += seg.doc_count_all()
    return chosen


def _classes(segments):
    """The segments that may still grow, grouped by size class, smallest class first."""
    classes = {}
    for seg in segments:
        if seg.doc_count_all() < MAX_SEGMENT_DOCS:
            classes.setdefault(_size_class(seg.doc_count_all()), []).append(seg)
    return [group for _size, group in sorted(classes.items())]


def due_merge(segments):
    """The segments to merge now, smallest size class first: :data:`MERGE_FACTOR`
    of one class (as many as fit in :data:`MAX_SEGMENT_DOCS`), or none."""
    for group in _classes(segments):
        if len(group) >= MERGE_FACTOR:
            chosen = _fill(group)
            if len(chosen) >= 2:
                return chosen
    return []


def tiered_merge(writer, segments):
    """The merge policy of a commit that merges as it goes (a rebuild): what
    :func:`due_merge` says, in this commit."""
    chosen = due_merge(segments)
    return _merge(writer, segments, chosen) if chosen else segments


def backlog_merge(busy):
    """The merge policy of an indexer's commit when merges fall behind: what
    :func:`due_merge` says of the segments no background merge is reading
    (``busy``, their ids), else the free segments of the smallest size class that
    has two, so that the commit stays short and the count of segments bounded."""
    def policy(writer, segments):
        free = [seg for seg in segments if seg.segment_id() not in busy]
        chosen = due_merge(free)
        if not chosen:
            groups = [group for group in _classes(free) if len(group) >= 2]
            chosen = _fill(groups[0]) if groups else []
        return _merge(writer, segments, chosen) if len(chosen) >= 2 else segments
    return policy


def compacting_merge(writer, segments):
    """The merge policy of :meth:`WhooshEngine.optimize`: merge the smallest
    segments, as many as fit in one of at most :data:`MAX_SEGMENT_DOCS`."""
    chosen = _fill(seg for seg in segments if seg.doc_count_all() < MAX_SEGMENT_DOCS)
    return _merge(writer, segments, chosen) if len(chosen) >= 2 else segments


class _IndexStorage(FileStorage):
    """The index directory; a file a commit replaces is deleted only after
    :data:`GRACE_SECONDS`, at a later commit.

    Whoosh deletes the files of replaced segments at the end of every commit, but
    a searcher opens some of a segment's files (stored fields, columns) only when
    it first needs them: a searcher opened just before a merge, in this process
    or another, would fail.  (Whoosh calls ``delete_file`` again at each commit
    for every file it no longer needs, so the first call starts the clock.)
    """

    temp_tag = ''  # (set for a writer beside the one each thread has: a segment builder)

    def __init__(self, path):
        super().__init__(path)
        self._doomed = {}
        self.building = set()  # ids of segments a background merge is writing
        self.merging = set()   # ids of segments a background merge is reading
        self._columns = {}     # column file name: whether it exists

    def file_exists(self, name):
        # Whoosh asks whether a segment's column of lengths exists once for every
        # posting it writes and every field of every document it merges, and
        # remembers only the columns that do: a stat() each time for every
        # unscored field (half of a merge's system time).  A finished segment's
        # files never change, and no reader asks about one before it is finished.
        if not name.endswith(COLUMN):
            return super().file_exists(name)
        known = self._columns.get(name)
        if known is None:
            if len(self._columns) >= KNOWN_COLUMNS:
                self._columns.clear()
            known = self._columns[name] = super().file_exists(name)
        return known

    def delete_file(self, name):
        if name.split('.', 1)[0] in self.building:
            return  # (not in any table of contents yet, but not garbage)
        now = time.monotonic()
        if now - self._doomed.setdefault(name, now) >= GRACE_SECONDS:
            self.delete_now(name)
            del self._doomed[name]

    def delete_now(self, name):
        self._columns.pop(name, None)
        super().delete_file(name)

    def forget_doomed(self, segment_id):
        for name in [n for n in self._doomed if n.split('.', 1)[0] == segment_id]:
            del self._doomed[name]

    def temp_storage(self, name=None):
        # Whoosh gives every writer the same temporary directory and removes it
        # when the writer ends: a background merge's would go when a commit
        # beside it ends.  One per process and thread (a thread writes with one
        # writer at a time; the writer and its parts share the directory).
        return super().temp_storage(
            f'{name or "writer"}-{os.getpid()}-{threading.get_ident()}{self.temp_tag}'
            f'{TEMPORARY}')

    def clean_temporary(self, older_than=3600):
        """Remove what writers that died left in their temporary directories."""
        for name in self.list():
            path = os.path.join(self.folder, name)
            try:
                if name.endswith(TEMPORARY) and time.time() - os.path.getmtime(path) > older_than:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:  # (gone meanwhile)
                pass


class _Lengths:
    """The field lengths of a segment being flushed, read once per field.

    Whoosh's writer asks the length of the document's field for every posting it
    writes, each a seek and a read in the column file; this reads each field's
    column once (a byte a document) and answers from memory, the same values.
    """

    def __init__(self, perdoc):
        self._perdoc = perdoc
        self._columns = {}

    def doc_field_length(self, docnum, fieldname):
        column = self._columns.get(fieldname)
        if column is None:
            column = self._columns[fieldname] = length_bytes(self._perdoc, fieldname)
        lbyte = column[docnum] if docnum < len(column) else 0
        return byte_to_length(lbyte) if lbyte else 0

    def close(self):
        self._perdoc.close()


class _SegmentWriter(SegmentWriter):
    """Whoosh's writer, with two savings when it flushes a segment:

    - field lengths from :class:`_Lengths` (a third of the work of writing
      postings, otherwise);
    - the postings of segments it merges (:meth:`add_reader`) are merged in
      order, segment by segment, when it flushes: each segment's are sorted
      already, so nothing is pooled, sorted or spilled to disk again.  The
      readers stay open until then; the writer closes them.
    """

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._merged = []  # (reader, its first new docnum, docnum map or None)

    def add_reader(self, reader):
        """Copy the documents of ``reader`` (a segment) into this one; the writer
        owns the reader from now on."""
        self._check_state()
        first = self.docnum
        names = set(self.schema.names()) | {
            name for name in reader.indexed_field_names() if name in self.schema}
        self._merged.append((reader, first, self.write_per_doc(names, reader)))
        self._added = True

    def _postings(self):
        streams = [self._process_posts(reader.iter_postings(), first, docmap)
                   for reader, first, docmap in self._merged]
        streams.append(self.pool.iter_postings())
        # (documents are numbered apart, so no two postings compare equal)
        return heapq.merge(*streams) if len(streams) > 1 else streams[0]

    def _flush_segment(self):
        self.perdocwriter.close()
        lengths = _Lengths(self.per_document_reader())
        try:
            self.fieldwriter.add_postings(self.schema, lengths, self._postings())
            self.fieldwriter.close()
        finally:
            lengths.close()
            self._close_merged()

    def _close_merged(self):
        merged, self._merged = self._merged, []
        for reader, _first, _docmap in merged:
            reader.close()

    def _close_segment(self):
        self._close_merged()
        super()._close_segment()


class _TermPool:
    """A segment's postings in memory, grouped by term as they come.

    Whoosh's pool keeps one tuple per posting and sorts them all when the segment
    is flushed, spilling sorted runs to disk (and merging them again) past its
    limit.  A rebuild writes documents in order, so each term's postings arrive
    sorted: only the terms need sorting, and a posting costs a few list slots.
    :attr:`size` estimates the bytes held (the builder ends the segment past its
    limit instead of spilling).
    """

    def __init__(self):
        self._fields = {}   # field name -> {term bytes -> [docnum, weight, value, ...]}
        self._weights = {}  # (one object for each weight: most are 1.0 or a boost)
        self.size = 0

    def add(self, posting):
        fieldname, tbytes, docnum, weight, vbytes = posting
        terms = self._fields.get(fieldname)
        if terms is None:
            terms = self._fields[fieldname] = {}
        found = terms.get(tbytes)
        if found is None:
            found = terms[tbytes] = []
            self.size += 200 + len(tbytes)
        found += (docnum, self._weights.setdefault(weight, weight), vbytes)
        self.size += 40 + (len(vbytes) + 33 if vbytes else 0)

    def iter_postings(self):
        """``(field name, term bytes, docnum, weight, value)`` in whoosh's order."""
        for fieldname in sorted(self._fields):
            terms = self._fields[fieldname]
            for tbytes in sorted(terms):
                found = terms[tbytes]
                for i in range(0, len(found), 3):
                    yield fieldname, tbytes, found[i], found[i + 1], found[i + 2]

    def cleanup(self):
        self._fields, self._weights = {}, {}
        self.size = 0


class SegmentBuilder:
    """Writes documents into new segments of the index at ``path``, without its
    lock and without committing them (the worker processes of a rebuild; the
    process that holds the lock commits them with :meth:`WhooshEngine.add_segments`).

    A segment ends at ``max_docs`` documents, or sooner when its postings reach
    ``limitmb`` (estimated): memory stays bounded, and nothing is spilled to disk
    and merged again.

    :param started: called with a segment's id before its first file is written
        (the committing process must :meth:`~WhooshEngine.protect` it).
    """

    def __init__(self, path, limitmb=128, max_docs=None, started=None):
        self.storage = _IndexStorage(path)
        self.storage.temp_tag = f'-build{id(self)}'  # (its own, beside this thread's writer)
        self.ix = self.storage.open_index(schema=make_schema())  # (a rebuild: the code's)
        self.limit = limitmb * 1024 * 1024
        self.max_docs = max_docs or MAX_SEGMENT_DOCS
        self.started = started
        self.writer = None

    def _start(self):
        writer = _SegmentWriter(self.ix, _lk=False, **WRITER_OPTIONS)
        writer.pool = _TermPool()
        if self.started is not None:
            self.started(writer.newsegment.segment_id())
        self.writer = writer

    def add(self, doc):
        """Add one document.  :returns: a segment that is now finished, or None."""
        if self.writer is None:
            self._start()
        try:
            self.writer.add_document(**doc)
        except BaseException:
            self.cancel()
            raise
        if self.writer.doc_count() >= self.max_docs or self.writer.pool.size >= self.limit:
            return self._end()
        return None

    def _end(self):
        writer, self.writer = self.writer, None
        try:
            segment = writer._finalize_segment()
            writer._finish()
        except BaseException:
            writer.cancel()
            raise
        return segment

    def finish(self):
        """End the segment under way.  :returns: it, or None if it is empty."""
        if self.writer is None:
            return None
        if not self.writer.doc_count():
            self.cancel()
            return None
        return self._end()

    def cancel(self):
        """Drop the segment under way (its files are left to the clean-up)."""
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.cancel()


# The postings of a word found once, at each of the first positions (as whoosh encodes them)
_ONE_POSITION = tuple(Positions().encode([pos]) for pos in range(4096))


class WordPositions(PickledAsWhoosh, Positions):
    """Whoosh's positions format, the same postings, gathered from the analyzer's
    word positions in one pass (:meth:`~.analysis.WorkspaceAnalyzer.positions`)
    instead of a token at a time."""

    def encode(self, poslist):
        if len(poslist) == 1 and poslist[0] < len(_ONE_POSITION):  # (most words of a text)
            return _ONE_POSITION[poslist[0]]
        return super().encode(poslist)

    def word_values(self, value, analyzer, **kwargs):
        positions = getattr(analyzer, 'positions', None)
        found = positions(value) if positions is not None and kwargs.keys() <= {'mode'} \
            else None
        if found is None:
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost = self.field_boost
        for word, poslist in found.items():
            yield word, len(poslist), float(len(poslist)) * boost, self.encode(poslist)


class _Date(PickledAsWhoosh, DATETIME):
    """Whoosh's DATETIME, the same terms, with the date made a number once for all
    its precision terms (whoosh made it once for each of the eight)."""

    def index(self, num, **kwargs):
        if not isinstance(num, datetime.datetime) or not self.shift_step:
            yield from super().index(num, **kwargs)
            return
        number = to_sortable(self.numtype, self.bits, self.signed,
                             self.prepare_number(self.prepare_datetime(num)))
        for shift in range(0, self.bits, self.shift_step):
            yield self.sortable_to_bytes(number, shift), 1, 1.0, b''


def _text(**options):
    """A TEXT field whose postings are gathered by :class:`WordPositions`."""
    field = TEXT(**options)
    field.format = WordPositions(field_boost=field.format.field_boost)
    return field


def make_schema():
    analyzer = workspace_analyzer()
    return Schema(
        key=ID(stored=True, unique=True),   # document key: item id, or item id/sub id
        item=ID(stored=True),               # the file or summary it belongs to
        # Facet and filter fields are columns of references to their few values: a
        # reader for one opens in constant time.  (An indexed-only field makes
        # whoosh cache the whole index for every new searcher, and the default
        # variable-length column reads an offset for every document of the
        # segment on every query: a cost that grows with the archive.)
        kind=ID(stored=True, sortable=RefBytesColumn()),
        number=ID(stored=True),
        title=_text(stored=True, analyzer=analyzer, field_boost=2.0),
        content=_text(analyzer=analyzer),
        department=ID(stored=True, sortable=RefBytesColumn()),
        state=ID(stored=True, sortable=RefBytesColumn()),
        classification=ID(sortable=RefBytesColumn()),
        allowed=KEYWORD(),
        date=_Date(stored=True, sortable=True),
        stamp=STORED(),                     # what the document was built from, for --check
    )


class QueryError(ValueError):
    """The query could not be understood."""


@dataclass
class Hit:
    key: str
    item: str
    kind: str
    number: str
    title: str
    department: str
    state: str
    date: object
    snippet: str  # HTML: the text around the matched words, which are in <mark>


@dataclass
class Results:
    total: int
    hits: list
    facets: dict
    page: int
    pages: int
    lag: float = 0.0  # seconds the index is behind the database (set by search.query)


class WhooshEngine:
    FIELDS = ('title', 'content', 'number')

    def __init__(self, path, limitmb=32):
        """:param limitmb: memory a writer may use for postings before it spills
            them to temporary files (bounds the memory of merges and rebuilds)."""
        self.path = path
        self.schema = make_schema()
        self.limitmb = limitmb
        self.snippets = Snippets(self.schema['content'].analyzer)
        self.write_lock = threading.Lock()  # held by whatever writes the index in this process
        self._local = threading.local()
        self._sets = OrderedDict()
        self._sets_lock = threading.Lock()
        self.postings = Postings()
        self.storage = _IndexStorage(path)
        os.makedirs(path, exist_ok=True)
        if self.storage.index_exists():
            self._open()
        else:
            self.ix = self.storage.create_index(self.schema)
            self.schema_current = True

    # writing -----------------------------------------------------------------
    def _writer(self):
        return _SegmentWriter(self.ix, timeout=30, limitmb=self.limitmb, **WRITER_OPTIONS)

    def _commit(self, writer, mergetype):
        writer.commit(mergetype=mergetype)
        self._mark()

    def _mark(self):
        """Tell readers, in every process, that the index has a new generation."""
        temp = os.path.join(self.path, f'{MARKER}.{os.getpid()}.{threading.get_ident()}')
        with open(temp, 'w') as f:  # (the generation, and a nonce: a rebuilt index starts again at 0)
            f.write(f'{self.ix.latest_generation()} {secrets.token_hex(8)}')
        os.replace(temp, os.path.join(self.path, MARKER))

    def apply(self, documents, remove_items=(), merge=True):
        """Replace the documents of ``remove_items`` (item ids) by ``documents``, in one commit.

        :param merge: merge segments in this commit when due (else leave it to
            :meth:`merge_step`, outside the lock, unless there are
            :data:`INLINE_MERGE_AT` segments already).
        """
        with self.write_lock:
            writer = self._writer()
            try:
                for item_id in remove_items:
                    writer.delete_by_term('item', item_id)
                for doc in documents:
                    writer.add_document(**doc)
            except BaseException:
                writer.cancel()
                raise
            # (when merges fall behind, as in a bulk catch-up, this commit merges
            # too: searches slow down with every segment)
            if merge:
                policy = tiered_merge
            elif len(writer.segments) >= INLINE_MERGE_AT:
                policy = backlog_merge(set(self.storage.merging))
            else:
                policy = NO_MERGE
            self._commit(writer, policy)

    def merge_step(self, still_indexer=lambda: True):
        """Do one merge that is due, without holding the index lock while it works.

        The merged segment is written from a snapshot of its segments while
        commits go on; then, under the lock, it replaces them, and documents
        deleted from them meanwhile are deleted from it too (a merge keeps the
        order of the documents it copies, so their new numbers are known).

        :param still_indexer: asked under the lock before the swap: whether this
            process may still write (else the merge is dropped).
        :returns: whether a merge was done.
        """
        chosen = due_merge(self.ix._segments())
        if not chosen:
            return False
        # (whoosh's writer, without its lock: it writes a segment and no table of
        # contents; its files are kept from clean-ups until the swap)
        writer = _SegmentWriter(self.ix, _lk=False, limitmb=self.limitmb, **WRITER_OPTIONS)
        merged_id = writer.newsegment.segment_id()
        self.storage.building.add(merged_id)
        # (a commit meanwhile must not merge these too: the work would be done twice,
        # in the indexer's own thread, and this merge dropped)
        reading = {seg.segment_id() for seg in chosen}
        self.storage.merging |= reading
        try:
            numbers, base = {}, 0
            try:
                for seg in chosen:
                    live = [n for n in range(seg.doc_count_all()) if not seg.is_deleted(n)]
                    numbers[seg.segment_id()] = (frozenset(seg.deleted_docs()),
                                                 dict(zip(live, range(base, base + len(live)))))
                    base += len(live)
                    writer.add_reader(SegmentReader(self.storage, writer.schema, seg))
                merged = writer._finalize_segment()
                writer._finish()
            except BaseException:
                writer.cancel()
                raise

            def swap(_writer, segments):
                present = {seg.segment_id(): seg for seg in segments}
                if any(seg_id not in present for seg_id in numbers):  # (cleared meanwhile)
                    return segments
                for seg_id, (deleted_then, renumber) in numbers.items():
                    for n in set(present[seg_id].deleted_docs()) - deleted_then:
                        merged.delete_document(renumber[n])
                kept = [seg for seg in segments if seg.segment_id() not in numbers]
                return kept + ([merged] if base else [])
            with self.write_lock:
                if not still_indexer():
                    return False
                self._commit(self._writer(), swap)
            return True
        finally:
            self.storage.building.discard(merged_id)
            self.storage.merging -= reading
            # (a commit beside it may have looked at its first files before they were
            # kept: their grace starts now)
            self.storage.forget_doomed(merged_id)

    def optimize(self):
        """Merge small segments as far as :data:`MAX_SEGMENT_DOCS` allows (one
        segment for everything would need memory in proportion to the whole
        index)."""
        with self.write_lock:
            while True:
                before = self.segment_count()
                self._commit(self._writer(), compacting_merge)
                if self.segment_count() >= before:
                    return

    # rebuilding --------------------------------------------------------------
    def protect(self, segment_id):
        """Keep the files of ``segment_id``, which a :class:`SegmentBuilder`
        (here or in another process) is writing, from the clean-up of commits
        until :meth:`add_segments` commits it or :meth:`unprotect`."""
        self.storage.building.add(segment_id)

    def unprotect(self, segment_id):
        self.storage.building.discard(segment_id)
        self.storage.forget_doomed(segment_id)

    def add_segments(self, segments):
        """Commit finished segments of a :class:`SegmentBuilder` into the index
        as they are (no merge): their documents can be found from now on."""
        with self.write_lock:
            self._commit(self._writer(), lambda _writer, present: present + list(segments))
        for seg in segments:
            self.unprotect(seg.segment_id())

    def merges_due(self):
        """Whether a merge is due (the background merger has work)."""
        return bool(due_merge(self.ix._segments()))

    def reopen(self):
        """Read the index afresh: another process may have rebuilt it meanwhile
        (in a newer layout)."""
        with self.write_lock:
            self._open()

    def _open(self):
        self.ix = self.storage.open_index()
        # False when the index on disk was built with an older schema (kpw reindex):
        # the indexer then leaves the queue alone
        self.schema_current = _describe(self.ix.schema) == _describe(self.schema)
        if self.schema_current:
            # The same fields: read and write with the code's analyzer and formats
            # (the schema kept in the index is the one of the release that made it)
            self.ix = self.storage.open_index(schema=self.schema)

    def indexer_lock(self):
        """The lock whose holder is this index's only writer (:class:`IndexerLockFile`)."""
        return IndexerLockFile(self.storage)

    def segment_count(self):
        reader = self.ix.reader()
        try:
            return len(reader.leaf_readers())
        finally:
            reader.close()

    def clear(self):
        """Remove every document.  An index of an older layout is made anew
        (its readers cannot read the new one anyway)."""
        with self.write_lock:
            if self.schema_current:
                self._commit(self._writer(), CLEAR)
                return
            for name in self.storage.list():
                if not name.startswith('.') and not name.endswith(TEMPORARY):
                    self.storage.delete_now(name)
            self.ix = self.storage.create_index(self.schema)
            self.schema_current = True
            self._mark()

    # reading -----------------------------------------------------------------
    def _searcher(self):
        """This thread's searcher on the latest committed index.

        Opening a searcher and warming it costs far more than a query, so each
        thread keeps one and opens a new one only after the index changed.
        Searchers are not shared between threads.  A new searcher keeps the
        readers of the old one's segments that are unchanged (:meth:`_reader`):
        a segment's first stored fields cost milliseconds to reach (a column's
        offsets of every document), and after a commit only the new, small
        segments are new.  Never whoosh-reloaded's ``refresh()``: it keeps a
        segment's old reader when only its deletions changed and keeps segments
        that a merge replaced, so a replaced document (with its old ``allowed``)
        would still be found.
        """
        ix = self.ix
        marker = self._marker()
        cached = getattr(self._local, 'cached', None)
        previous = None
        if cached is not None:
            owner, seen, searcher = cached
            if owner is ix and seen == marker and (marker is not None or searcher.up_to_date()):
                return searcher
            if owner is ix:
                previous = searcher.reader()
            else:
                self.close()
        # (the marker is read before the searcher opens: a commit in between makes
        # the next query open a searcher again, never keep an old one)
        searcher = Searcher(self._reader(previous, marker), fromindex=ix)
        self._local.cached = (ix, marker, searcher)
        self._local.allowed = OrderedDict()  # principals -> documents, for this searcher
        return searcher

    def _reader(self, previous=None, marker=None):
        """A reader of the index as last committed (the generation ``marker`` names,
        if it names one), with ``previous``'s readers of the segments it still has
        with the same deletions; ``previous``'s other readers are closed."""
        toc = self._toc(marker)
        kept = {}
        for leaf, _offset in (previous.leaf_readers() if previous is not None else ()):
            if leaf.segment() is not None:
                kept[leaf.segment().segment_id()] = leaf
        readers, opened = [], []
        try:
            for segment in toc.segments:
                leaf = kept.get(segment.segment_id())
                if leaf is not None and not leaf.is_closed and \
                        leaf.segment().deleted_count() == segment.deleted_count():
                    # (a segment's deletions only grow: as many is the same ones)
                    del kept[segment.segment_id()]
                else:
                    leaf = SegmentReader(self.ix.storage, toc.schema, segment,
                                         generation=toc.generation)
                    opened.append(leaf)
                readers.append(leaf)
        except BaseException:
            for leaf in opened:
                leaf.close()
            raise
        for leaf in kept.values():
            leaf.close()
        if not readers:
            return EmptyReader(toc.schema)
        if len(readers) == 1:
            return readers[0]
        return MultiReader(readers, generation=toc.generation)

    def _toc(self, marker):
        """The table of contents of the generation ``marker`` names: read without
        listing the directory (as Whoosh finds the latest: a directory listing, which
        costs milliseconds when a process that ended left replaced files behind)."""
        ix = self.ix
        try:
            generation = int(marker.split()[0])
            return TOC.read(ix.storage, ix.indexname, gen=generation, schema=ix._schema)
        except (AttributeError, IndexError, ValueError, OSError):  # (no marker, or its file gone)
            return ix._read_toc()

    def _marker(self):
        """What the writer wrote after its last commit, or None (an index written
        before markers: then the directory is listed)."""
        try:
            with open(os.path.join(self.path, MARKER), encoding='ascii') as f:
                return f.read() or None
        except FileNotFoundError:
            return None

    def _allowed(self, searcher, principals):
        """The documents ``principals`` may open, over ``searcher``'s document
        numbers; remembered (for a few sets of principals) with this thread's
        searcher, and built from the sets of its segments (:meth:`_segment_set`)."""
        cache = self._local.allowed
        key = tuple(sorted(principals))
        found = cache.get(key)
        if found is None:
            query = Or([Term('allowed', p) for p in key])
            found = _Allowed([(offset, self._segment_set(leaf, key, query))
                              for leaf, offset in searcher.reader().leaf_readers()
                              if leaf.segment() is not None])  # (none: EmptyReader)
            cache[key] = found
            if len(cache) > ALLOWED_SETS:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return found

    def _segment_set(self, leaf, key, query):
        """The documents of one segment that ``key`` (principals) may open, as a
        bit set over its own document numbers, kept for every thread while the
        segment exists: a segment's documents never change (a changed document is
        deleted and added elsewhere; matchers leave deleted ones out), so after a
        commit only the new, small segments need sets (a 50,000-document segment
        takes tens of milliseconds)."""
        cache_key = (leaf.segment().segment_id(), key)
        with self._sets_lock:
            found = self._sets.get(cache_key)
            if found is not None:
                self._sets.move_to_end(cache_key)
                return found
        found = BitSet(Searcher(leaf).docs_for_query(query), size=leaf.doc_count_all())
        with self._sets_lock:
            self._sets[cache_key] = found
            if len(self._sets) > SEGMENT_SETS:
                self._sets.popitem(last=False)
        return found

    def close(self):
        """Close this thread's searcher (other threads' close when their thread ends)."""
        cached = getattr(self._local, 'cached', None)
        if cached is not None:
            cached[2].close()
            self._local.cached = None
            self._local.scorer = None

    def stamps(self):
        """``{key: stamp}`` of every document (for checking against the database)."""
        with self.ix.searcher() as searcher:
            return {fields['key']: fields.get('stamp') for fields in searcher.all_stored_fields()}

    def parse(self, text):
        parser = MultifieldParser(self.FIELDS, schema=self.schema, group=OrGroup.factory(0.9))
        try:
            return parser.parse(text)
        except Exception as e:  # whoosh raises many kinds for odd syntax
            raise QueryError(str(e))

    def query(self, text, principals, filters=None, dates=(None, None), page=1, pagelen=10,
              sort='relevance', text_for=None, hidden_items=()):
        """Search ``text`` among the documents ``principals`` may open.

        :param filters: ``{field: value}`` for fields in :data:`FILTERS`; empty
            values are ignored.  With filters, ``text`` may be empty: every
            matching document, newest first.
        :param dates: ``(first, last)`` days (inclusive, either may be None) of
            the item's latest action, in UTC.
        :param text_for: ``text_for(stored fields) -> str``, the text to make a
            snippet from (documents do not store their full text).
        :param hidden_items: item ids whose documents are left out although their
            ``allowed`` admits ``principals`` (the index has not yet caught up with
            a change that took the principals away).

        :raises QueryError: the query text cannot be parsed.
        """
        wanted = {}
        for name, value in (filters or {}).items():
            if name not in FILTERS:
                raise ValueError(f'no filter {name!r}')
            if value:
                wanted[name] = value
        first, last = dates
        text = (text or '').strip()
        if not principals or not (text or wanted or first or last):
            return Results(0, [], {}, 1, 0)
        parsed = self.parse(text) if text else None
        if not text:  # browsing by filters alone: newest first
            sort = 'date'
        page = max(1, page)
        text_for = text_for if text else None
        try:
            return self._once_more_on_oserror(
                self._run_arrays, parsed, wanted, dates, principals, hidden_items, page,
                pagelen, sort, text_for)
        except Unsupported:
            pass
        # The query has parts only Whoosh evaluates: its own way, a document at a time.
        # Only what the principals may open: the set of those documents is the
        # filter.  Building it reads the principals' postings (tens of ms for
        # 50,000 documents), so it is kept with this thread's searcher and reused
        # by every search until the index changes.  The filter takes no part in
        # the ranking.
        restrict = [Term(name, value, boost=0.0)  # (no part in the ranking)
                    for name, value in wanted.items()]
        if first or last:
            # (a constant score, the same for every match, leaves the order alone;
            # a numeric range with boost 0 matches nothing in whoosh)
            restrict.append(DateRange(
                'date', _day_start(first) if first else None,
                _day_start(last + ONE_DAY) if last else None, endexcl=True))
        parts = ([parsed] if parsed is not None else []) + restrict
        query = parts[0] if len(parts) == 1 else And(parts)
        return self._once_more_on_oserror(self._run, query, principals, hidden_items, page,
                                          pagelen, sort, text_for)

    def _once_more_on_oserror(self, run, *args):
        """``run(*args)``, and once more on a searcher of the index as it is now if an
        index file was gone.  (Should not happen: replaced files outlive their readers.)"""
        try:
            return run(*args)
        except OSError:
            self.close()
            return run(*args)

    def _run_arrays(self, parsed, wanted, dates, principals, hidden_items, page, pagelen,
                    sort, text_for):
        """The search with arrays (:mod:`.arrays`): every match of every segment
        at once, a few array operations per term.

        :raises Unsupported: ``parsed`` has parts only Whoosh evaluates.
        """
        searcher = self._searcher()
        scorer = getattr(self._local, 'scorer', None)
        if scorer is None or scorer.searcher is not searcher:  # (a scorer per searcher)
            scorer = self._local.scorer = Scorer(self.postings, searcher)
        if parsed is not None:
            scorer.check(parsed)
        first, last = dates
        to_column = self.schema['date'].to_column_value  # (an order-keeping number)
        low = np.uint64(to_column(_day_start(first))) if first else None
        high = np.uint64(to_column(_day_start(last + ONE_DAY))) if last else None
        scores, docnums, dated = [], [], []
        counts = np.zeros(len(KINDS) + 1, dtype=np.int64)
        for leaf, offset in searcher.reader().leaf_readers():
            if leaf.segment() is None:  # (an index of no segments: whoosh's EmptyReader)
                continue
            found = scorer.live(leaf) & scorer.mask(leaf, 'allowed', principals)
            if hidden_items:
                found &= ~scorer.mask(leaf, 'item', hidden_items)
            for name, value in wanted.items():
                found &= scorer.mask(leaf, name, (value,))
            dates_needed = low is not None or high is not None or sort == 'date'
            when = self.postings.column(leaf, 'date') if dates_needed else None
            if low is not None:
                found &= when >= low
            if high is not None:
                found &= when < high
            if parsed is not None and found.any():
                part = scorer.evaluate(parsed, leaf, within=found)
                found &= part.match
            ids = np.flatnonzero(found)
            if not len(ids):
                continue
            docnums.append(ids + offset)
            if sort == 'date':
                dated.append(when[ids])
            else:
                scores.append(part.score[ids])
            counts += np.bincount(self.postings.codes(leaf, 'kind', KINDS)[ids],
                                  minlength=len(KINDS) + 1)
        facets = {kind: int(counts[code]) for code, kind in enumerate(KINDS) if counts[code]}
        total = sum(len(d) for d in docnums)
        pages = -(-total // pagelen)
        if page > pages:
            return Results(total, [], facets, page, pages)
        docnums = np.concatenate(docnums)
        # best first; equal ones in the order of their document numbers
        if sort == 'date':  # (newest first)
            order = np.lexsort((docnums, np.iinfo(np.uint64).max - np.concatenate(dated)))
        else:
            order = np.lexsort((docnums, -np.concatenate(scores)))
        chosen = docnums[order[(page - 1) * pagelen:page * pagelen]]
        hits = self._hits(searcher, parsed, text_for,
                          (searcher.stored_fields(int(docnum)) for docnum in chosen))
        return Results(total, hits, facets, page, pages)

    def _hits(self, searcher, query, text_for, found):
        """The hits of the stored fields ``found``, with snippets if ``text_for``."""
        snippet = self.snippets.for_query(query, searcher.reader()) if text_for else None
        return [Hit(key=fields['key'], item=fields['item'], kind=fields['kind'],
                    number=fields.get('number', ''), title=fields.get('title', ''),
                    department=fields.get('department', ''), state=fields.get('state', ''),
                    date=fields.get('date'),
                    snippet=snippet(text_for(fields)) if snippet else '')
                for fields in found]

    def _run(self, query, principals, hidden_items, page, pagelen, sort, text_for):
        # (grouping also makes whoosh collect every match, which here is faster
        # than its top-k optimisation)
        kwargs = {'groupedby': {'kind': sorting.FieldFacet('kind')}}
        if sort == 'date':
            kwargs['sortedby'] = sorting.FieldFacet('date', reverse=True)
        searcher = self._searcher()
        allowed = self._allowed(searcher, principals)
        if not allowed:
            # never pass an empty filter: whoosh takes an empty one for no filter at all
            return Results(0, [], {}, 1, 0)
        kwargs['filter'] = allowed
        if hidden_items:
            kwargs['mask'] = set(searcher.docs_for_query(
                Or([Term('item', item_id) for item_id in hidden_items])))
        try:
            results = searcher.search_page(query, page, pagelen=pagelen, **kwargs)
        except ValueError:  # a page past the end
            return Results(0, [], {}, page, 0)
        facets = {k: len(v) for k, v in results.results.groups('kind').items()}
        if results.pagenum != page:  # whoosh gives the last page for one past it
            return Results(results.total, [], facets, page, results.pagecount)
        # (the fields from the searcher that found the hit)
        hits = self._hits(searcher, query, text_for, (hit.fields() for hit in results))
        return Results(results.total, hits, facets, results.pagenum, results.pagecount)


class IndexerLockFile:
    """Which process indexes a Whoosh index: the one holding a lock file in its
    directory (the operating system gives it up when the process ends).

    The interface every engine's indexer lock has: :meth:`acquire`, :meth:`check`,
    :meth:`release` and :attr:`held`.
    """

    def __init__(self, storage):
        self.storage = storage
        self._file = None

    @property
    def held(self):
        """Whether this object holds the lock (as far as it knows, without asking)."""
        return self._file is not None

    def acquire(self):
        """Take the lock if no process holds it, then remove what writers that died
        left in the index's temporary directories.

        :returns: whether this object holds the lock now.
        :raises OSError: the clean-up failed (the lock is given up again).
        """
        if self._file is None:
            try:
                self._file = SimpleLockFile(os.path.join(self.storage.folder, INDEXER_LOCK))
            except LockError:
                return False
            try:
                self.storage.clean_temporary()
            except BaseException:
                self.release()
                raise
        return True

    def check(self):
        """Whether the lock is still held (a lock file is, while it is open)."""
        return self.held

    def release(self):
        if self._file is not None:
            self._file.close()
            self._file = None


class _Allowed(DocIdSet):
    """Documents of a searcher of several segments: each segment's bit set,
    at its offset in the searcher's document numbers (read only)."""

    def __init__(self, parts):
        self._offsets = [offset for offset, _bits in parts]
        self._parts = parts

    def __contains__(self, docnum):
        offset, bits = self._parts[bisect.bisect_right(self._offsets, docnum) - 1]
        return docnum - offset in bits

    def __iter__(self):
        for offset, bits in self._parts:
            for docnum in bits:
                yield docnum + offset

    def __len__(self):
        return sum(len(bits) for _offset, bits in self._parts)

    def __bool__(self):
        return any(bits for _offset, bits in self._parts)


ONE_DAY = datetime.timedelta(days=1)


def _day_start(day):
    return datetime.datetime(day.year, day.month, day.day)


def _describe(schema):
    """What a schema's fields are, to compare the one on disk with the code's (by
    whoosh's classes: the code's refinements of them are kept in the index as them)."""
    return {name: (whoosh_class(field).__name__, field.stored,
                   type(field.column_type).__name__)
            for name, field in schema.items()}
