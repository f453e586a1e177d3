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
from dataclasses import dataclass

from whoosh import index, sorting
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.query import And, DateRange, Or, Term

from .analysis import workspace_analyzer

KINDS = ('file', 'summary', 'attachment', 'draft')
FILTERS = ('kind', 'department', 'state', 'classification')
# Segments are written as separate files, not one compound file: whoosh-reloaded
# copies a compound segment's term and posting files into memory every time a
# searcher (or a merge) opens it (~100 ms and ~130 MB at 100,000 documents).
WRITER_OPTIONS = {'compound': False}


def make_schema():
    analyzer = workspace_analyzer()
    return Schema(
        key=ID(stored=True, unique=True),   # document key: item id, or item id/sub id
        item=ID(stored=True),               # the file or summary it belongs to
        # facet and filter fields are columns: grouping by a column reads it
        # directly, where an indexed-only field makes whoosh build a cache of the
        # whole index for every new searcher
        kind=ID(stored=True, sortable=True),
        number=ID(stored=True),
        title=TEXT(stored=True, analyzer=analyzer, field_boost=2.0),
        content=TEXT(analyzer=analyzer),
        department=ID(stored=True, sortable=True),
        state=ID(stored=True, sortable=True),
        classification=ID(sortable=True),
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
            writer.commit()

    def optimize(self):
        """Merge every segment into one."""
        with self._lock:
            self._writer().commit(optimize=True)

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
        return searcher

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
        # The restriction is intersected with the query, not passed as a filter (nor
        # wrapped in a constant-score query): either makes Whoosh build the whole set of
        # documents the user may open on every search, a cost that grows with the
        # archive, while an intersection skips along the query's own matches.  A boost
        # of zero keeps the restriction out of the ranking.
        restrict = []
        for name, value in (filters or {}).items():
            if name not in FILTERS:
                raise ValueError(f'no filter {name!r}')
            if value:
                restrict.append(Term(name, value, boost=0.0))
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
        allowed = Or([Term('allowed', p, boost=0.0) for p in principals])
        if text:
            query = And([self.parse(text), allowed] + restrict)
        else:
            query, sort = And([allowed] + restrict), 'date'
        kwargs = {'groupedby': {'kind': sorting.FieldFacet('kind')}}
        if sort == 'date':
            kwargs['sortedby'] = sorting.FieldFacet('date', reverse=True)
        searcher = self._searcher()
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
    return {name: (type(field).__name__, field.stored, field.column_type is not None)
            for name, field in schema.items()}


def _snippet(hit, fields, text_for):
    text = text_for(fields) if text_for is not None else ''
    return hit.highlights('content', text=text, top=2) if text else ''

