"""Plain titles for what the registers record, beside the workflow definitions.

Every movement in a movement register names its action by a short code
(``put_up``, ``decision``...); pages show these titles instead.  States have
their titles in each workflow's ``states``.
"""
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory('kp_workspace')

MOVEMENT_TITLES = {
    'forward': _('Sent on'),
    'return': _('Sent back'),
    'recall': _('Recalled'),
    'close': _('Closed and sent to the record room'),
    'reopen': _('Reopened'),
    'submit': _('Put up to the Secretary'),
    'put_up': _('Put up to the Chief Minister'),
    'decision': _('Decision of the Chief Minister'),
    'filed': _('Decision received and filed'),
    'implementing_file': _('Filed; implementing file opened'),
    'mark': _('Marked by the diary'),
    'file': _('Put in a file'),
}


def movement_title(action):
    """The plain title of a movement's ``action`` (a translation string)."""
    return MOVEMENT_TITLES.get(action, _('Moved'))
