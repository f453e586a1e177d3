"""The search interface (index, unindex, query) and its Whoosh implementation.

Views and the indexing hook talk to :class:`WhooshEngine` only through these
methods, so another engine (Solr, Elasticsearch, PostgreSQL) can take its place
for a very large archive without touching them.

Every document carries ``allowed``: the principals that may open the object it
comes from.  :meth:`query` always filters on the caller's principals inside
Whoosh, so totals, pages, facet counts and snippets are computed over what the
caller may open and nothing else.
"""
import datetime
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

from whoosh import index, sorting
from whoosh.columns import RefBytesColumn
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.idsets import BitSet
from whoosh.query import And, DateRange, Or, Term

from .analysis import workspace_analyzer

KINDS = ('file', 'summary', 'attachment', 'draft')
FILTERS = ('kind', 'department', 'state', 'classification')
# Segments are written as separate files, not one compound file: whoosh-reloaded
# copies a compound segment's term and posting files into memory every time a
# searcher (or a merge) opens it (~100 ms and ~130 MB at 100,000 documents).
WRITER_OPTIONS = {'compound': False}
ALLOWED_SETS = 16   # sets of principals whose documents each thread keeps (a bit each)
# No merge builds a segment of more documents than this: a merge's memory grows with the
# terms of what it merges (every file number is a term), so this bounds the memory of
# indexing and of a full rebuild, whatever the size of the archive.
MAX_SEGMENT_DOCS = 50_000
MERGE_AT = 8        # merge once this many segments are below the maximum


def bounded_merge(merge_at=MERGE_AT):
    """A merge policy: when ``merge_at`` or more segments hold fewer than
    ``MAX_SEGMENT_DOCS`` documents, merge the smallest of them, as many as fit in
    one segment of at most ``MAX_SEGMENT_DOCS``."""
    def policy(writer, segments):
        from whoosh.reading import SegmentReader
        small = sorted((seg for seg in segments if seg.doc_count_all() < MAX_SEGMENT_DOCS),
                       key=lambda seg: seg.doc_count_all())
        if len(small) < merge_at:
            return segments
        chosen, total = [], 0
        for seg in small:
            if chosen and total + seg.doc_count_all() > MAX_SEGMENT_DOCS:
                break
            chosen.append(seg)
            total += seg.doc_count_all()
        if len(chosen) < 2:
            return segments
        for seg in chosen:
            reader = SegmentReader(writer.storage, writer.schema, seg)
            writer.add_reader(reader)
            reader.close()
        ids = {seg.segment_id() for seg in chosen}
        return [seg for seg in segments if seg.segment_id() not in ids]
    return policy


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
        title=TEXT(stored=True, analyzer=analyzer, field_boost=2.0),
        content=TEXT(analyzer=analyzer),
        department=ID(stored=True, sortable=RefBytesColumn()),
        state=ID(stored=True, sortable=RefBytesColumn()),
        classification=ID(sortable=RefBytesColumn()),
        allowed=KEYWORD(),
        date=DATETIME(stored=True, sortable=True),
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


class WhooshEngine:
    FIELDS = ('title', 'content', 'number')

    def __init__(self, path, limitmb=32):
        """:param limitmb: memory a writer may use for postings before it spills
            them to temporary files (bounds the memory of merges and rebuilds)."""
        self.path = path
        self.schema = make_schema()
        self.limitmb = limitmb
        self._lock = threading.Lock()
        self._local = threading.local()
        os.makedirs(path, exist_ok=True)
        if index.exists_in(path):
            self.ix = index.open_dir(path)
        else:
            self.ix = index.create_in(path, self.schema)

    @property
    def schema_current(self):
        """False when the index on disk was built with an older schema: ``kpw reindex``."""
        return _describe(self.ix.schema) == _describe(self.schema)

    # writing -----------------------------------------------------------------
    def _writer(self):
        return self.ix.writer(timeout=30, limitmb=self.limitmb, **WRITER_OPTIONS)

    def apply(self, documents, remove_items=()):
        """Replace the documents of ``remove_items`` (item ids) by ``documents``, in one commit."""
        with self._lock:
            writer = self._writer()
            try:
                for item_id in remove_items:
                    writer.delete_by_term('item', item_id)
                for doc in documents:
                    writer.add_document(**doc)
            except BaseException:
                writer.cancel()
                raise
            writer.commit(mergetype=bounded_merge())

    def optimize(self):
        """Merge small segments as far as :data:`MAX_SEGMENT_DOCS` allows (a full
        rebuild ends with this; one segment for everything would need memory in
        proportion to the whole index)."""
        with self._lock:
            while True:
                before = self._segment_count()
                self._writer().commit(mergetype=bounded_merge(merge_at=2))
                if self._segment_count() >= before:
                    return

    def _segment_count(self):
        reader = self.ix.reader()
        try:
            return len(reader.leaf_readers())
        finally:
            reader.close()

    def clear(self):
        with self._lock:
            self.ix = index.create_in(self.path, self.schema)

    # reading -----------------------------------------------------------------
    def _searcher(self):
        """This thread's searcher on the latest committed index.

        Opening a searcher and warming it costs far more than a query, so each
        thread keeps one and opens a new one only after the index changed.
        Searchers are not shared between threads.  An out-of-date searcher is
        closed and replaced, never ``refresh()``-ed: whoosh-reloaded's refresh
        keeps a segment's old reader when only its deletions changed and keeps
        segments that a merge replaced, so a replaced document (with its old
        ``allowed``) would still be found.
        """
        ix = self.ix
        cached = getattr(self._local, 'cached', None)
        if cached is not None:
            owner, searcher = cached
            if owner is ix and searcher.up_to_date():
                return searcher
            searcher.close()
            self._local.cached = None
        searcher = ix.searcher()
        self._local.cached = (ix, searcher)
        self._local.allowed = OrderedDict()  # principals -> documents, for this searcher
        return searcher

    def _allowed(self, searcher, principals):
        """The documents ``principals`` may open, as a bit set over ``searcher``'s
        document numbers; remembered (for a few sets of principals) until the
        index changes and this thread opens a new searcher."""
        cache = self._local.allowed
        key = tuple(sorted(principals))
        found = cache.get(key)
        if found is None:
            query = Or([Term('allowed', p) for p in key])
            found = BitSet(searcher.docs_for_query(query), size=searcher.doc_count_all())
            cache[key] = found
            if len(cache) > ALLOWED_SETS:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return found

    def close(self):
        """Close this thread's searcher (other threads' close when their thread ends)."""
        cached = getattr(self._local, 'cached', None)
        if cached is not None:
            cached[1].close()
            self._local.cached = None

    def stamps(self):
        """``{key: stamp}`` of every document (for checking against the database)."""
        with self.ix.searcher() as searcher:
            return {fields['key']: fields.get('stamp') for fields in searcher.all_stored_fields()}

    def parse(self, text):
        parser = MultifieldParser(self.FIELDS, schema=self.ix.schema, group=OrGroup.factory(0.9))
        try:
            return parser.parse(text)
        except Exception as e:  # whoosh raises many kinds for odd syntax
            raise QueryError(str(e))

    def query(self, text, principals, filters=None, dates=(None, None), page=1, pagelen=10,
              sort='relevance', text_for=None):
        """Search ``text`` among the documents ``principals`` may open.

        :param filters: ``{field: value}`` for fields in :data:`FILTERS`; empty
            values are ignored.  With filters, ``text`` may be empty: every
            matching document, newest first.
        :param dates: ``(first, last)`` days (inclusive, either may be None) of
            the item's latest action, in UTC.
        :param text_for: ``text_for(stored fields) -> str``, the text to make a
            snippet from (documents do not store their full text).

        :raises QueryError: the query text cannot be parsed.
        """
        # Only what the principals may open: the set of those documents is the
        # filter.  Building it reads the principals' postings (tens of ms for
        # 50,000 documents), so it is kept with this thread's searcher and reused
        # by every search until the index changes; each search then costs what
        # its own words cost.  The filter takes no part in the ranking.
        restrict = []
        for name, value in (filters or {}).items():
            if name not in FILTERS:
                raise ValueError(f'no filter {name!r}')
            if value:
                restrict.append(Term(name, value, boost=0.0))  # (no part in the ranking)
        first, last = dates
        if first or last:
            # (a constant score, the same for every match, leaves the order alone;
            # a numeric range with boost 0 matches nothing in whoosh)
            restrict.append(DateRange(
                'date', _day_start(first) if first else None,
                _day_start(last + ONE_DAY) if last else None, endexcl=True))
        text = (text or '').strip()
        if not principals or not (text or restrict):
            return Results(0, [], {}, 1, 0)
        parts = ([self.parse(text)] if text else []) + restrict
        query = parts[0] if len(parts) == 1 else And(parts)
        if not text:  # browsing by filters alone: newest first
            sort = 'date'
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
        try:
            results = searcher.search_page(query, max(1, page), pagelen=pagelen, **kwargs)
        except ValueError:  # a page past the end
            return Results(0, [], {}, page, 0)
        results.results.fragmenter = ContextFragmenter(maxchars=200, surround=40)
        results.results.formatter = HtmlFormatter(tagname='mark', between=' … ')
        facets = {k: len(v) for k, v in results.results.groups('kind').items()}
        if results.pagenum != max(1, page):  # whoosh gives the last page for one past it
            return Results(results.total, [], facets, page, results.pagecount)
        hits = []
        for hit in results:
            fields = hit.fields()
            hits.append(Hit(
                key=fields['key'], item=fields['item'], kind=fields['kind'],
                number=fields.get('number', ''), title=fields.get('title', ''),
                department=fields.get('department', ''), state=fields.get('state', ''),
                date=fields.get('date'),
                snippet=_snippet(hit, fields, text_for) if text else ''))
        return Results(results.total, hits, facets, results.pagenum, results.pagecount)


ONE_DAY = datetime.timedelta(days=1)


def _day_start(day):
    return datetime.datetime(day.year, day.month, day.day)


def _describe(schema):
    """What a schema's fields are, to compare the one on disk with the code's."""
    return {name: (type(field).__name__, field.stored, type(field.column_type).__name__)
            for name, field in schema.items()}


def _snippet(hit, fields, text_for):
    text = text_for(fields) if text_for is not None else ''
    return hit.highlights('content', text=text, top=2) if text else ''

