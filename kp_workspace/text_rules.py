"""The rules every piece of text obeys before it is stored, and how stored text is shown.

One place decides what text the workspace accepts: valid Unicode (no lone
surrogates, no noncharacters), no NUL or other control characters (a tab and
line breaks only where the field has several lines), no bidirectional
overrides, embeddings, isolates or marks in names and other single-line fields
(they can make ``cod.exe`` look like ``exe.doc``), and a length limit for each
field.  The request check (:mod:`kp_workspace.security.inputs`) applies the
character rules to every value of every request; the content types and
principals apply them, with their field's limits, through :func:`check_text`.

:func:`displayable` is the other side: text stored before these rules (or
reaching a page some other way) is shown with what cannot be encoded replaced,
so that no page can fail on it.
"""
import re

from pyramid.i18n import TranslationStringFactory

from .errors import DomainError

_ = TranslationStringFactory('kp_workspace')

LINE_BREAKS = '\t\n\r'
# Bidirectional controls: embeddings and overrides (U+202A-202E), isolates
# (U+2066-2069), and the marks (U+200E, U+200F, U+061C).
BIDI = frozenset('\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c')
# C0 and C1 controls, DEL, lone surrogates and noncharacters: never in stored text.
_NEVER = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff'
                    + ''.join(f'\\U{plane:04x}fffe\\U{plane:04x}ffff' for plane in range(1, 17))
                    + ']')
# Also refused in a single-line field: tabs, line breaks, the Unicode line and
# paragraph separators, and the bidirectional controls.
_NOT_IN_LINE = re.compile('[\t\n\r\u2028\u2029' + ''.join(sorted(BIDI)) + ']')
_SURROGATE = re.compile('[\ud800-\udfff]')
# Refused in any text, prose too: the overrides, which make the text on screen (or in
# a signed PDF) read differently from what is stored ("evil" shown as "live").  The
# marks and isolates, which Urdu writers use, stay allowed in prose.
OVERRIDES = frozenset('\u202d\u202e')
_OVERRIDE = re.compile('[\u202d\u202e]')
# Refused in a single-line field: characters that show nothing (a name that looks
# like another).  The zero-width non-joiner and joiner, which Urdu needs, stay.
INVISIBLE = frozenset('\u200b\u2060\ufeff')
_INVISIBLE = re.compile('[\u200b\u2060\ufeff]')


def problem(text, single_line=False, name=None):
    """What is wrong with the characters of ``text``, as a message, or None.

    :param single_line: a name, title or other one-line field: tabs, line
        breaks and bidirectional controls are refused too.
    :param name: the name of the value, for a message that names it (the
        request check has no form field to put the message beside).
    """
    found = _NEVER.search(text)
    if found is not None:
        char = found.group()
        code = f'{ord(char):04X}'
        if '\ud800' <= char <= '\udfff':
            if name is not None:
                return _('The value of "${name}" is not valid text: it contains a broken '
                         'character (a lone surrogate).', mapping={'name': name})
            return _('This is not valid text: it contains a broken character (a lone '
                     'surrogate). Type it again or paste it from another program.')
        if name is not None:
            return _('The value of "${name}" contains a control character (U+${code}) that '
                     'cannot be stored.', mapping={'name': name, 'code': code})
        return _('This contains a control character (U+${code}) that cannot be stored. '
                 'Remove it and try again.', mapping={'code': code})
    if single_line:
        found = _NOT_IN_LINE.search(text)
        if found is not None:
            if found.group() in BIDI:
                return _('This contains a character that changes the direction of the text '
                         '(U+${code}); it is not allowed here.',
                         mapping={'code': f'{ord(found.group()):04X}'})
            return _('This must be on one line.')
    return None


def check_text(text, field, maximum, minimum=1, single_line=False, strip=True):
    """``text`` checked for storing in ``field``: stripped, within limits, valid.

    :param maximum: the most characters allowed (after stripping).
    :param minimum: the fewest; 0 allows an empty value (``None`` counts as empty).
    :returns: the text, stripped of surrounding white space unless ``strip`` is false.
    :raises DomainError: (400, on ``field``) not a string, too short or too long,
        or a character the rules above refuse.
    """
    if text is None:
        text = ''
    if not isinstance(text, str):
        raise DomainError(_('This must be text.'), field=field)
    if strip:
        text = text.strip()
    if len(text) < minimum:
        raise DomainError(_('This cannot be empty.') if minimum <= 1 else
                          _('This is too short (at least ${n} characters).',
                            mapping={'n': minimum}), field=field)
    if len(text) > maximum:
        raise DomainError(_('This is too long (at most ${n} characters).', mapping={'n': maximum}),
                          field=field)
    message = problem(text, single_line) or _stored_problem(text, single_line)
    if message is not None:
        raise DomainError(message, field=field)
    return text


def _stored_problem(text, single_line):
    """What the domain refuses besides :func:`problem` (which the request check
    applies to every value): checked on the field, so that a form shows it beside
    the text typed, which is kept."""
    found = _OVERRIDE.search(text)
    if found is not None:
        return _('This contains a character that changes the direction of the text '
                 '(U+${code}); it is not allowed here.',
                 mapping={'code': f'{ord(found.group()):04X}'})
    found = _INVISIBLE.search(text) if single_line else None
    if found is not None:
        return _('This contains an invisible character (U+${code}); it is not allowed here.',
                 mapping={'code': f'{ord(found.group()):04X}'})
    return None


def check_name(text, field, maximum, minimum=1):
    """A name, title or other one-line field: :func:`check_text` with ``single_line``."""
    return check_text(text, field, maximum, minimum=minimum, single_line=True)


def displayable(text):
    """``text`` with lone surrogates replaced by U+FFFD, so that it can always be
    encoded as UTF-8 (stored text from before these rules may hold them).  Every page
    passes here: ASCII is told at once, and encoding (which fails on a lone surrogate
    only) is five times quicker than the search, which is left to the rare text that
    holds one."""
    if text.isascii():
        return text
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        return _SURROGATE.sub('\ufffd', text)
    return text


def scrub(text):
    """Text the workspace did not receive from a person (text extracted from a
    document) made safe to store: lone surrogates become U+FFFD and control
    characters are dropped.  ``None`` stays ``None``."""
    if text is None:
        return None
    return _NEVER.sub('', displayable(text))
