"""Languages: English (default) and Urdu, right-to-left.

The locale comes from the ``kpw_locale`` cookie (set by the language switch),
else the browser's Accept-Language, else ``kp_workspace.default_locale``.
"""
import datetime
import functools

from babel import Locale
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory('kp_workspace')

LANGUAGES = (('en', 'English', 'ltr'), ('ur', 'اردو', 'rtl'))
CODES = tuple(code for code, _name, _dir in LANGUAGES)
COOKIE = 'kpw_locale'


def negotiate_locale(request):
    chosen = request.cookies.get(COOKIE)
    if chosen in CODES:
        return chosen
    match = request.accept_language.lookup(CODES, default='')
    if match in CODES:
        return match
    return request.registry.kpw_settings.default_locale


def text_direction(locale_name):
    return 'rtl' if locale_name == 'ur' else 'ltr'


# Day, month name, year (and time): "02 Dec 2026 18:18", "02 دسمبر 2026 18:18".  Digits stay
# Western in Urdu too: they are what file numbers, typed letters and the PDFs use.
DATE = 'dd MMM yyyy'
DATE_TIME = 'dd MMM yyyy HH:mm'


@functools.lru_cache(maxsize=None)
def _months(locale_name):
    """The abbreviated month names (``MMM``) of ``locale_name``, January first."""
    names = Locale.parse(locale_name).months['format']['abbreviated']
    return tuple(names[m] for m in range(1, 13))


def format_when(request, value, time=True):
    """``value`` (a datetime, date, ISO string or POSIX timestamp; falsy gives '') as a
    date, with the time unless ``time`` is false, month names in the request's language.
    A datetime shows in its own time zone (naive ones as they are)."""
    if not value and value != 0:
        return ''
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    elif isinstance(value, (int, float)):
        value = datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    # The patterns above put together from Babel's month names (what Babel's
    # format_datetime gives, a test compares them: a page of a file's history has
    # hundreds of dates, and Babel parsed the locale three times for each)
    month = _months(request.locale_name)[value.month - 1]
    day = f'{value.day:02d} {month} {value.year:04d}'
    if time and isinstance(value, datetime.datetime):
        return f'{day} {value.hour:02d}:{value.minute:02d}'
    return day


FSI, PDI = '\u2068', '\u2069'


def isolated(text):
    """``text`` as a bidirectional isolate (FSI ... PDI), for a name or number put into
    a sentence of the other direction: "Section Officer (Budget), Finance" and "Fawad
    Ali" in an Urdu sentence stay two names in their own order, not one jumbled run."""
    return f'{FSI}{text}{PDI}' if text else text


def display_title(obj, request):
    """The name of a department or post in the request's language: its ``title_ur`` on
    Urdu pages when it has one, else its (English) ``title``."""
    return title_in(obj, request.locale_name)


def title_in(obj, locale_name):
    """The name of a department or post in the language ``locale_name`` (as
    :func:`display_title`)."""
    if locale_name == 'ur':
        return getattr(obj, 'title_ur', '') or obj.title
    return obj.title


def includeme(config):
    config.set_locale_negotiator(negotiate_locale)
    # Pyramid merges the catalogues of every directory, those listed later winning over
    # earlier ones (within one call; pyramid.config.i18n.add_translation_dirs): ours is
    # last, so our deform and colander catalogues (deform and colander ship no Urdu)
    # and any of our own wordings win.
    config.add_translation_dirs('colander:locale/', 'deform:locale/', 'kp_workspace:locale/')
