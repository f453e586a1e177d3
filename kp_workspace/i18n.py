"""Languages: English (default) and Urdu, right-to-left.

The locale comes from the ``kpw_locale`` cookie (set by the language switch),
else the browser's Accept-Language, else ``kp_workspace.default_locale``.
"""
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


def includeme(config):
    config.set_locale_negotiator(negotiate_locale)
    config.add_translation_dirs('colander:locale/', 'deform:locale/', 'kp_workspace:locale/')
