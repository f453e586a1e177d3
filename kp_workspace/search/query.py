"""Searching as an officer: the engine's query with the officer's principals,
snippets from the database, and one more visibility check per hit."""
from .documents import principals_for, sub_text

SORTS = ('relevance', 'date')


def search(engine, officer, text, filters=None, dates=(None, None), page=1, pagelen=10,
           sort='relevance'):
    """Results for ``text`` among what ``officer`` may open.

    ``filters`` and ``dates`` are those of :meth:`WhooshEngine.query`; with a
    filter or a date the text may be empty.  ``results.lag`` is how many seconds
    the index is behind the database (0 when it has caught up).

    Items whose latest change took the officer's access away are left out even
    while the index still holds them as they were (the queue knows them);
    every hit is also checked once more with :meth:`Officer.can_view` (defence
    in depth: what the index has not caught up with is dropped, never shown).

    :raises kp_workspace.search.engine.QueryError: the query cannot be parsed.
    """
    site = officer.site
    items = site.desk.items
    principals = principals_for(officer)

    def text_for(fields):
        item = items.get(fields['item'])
        return sub_text(item, fields['key']) if item is not None else ''

    results = engine.query(text, principals, filters=filters, dates=dates,
                           page=page, pagelen=pagelen,
                           sort=sort if sort in SORTS else 'relevance', text_for=text_for,
                           hidden_items=site.index_queue.hidden_from(principals))
    results.hits = [h for h in results.hits
                    if h.item in items and officer.can_view(items[h.item])]
    results.lag = site.index_queue.lag()
    return results
