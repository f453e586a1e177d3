"""The search interface on PostgreSQL: one index that processes on many machines share.

:class:`PostgresEngine` answers what :class:`~.engine.WhooshEngine` answers
(``apply``, ``query``, ``stamps``, ``clear``, ``optimize``, ``reopen``,
``indexer_lock``...) with the same :class:`~.engine.Results` and
:class:`~.engine.Hit`, from one table:

- Words are analysed in Python by the analyzer the Whoosh index uses
  (:mod:`.analysis`: English stems, Urdu diacritics dropped and letters
  folded), and stored as they come out, with their positions, as a
  ``tsvector`` (title words weighted A, content words B): no PostgreSQL
  dictionary, parser or locale changes them, so both engines find the same
  words.  A file's number is one more lexeme (``#`` and the number as
  written, weight C), so a number finds the file's every document.
- ``allowed`` (the principals that may open a document) is a ``text[]`` with
  a GIN index; every query asks ``allowed && <the user's principals>``, so
  totals, pages, facets and snippets only ever count what the user may open.
- Queries are parsed in Python (:mod:`.tsquery`: words, ``"phrases"``, ``AND``,
  ``OR``, ``NOT``, brackets, ``title:``/``content:``/``number:``, a trailing
  ``*``) into a ``tsquery`` made of quoted lexemes, passed as a parameter:
  nothing a user types reaches the SQL text.
- Ranking is ``ts_rank`` (title words count twice what content words do);
  facets are a ``GROUP BY kind``; snippets are cut by :mod:`.snippets`, as
  for Whoosh, so the markup is the same.

The layout of the table carries a version (:data:`LAYOUT`, in
``kpw_search_layout``); an index of an older layout is not written to until
``kpw reindex`` (:meth:`PostgresEngine.clear`) makes it anew.  Connections
come from a small pool shared by the request threads and the indexer; one
that the server dropped is replaced and the work done again once.  The
indexer is whoever holds a PostgreSQL advisory lock
(:class:`AdvisoryLock`), on any machine.
"""
import hashlib
import logging
import math
import threading

import psycopg2
import psycopg2.errors
from psycopg2.extensions import TRANSACTION_STATUS_IDLE, parse_dsn
from psycopg2.extras import execute_values
from whoosh.query import Or, Term

from .analysis import workspace_analyzer
from .engine import FILTERS, ONE_DAY, Hit, QueryError, Results, _day_start
from .snippets import Snippets
from .tsquery import EVERY, fits, marked_words, parse, quote, tsquery

log = logging.getLogger(__name__)

TABLE = 'kpw_search'
LAYOUT_TABLE = 'kpw_search_layout'
LAYOUT = 1          # the version of the table's layout this code reads and writes
POOL_SIZE = 8       # connections an engine keeps open at most
POOL_WAIT = 30      # seconds a thread waits for a free connection
CONNECT_TIMEOUT = 10
QUERY_TIMEOUT_MS = 20_000  # a search that takes longer is given up (QueryError)
INSERT_PAGE = 100   # documents per INSERT statement
# ts_rank's weights for D, C, B, A: title words (A) count twice content words (B),
# as the Whoosh schema boosts its title; the file number (C) as much as a title word.
RANK_WEIGHTS = [0.1, 1.0, 0.5, 1.0]
RANK_NORMALIZATION = 1  # divide by 1 + the log of the document's length, like BM25 does
MAX_POSITION = 16383    # PostgreSQL keeps no position beyond this
MAX_POSITIONS = 256     # ...nor more positions than this for one lexeme
TITLE_GAP = 100         # positions between the title and the content: no phrase spans both
MAX_PREFIX_WORDS = 50   # words a prefix stands for in snippets (as many as Whoosh marks)
COLUMNS = ('key', 'item', 'kind', 'number', 'title', 'department', 'state', 'classification',
           'allowed', 'date', 'stamp')
DOCUMENT_FIELDS = frozenset(COLUMNS + ('content',))
# SQLSTATE classes of failures that are not the fault of the documents or the query:
# connection, transaction rollback (serialisation, deadlock), resources, operator
# intervention, system errors.
_ENVIRONMENT = ('08', '40', '53', '57', '58')


class SearchUnavailable(OSError):
    """The search database cannot be reached, or failed for reasons that are not the
    documents' or the query's (an ``OSError``: the indexer keeps its batch and tries
    again, as after a full disk)."""


def _lock_key(name):
    """A signed 64-bit advisory lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode('utf-8')).digest()[:8], 'big', signed=True)


def _lock_layout(cur, schema):
    """Wait for, then hold until the transaction ends, the right to make or remake the
    tables in ``schema``."""
    cur.execute('SELECT pg_advisory_xact_lock(%s)', (_lock_key(f'{schema}.{TABLE}.layout'),))


def _clean(value):
    """Text for a text column: PostgreSQL stores no NUL character (Whoosh did)."""
    return (value or '').replace('\x00', '')


# --- connections -----------------------------------------------------------------------

def connect(dsn):
    """A new connection to ``dsn`` (a libpq string or URI), with a connection timeout
    unless ``dsn`` sets one.  :raises psycopg2.OperationalError:"""
    extra = {} if 'connect_timeout' in parse_dsn(dsn) else {'connect_timeout': CONNECT_TIMEOUT}
    return psycopg2.connect(dsn, **extra)


def _environmental(error):
    """Whether a psycopg2 error is the database's or the network's, not the work's."""
    return (isinstance(error, psycopg2.InterfaceError) or error.pgcode is None
            or error.pgcode[:2] in _ENVIRONMENT)


class _Pool:
    """Up to ``size`` connections to one database, shared by threads: a thread takes
    one (waiting while all are busy) and gives it back.  A connection found closed
    (the server went away, or an administrator ended it) is dropped together with
    the idle ones, which most likely went with it; new ones are opened as needed.

    (psycopg2's own ``ThreadedConnectionPool`` raises instead of waiting when all
    connections are busy, and cannot open again once closed.)
    """

    def __init__(self, dsn, size=POOL_SIZE, wait=POOL_WAIT):
        self.dsn, self.wait = dsn, wait
        self._idle = []
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()

    def take(self):
        """A connection, not in a transaction.

        :raises SearchUnavailable: none is free for :data:`POOL_WAIT` seconds, or a
            new one cannot be opened.
        """
        if not self._slots.acquire(timeout=self.wait):
            raise SearchUnavailable(f'every connection to the search database is busy '
                                    f'(waited {self.wait} s)')
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            return conn if conn is not None else connect(self.dsn)
        except psycopg2.Error as e:
            self._slots.release()
            raise SearchUnavailable(f'cannot connect to the search database: {e}') from e
        except BaseException:
            self._slots.release()
            raise

    def give_back(self, conn):
        """Return ``conn`` (rolling back whatever it left open), or drop it when closed."""
        try:
            if not conn.closed and conn.get_transaction_status() != TRANSACTION_STATUS_IDLE:
                try:
                    conn.rollback()
                except psycopg2.Error:
                    conn.close()
            if conn.closed:
                self.close()
            else:
                with self._lock:
                    self._idle.append(conn)
        finally:
            self._slots.release()

    def close(self):
        """Close the idle connections (the busy ones are closed as they come back
        only if they are broken; later work opens new ones)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class AdvisoryLock:
    """Which process indexes a PostgreSQL index: the holder of a session advisory
    lock, on a connection of its own kept open while it is held.  Processes on
    any machine see the same lock; PostgreSQL gives it up when the session ends
    (the process died, the connection broke), and then another may take it.

    The interface of :class:`~.engine.IndexerLockFile`.
    """

    def __init__(self, dsn, key):
        self.dsn, self.key = dsn, key
        self._conn = None
        self._guard = threading.Lock()  # (the indexer's thread and a stopping one)

    @property
    def held(self):
        """Whether this object holds the lock (as far as it knows, without asking)."""
        return self._conn is not None

    def acquire(self):
        """Take the lock unless another session holds it.

        :returns: whether this object holds the lock now.
        :raises SearchUnavailable: the database cannot be reached.
        """
        with self._guard:
            if self._conn is not None:
                return True
            try:
                conn = connect(self.dsn)
            except psycopg2.Error as e:
                raise SearchUnavailable(f'cannot connect to the search database: {e}') from e
            try:
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute('SELECT pg_try_advisory_lock(%s)', (self.key,))
                    (taken,) = cur.fetchone()
            except psycopg2.Error as e:
                conn.close()
                raise SearchUnavailable(f'cannot take the indexer lock: {e}') from e
            if not taken:
                conn.close()
                return False
            self._conn = conn
            return True

    def check(self):
        """Whether the lock is still held: its session still answers.  A lock whose
        session is gone is released here (so :meth:`acquire` can try again)."""
        with self._guard:
            conn = self._conn
            if conn is None:
                return False
            try:
                with conn.cursor() as cur:
                    cur.execute('SELECT 1')
                return True
            except psycopg2.Error:
                log.warning('search: the session holding the indexer lock has ended')
                self._conn = None
                conn.close()
                return False

    def release(self):
        """Give the lock up (at once, not when the server notices the connection closed)."""
        with self._guard:
            conn, self._conn = self._conn, None
            if conn is None:
                return
            try:
                with conn.cursor() as cur:
                    cur.execute('SELECT pg_advisory_unlock(%s)', (self.key,))
            except psycopg2.Error:  # (the session is gone, and the lock with it)
                pass
            finally:
                conn.close()


# --- the engine --------------------------------------------------------------------------

class PostgresEngine:
    """The search index in a PostgreSQL database (see the module's description).

    :param dsn: a libpq connection string or a ``postgresql://`` URI.  The tables
        are made in the first schema of the connection's ``search_path`` (so several
        workspaces can share a database, a schema each).
    :raises SearchUnavailable: the database cannot be reached.
    """

    def __init__(self, dsn, pool_size=POOL_SIZE):
        self.dsn = dsn
        self.analyzer = workspace_analyzer()
        self.snippets = Snippets(self.analyzer)
        self.write_lock = threading.Lock()  # held by whatever writes the index in this process
        self._pool = _Pool(dsn, pool_size)
        self.schema_current = False
        self.schema = None   # (the schema the tables are in, once known)
        self._prepare()

    # connections ------------------------------------------------------------------
    def _run(self, work, transaction=True):
        """``work(cursor)`` in a transaction, committed (or, when ``transaction`` is
        false, each statement on its own); once more on a new connection when the one
        it had turns out to have been dropped.

        :raises SearchUnavailable: the database cannot be reached or failed for
            reasons not the work's; other psycopg2 errors as they are.
        """
        for attempt in (1, 2):
            conn = self._pool.take()
            try:
                conn.autocommit = not transaction
                with conn.cursor() as cur:
                    result = work(cur)
                conn.commit()
                return result
            except psycopg2.Error as e:
                if conn.closed and attempt == 1:
                    log.info('search: the connection to the database was dropped; '
                             'trying again on a new one')
                    continue
                if _environmental(e):
                    raise SearchUnavailable(f'the search database failed: {e}') from e
                raise
            finally:
                if not conn.closed and not transaction:
                    conn.autocommit = False
                self._pool.give_back(conn)

    def _prepare(self):
        """Make the tables on first use; learn whether their layout is this code's."""
        def prepare(cur):
            cur.execute('SELECT current_schema()')
            (schema,) = cur.fetchone()
            if schema is None:
                raise SearchUnavailable('the search database has no schema to make its '
                                        'tables in (see search_path)')
            _lock_layout(cur, schema)  # (two processes starting at once: one makes the tables)
            cur.execute('SELECT to_regclass(%s), to_regclass(%s)', (TABLE, LAYOUT_TABLE))
            documents, layout = cur.fetchone()
            version = None
            if layout is not None:
                cur.execute(f'SELECT version FROM {LAYOUT_TABLE}')
                row = cur.fetchone()
                version = row[0] if row else None
            if documents is None and version in (None, LAYOUT):
                self._create(cur)
                version = LAYOUT
            return schema, version == LAYOUT
        self.schema, self.schema_current = self._run(prepare)

    def _create(self, cur):
        cur.execute(f'CREATE TABLE IF NOT EXISTS {LAYOUT_TABLE} '
                    '(one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)')
        cur.execute(f'''CREATE TABLE {TABLE} (
            key text PRIMARY KEY,
            item text NOT NULL,
            kind text NOT NULL,
            number text NOT NULL DEFAULT '',
            title text NOT NULL DEFAULT '',
            department text NOT NULL DEFAULT '',
            state text NOT NULL DEFAULT '',
            classification text NOT NULL DEFAULT '',
            allowed text[] NOT NULL,
            date timestamp,
            stamp text,
            words tsvector NOT NULL)''')
        cur.execute(f'CREATE INDEX {TABLE}_item ON {TABLE} (item)')
        cur.execute(f'CREATE INDEX {TABLE}_date ON {TABLE} (date DESC)')
        cur.execute(f'CREATE INDEX {TABLE}_words ON {TABLE} USING gin (words)')
        cur.execute(f'CREATE INDEX {TABLE}_allowed ON {TABLE} USING gin (allowed)')
        cur.execute(f'INSERT INTO {LAYOUT_TABLE} (version) VALUES (%s) '
                    'ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version', (LAYOUT,))

    def indexer_lock(self):
        """The lock whose holder is this index's only writer (:class:`AdvisoryLock`),
        one per schema of a database."""
        return AdvisoryLock(self.dsn, _lock_key(f'{self.schema}.{TABLE}.indexer'))

    # writing -----------------------------------------------------------------------
    def _words(self, title, content, number):
        """The ``tsvector`` text of a document: its analysed words with positions."""
        found = {}  # lexeme -> ['3A', ...]
        start = 0
        for weight, text in (('A', title), ('B', content)):
            last = start
            for token in self.analyzer(text, positions=True):
                position = min(start + token.pos + 1, MAX_POSITION)
                last = position
                places = found.setdefault(token.text, [])
                if len(places) < MAX_POSITIONS and not (
                        places and places[-1] == f'{position}{weight}'):
                    places.append(f'{position}{weight}')
            start = last + TITLE_GAP
        parts = [f'{quote(lexeme)}:{",".join(places)}' for lexeme, places in found.items()
                 if fits(lexeme)]
        if number and fits('#' + number):
            parts.append(quote('#' + number) + ':1C')
        return ' '.join(parts)

    def _row(self, doc):
        unknown = set(doc) - DOCUMENT_FIELDS
        if unknown:
            raise ValueError(f'no field {sorted(unknown)[0]!r} in the search index')
        number = _clean(doc.get('number'))
        return (_clean(doc['key']), _clean(doc['item']), _clean(doc['kind']), number,
                _clean(doc.get('title')), _clean(doc.get('department')),
                _clean(doc.get('state')), _clean(doc.get('classification')),
                [_clean(p) for p in (doc.get('allowed') or '').split()], doc.get('date'),
                doc.get('stamp'),
                self._words(doc.get('title') or '', doc.get('content') or '', number))

    def apply(self, documents, remove_items=(), merge=True):
        """Replace the documents of ``remove_items`` (item ids) by ``documents``, in one
        transaction (a document whose key is already there replaces it).

        :param documents: dicts of the fields of :func:`~.documents.documents_for`.
        :param merge: ignored (PostgreSQL has no segments to merge).
        :raises ValueError: a document has a field the index does not know.
        :raises SearchUnavailable: the database cannot be reached.
        """
        rows = list({row[0]: row for row in map(self._row, documents)}.values())
        remove = list(dict.fromkeys(remove_items))

        def write(cur):
            if remove:
                cur.execute(f'DELETE FROM {TABLE} WHERE item = ANY(%s)', (remove,))
            if rows:
                execute_values(
                    cur, f'INSERT INTO {TABLE} ({", ".join(COLUMNS)}, words) VALUES %s '
                    'ON CONFLICT (key) DO UPDATE SET '
                    + ', '.join(f'{c} = EXCLUDED.{c}' for c in COLUMNS[1:] + ('words',)),
                    rows, template='(' + ', '.join(['%s'] * 8) + ', %s::text[], %s, %s, '
                    '%s::tsvector)', page_size=INSERT_PAGE)
        with self.write_lock:
            self._run(write)

    def merge_step(self, still_indexer=lambda: True):
        """Nothing to merge in PostgreSQL.  :returns: False"""
        return False

    def merges_due(self):
        return False

    def optimize(self):
        """Bring the table's statistics and free space up to date (a rebuild ends with this)."""
        with self.write_lock:  # (VACUUM runs outside any transaction)
            self._run(lambda cur: cur.execute(f'VACUUM (ANALYZE) {TABLE}'), transaction=False)

    def reopen(self):
        """Read the layout afresh: another process may have rebuilt the index meanwhile."""
        with self.write_lock:
            self._prepare()

    def clear(self):
        """Remove every document.  An index of an older layout is made anew."""
        def clear(cur):
            _lock_layout(cur, self.schema)
            if self.schema_current:
                cur.execute(f'TRUNCATE {TABLE}')
            else:
                cur.execute(f'DROP TABLE IF EXISTS {TABLE}')
                self._create(cur)
        with self.write_lock:
            self._run(clear)
            self.schema_current = True

    def close(self):
        """Close the connections not in use (they are opened again when needed)."""
        self._pool.close()

    # reading -----------------------------------------------------------------------
    def stamps(self):
        """``{key: stamp}`` of every document (for checking against the database)."""
        def read(cur):
            cur.execute(f'SELECT key, stamp FROM {TABLE}')
            return dict(cur.fetchall())
        return self._run(read)

    def doc_count(self):
        """How many documents the index holds."""
        def read(cur):
            cur.execute(f'SELECT count(*) FROM {TABLE}')
            return cur.fetchone()[0]
        return self._run(read)

    def parse(self, text):
        """The ``tsquery`` text of ``text``: '' for everything, None for nothing.

        :raises QueryError: see :func:`parse`.
        """
        node = parse(text, self.analyzer)
        if node is EVERY:
            return ''
        return None if node in (None, False) else tsquery(node)

    def query(self, text, principals, filters=None, dates=(None, None), page=1, pagelen=10,
              sort='relevance', text_for=None, hidden_items=()):
        """Search ``text`` among the documents ``principals`` may open; the
        arguments, results and errors of :meth:`.engine.WhooshEngine.query`.

        :raises QueryError: the query cannot be understood, or took too long.
        :raises SearchUnavailable: the database cannot be reached.
        """
        where, params = ['allowed && %(principals)s::text[]'], {'principals': list(principals)}
        restricted = False
        for name, value in (filters or {}).items():
            if name not in FILTERS:
                raise ValueError(f'no filter {name!r}')
            if value:
                where.append(f'{name} = %({name})s')  # (a name from FILTERS only)
                params[name] = value
                restricted = True
        first, last = dates
        if first:
            where.append('date >= %(first)s')
            params['first'] = _day_start(first)
        if last:
            where.append('date < %(last)s')
            params['last'] = _day_start(last + ONE_DAY)
        text = (text or '').strip()
        page = max(1, page)
        if not principals or not (text or restricted or first or last):
            return Results(0, [], {}, 1, 0)
        node = parse(text, self.analyzer) if text else EVERY
        if not self.schema_current:
            self._prepare()  # (another process may have rebuilt it meanwhile)
        if node in (None, False) or not self.schema_current:
            return Results(0, [], {}, page, 0)
        if node is not EVERY:
            where.append('words @@ %(query)s::tsquery')
            params['query'] = tsquery(node)
        if hidden_items:
            where.append('NOT (item = ANY(%(hidden)s))')
            params['hidden'] = list(hidden_items)
        if node is EVERY or sort == 'date':
            order = 'date DESC NULLS LAST, key'
        else:
            order = ('ts_rank(%(weights)s::real[], words, %(query)s::tsquery, '
                     f'{RANK_NORMALIZATION}) DESC, date DESC NULLS LAST, key')
            params['weights'] = RANK_WEIGHTS
        params.update(limit=pagelen, offset=(page - 1) * pagelen)
        condition = ' AND '.join(where)

        def read(cur):
            # (one snapshot for the counts and the page)
            cur.execute('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; '
                        f'SET LOCAL statement_timeout = {QUERY_TIMEOUT_MS}')
            cur.execute(f'SELECT kind, count(*) FROM {TABLE} WHERE {condition} GROUP BY kind',
                        params)
            facets = dict(cur.fetchall())
            total = sum(facets.values())
            if not total or (page - 1) * pagelen >= total:
                return facets, []
            cur.execute(f'SELECT key, item, kind, number, title, department, state, date, '
                        f'stamp FROM {TABLE} WHERE {condition} ORDER BY {order} '
                        'LIMIT %(limit)s OFFSET %(offset)s', params)
            return facets, cur.fetchall()
        try:
            facets, rows = self._run(read)
        except SearchUnavailable as e:
            if isinstance(e.__cause__, psycopg2.errors.QueryCanceled):
                raise QueryError('the search took too long') from None
            raise
        except (psycopg2.errors.SyntaxError, psycopg2.errors.ProgramLimitExceeded) as e:
            raise QueryError(str(e).splitlines()[0]) from None  # (a tsquery PostgreSQL refuses)
        total = sum(facets.values())
        pages = math.ceil(total / pagelen) if total else 0
        if not rows:
            return Results(total, [], facets if total else {}, page, pages)
        fields = [dict(zip(('key', 'item', 'kind', 'number', 'title', 'department', 'state',
                            'date', 'stamp'), row)) for row in rows]
        snippet = self._snippets(node, [f['key'] for f in fields]) if text_for else None
        hits = [Hit(key=f['key'], item=f['item'], kind=f['kind'], number=f['number'],
                    title=f['title'], department=f['department'], state=f['state'],
                    date=f['date'], snippet=snippet(text_for(f)) if snippet else '')
                for f in fields]
        return Results(total, hits, facets, page, pages)

    def _snippets(self, node, keys):
        """A function ``text -> HTML snippet`` marking the words ``node`` matched; a
        prefix stands for the words that begin with it in the documents ``keys``."""
        words, prefixes = marked_words(node)
        if prefixes:
            def expand(cur):
                cur.execute(f'SELECT DISTINCT lexeme FROM {TABLE}, unnest(words) '
                            'WHERE key = ANY(%s) AND lexeme NOT LIKE %s '
                            'AND EXISTS (SELECT 1 FROM unnest(%s::text[]) AS p '
                            '            WHERE starts_with(lexeme, p)) '
                            'ORDER BY lexeme LIMIT %s',
                            (keys, '#%', sorted(prefixes), MAX_PREFIX_WORDS))
                return [row[0] for row in cur.fetchall()]
            words |= set(self._run(expand))
        if not words:
            return None
        # (the snippets' code reads the words of a query: one term for each)
        return self.snippets.for_query(Or([Term('content', w) for w in sorted(words)]), None)

