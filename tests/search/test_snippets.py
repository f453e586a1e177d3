"""Snippets: the window around the first match is marked as Whoosh marks it."""
import hypothesis
import pytest
from hypothesis import strategies as st
from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight

from kp_workspace.search import snippets
from kp_workspace.search.analysis import workspace_analyzer

ANALYZER = workspace_analyzer()
PIECES = ['the', 'of', 'Files', 'filing', 'file', 'FILE', 'fIle', 'budget', 'Budgets', 'a', 'x',
          '<b>', '&', '"file"', "'x'", 'محكمه', 'مُحَکَّمہ', 'تعلیم', 'ﻧﻮﭦ', 'İ', 'FD/2026', 'z' * 230]
# Cases a random text rarely hits (each told apart from Whoosh a change that passed the
# random examples alone): a fragment's countdown ending at exactly 0, quotes, six
# spellings of one word (the sixth mark takes class term0 again), a word too long to
# be a fragment (a fragment with no mark, left out), and a text past the fragmenter's limit.
EXAMPLES = [(['file ' + 'q' * 76 + ' ctx file'], {'file'}), (['say "file" it\'s'], {'file', 'x'}),
            (['file Files FILE fIle FIle FILe'], {'file'}), (['ab ' + 'z' * 230], {'z' * 230}),
            (['x ' * 17000 + 'file'], {'file'}), (['budget ' * 5000], {'budget'})]


def whooshs(texts, words):
    """What Whoosh's highlight gives for ``texts`` with one formatter (as a query has)."""
    fragmenter = ContextFragmenter(maxchars=snippets.MAXCHARS, surround=snippets.SURROUND)
    formatter = HtmlFormatter(tagname='mark', between=snippets.BETWEEN,
                              maxclasses=snippets.CLASSES)
    return [highlight(t, words, ANALYZER, fragmenter, formatter, top=snippets.TOP, mode='index')
            for t in texts]


def ours(texts, words):
    maker = snippets.Snippets(ANALYZER)
    assert maker._words is not None  # (the one loop is taken, else whoosh is compared with itself)
    seen = {}
    return [snippets._marked(t, snippets._fragments(maker._words(t), words), seen)
            for t in texts]


text = st.lists(st.one_of(st.sampled_from(PIECES), st.sampled_from([' ', '  ', '\n', ', ', '. ']),
                          st.integers(1, 90).map(lambda n: 'q' * n + ' file'),
                          st.integers(1, 70).map(lambda n: 'budget filing ' * n),
                          st.text(max_size=8)), max_size=120).map(''.join)


@pytest.mark.parametrize('texts, words', EXAMPLES)
def test_the_marks_are_whooshs_in_the_rare_cases(texts, words):
    words = frozenset(words)
    assert ours(texts, words) == whooshs(texts, words)


@hypothesis.settings(max_examples=400, deadline=None, derandomize=True, database=None)
@hypothesis.given(st.lists(text, min_size=1, max_size=3),
                  st.sets(st.sampled_from(['file', 'budget', 'محکمہ', 'تعلیم', 'the', 'x', 'fd',
                                           '2026', 'z' * 230, 'i̇'])))
def test_the_marks_are_whooshs(texts, words):
    """The same fragments, the best two in order, the same marks and numbering of
    the words across the hits of one query, HTML escaped alike."""
    words = frozenset(words)
    assert ours(texts, words) == whooshs(texts, words)


def test_a_snippet_marks_the_words_around_the_first_match_and_escapes_the_rest():
    from whoosh import query
    text = ('<script>alert(1)</script> ' + 'nothing here ' * 40
            + 'the budget estimates & the Budgets of 2026 ' + 'more words ' * 60)
    snippet = snippets.Snippets(ANALYZER).for_query(query.Term('content', 'budget'), None)
    found = snippet(text)
    assert found.count('<mark class="match term') == 2
    assert '<mark class="match term0">budget</mark> estimates &amp; the ' \
           '<mark class="match term1">Budgets</mark>' in found
    assert '<script>' not in found and len(found) < 400
    assert snippet('') == '' and snippet('no such word here') == ''
