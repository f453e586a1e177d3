"""Searching as an officer: the engine's query with the officer's principals,
snippets from the database, and one more visibility check per hit."""
from .documents import principals_for, sub_text
from .engine import Results

SORTS = ('relevance', 'date')


def search(engine, officer, text, kind=None, department=None, state=None, page=1, pagelen=10,
           sort='relevance'):
    """Results for ``text`` among what ``officer`` may open.

    Every hit is checked once more with :meth:`Officer.can_view` (defence in
    depth: a document the index has not caught up with is dropped, never shown).

    :raises kp_workspace.search.engine.QueryError: the query cannot be parsed.
    """
    text = (text or '').strip()
    if not text:
        return Results(0, [], {}, 1, 0)
    items = officer.site.desk.items

    def text_for(fields):
        item = items.get(fields['item'])
        return sub_text(item, fields['key']) if item is not None else ''

    results = engine.query(text, principals_for(officer), kind=kind or None,
                           department=department or None, state=state or None, page=page,
                           pagelen=pagelen, sort=sort if sort in SORTS else 'relevance',
                           text_for=text_for)
    results.hits = [h for h in results.hits
                    if h.item in items and officer.can_view(items[h.item])]
    return results
