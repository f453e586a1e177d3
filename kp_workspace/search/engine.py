"""The search interface (index, unindex, query) and its Whoosh implementation.

Views and the indexing hook talk to :class:`WhooshEngine` only through these
methods, so another engine (Solr, Elasticsearch, PostgreSQL) can take its place
for a very large archive without touching them.

Every document carries ``allowed``: the principals that may open the object it
comes from.  :meth:`query` always filters on the caller's principals inside
Whoosh, so totals, pages, facet counts and snippets are computed over what the
caller may open and nothing else.
"""
import os
import threading
from dataclasses import dataclass

from whoosh import index, sorting
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.query import And, Or, Term

from .analysis import workspace_analyzer

KINDS = ('file', 'summary', 'attachment', 'draft')


def make_schema():
    analyzer = workspace_analyzer()
    return Schema(
        key=ID(stored=True, unique=True),   # document key: item id, or item id/sub id
        item=ID(stored=True),               # the file or summary it belongs to
        kind=ID(stored=True),
        number=ID(stored=True),
        title=TEXT(stored=True, analyzer=analyzer, field_boost=2.0),
        content=TEXT(analyzer=analyzer),
        department=ID(stored=True),
        state=ID(stored=True),
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

    def __init__(self, path):
        self.path = path
        self.schema = make_schema()
        self._lock = threading.Lock()
        os.makedirs(path, exist_ok=True)
        if index.exists_in(path):
            self.ix = index.open_dir(path)
        else:
            self.ix = index.create_in(path, self.schema)

    # writing -----------------------------------------------------------------
    def apply(self, documents, remove_items=()):
        """Replace the documents of ``remove_items`` (item ids) by ``documents``, in one commit."""
        with self._lock:
            writer = self.ix.writer(timeout=30)
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
        """Merge every segment into one (after a full rebuild: fewer segments, faster queries)."""
        with self._lock:
            self.ix.optimize()

    def clear(self):
        with self._lock:
            self.ix = index.create_in(self.path, self.schema)

    # reading -----------------------------------------------------------------
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

    def query(self, text, principals, kind=None, department=None, state=None, page=1,
              pagelen=10, sort='relevance', text_for=None):
        """Search ``text`` among the documents ``principals`` may open.

        :param text_for: ``text_for(stored fields) -> str``, the text to make a
            snippet from (documents do not store their full text).

        :raises QueryError: the query text cannot be parsed.
        """
        if not principals:
            return Results(0, [], {}, 1, 0)
        # The restriction is intersected with the query, not passed as a filter (nor
        # wrapped in a constant-score query): either makes Whoosh build the whole set of
        # documents the user may open on every search, a cost that grows with the
        # archive, while an intersection skips along the query's own matches.  A boost
        # of zero keeps the restriction out of the ranking.
        allowed = Or([Term('allowed', p, boost=0.0) for p in principals])
        restrict = [Term(name, value, boost=0.0) for name, value in
                    (('kind', kind), ('department', department), ('state', state)) if value]
        query = And([self.parse(text), allowed] + restrict)
        kinds = sorting.FieldFacet('kind')
        with self.ix.searcher() as searcher:
            kwargs = {'groupedby': {'kind': kinds}}
            if sort == 'date':
                kwargs['sortedby'] = sorting.FieldFacet('date', reverse=True)
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
                    date=fields.get('date'), snippet=_snippet(hit, fields, text_for)))
            return Results(results.total, hits, facets, results.pagenum, results.pagecount)


def _snippet(hit, fields, text_for):
    text = text_for(fields) if text_for is not None else ''
    return hit.highlights('content', text=text, top=2) if text else ''

