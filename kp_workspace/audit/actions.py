"""Plain titles for the audit log's action codes (the codes stay what is stored and filtered on)."""
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory('kp_workspace')

ACTION_TITLES = {
    'login.succeeded': _('Signed in'),
    'login.failed': _('Sign-in failed'),
    'login.refused_locked': _('Sign-in refused: too many attempts'),
    'logout': _('Signed out'),
    'token.issued': _('API token issued'),
    'token.revoked': _('API token revoked'),
    'user.created': _('User created'),
    'user.updated': _('User changed'),
    'user.activated': _('User activated'),
    'user.password_changed': _('Password changed'),
    'user.password_reset': _('Password reset'),
    'group.created': _('Group created'),
    'post.created': _('Post created'),
    'post.updated': _('Post changed'),
    'post.assigned': _('Post assigned'),
    'post.relieved': _('Relieved of a post'),
    'post.transferred': _('Post transferred'),
    'department.created': _('Department created'),
    'department.updated': _('Department changed'),
    'role.granted': _('Role granted'),
    'role.withdrawn': _('Role withdrawn'),
    'file.opened': _('File opened'),
    'file.viewed': _('Classified file read'),
    'file.forward': _('File forwarded'),
    'file.return': _('File sent back'),
    'file.recall': _('File recalled'),
    'file.close': _('File closed'),
    'file.reopen': _('File reopened'),
    'file.exported': _('File exported as PDF'),
    'note.written': _('Note written'),
    'note.edited': _('Note changed'),
    'attachment.added': _('Correspondence attached'),
    'attachment.read': _('Correspondence read'),
    'draft.created': _('Draft written'),
    'draft.edited': _('Draft changed'),
    'draft.submitted': _('Draft put up for approval'),
    'draft.approved': _('Draft approved'),
    'draft.revised': _('Draft sent back for changes'),
    'draft.signed': _('Draft signed'),
    'draft.issued': _('Draft issued'),
    'draft.pdf_read': _('Draft PDF read'),
    'dispatch.sent': _('Document dispatched'),
    'dispatch.acknowledged': _('Dispatch acknowledged'),
    'dispatch.exported': _('Dispatch register exported as CSV'),
    'summary.opened': _('Summary drafted'),
    'summary.viewed': _('Classified summary read'),
    'summary.submit': _('Summary put up to the Secretary'),
    'summary.forward': _('Summary forwarded'),
    'summary.put_up': _('Summary put up to the Chief Minister'),
    'summary.return': _('Summary sent back'),
    'summary.recall': _('Summary recalled'),
    'summary.sign': _('Summary signed'),
    'summary.decide': _('Summary decided'),
    'summary.decided': _('Summary decided'),
    'summary.signed': _('Summary signed'),
    'summary.pdf_read': _('Summary PDF read'),
    'signing.certificate_issued': _('Signing certificate issued'),
    'signing.certificate_imported': _('Signing certificate imported'),
    'signing.certificate_revoked': _('Signing certificate revoked'),
    'signing.ca_trusted': _('External CA trusted'),
    'signing.pin_set': _('Signing PIN set'),
    'signing.pin_changed': _('Signing PIN changed'),
    'signing.wrong_pin': _('Wrong signing PIN'),
    'refused.forbidden': _('Refused: not allowed'),
    'refused.not_visible': _('Refused: not visible to them'),
    'refused.conflict': _('Refused: not possible now'),
    'refused.csrf': _('Refused: form expired or from elsewhere'),
}


def action_title(code):
    """The plain title of an audit action ``code`` (a translation string), or the code
    itself when it has none (codes recorded by older or newer versions)."""
    return ACTION_TITLES.get(code, code)


def party_title(value):
    """An entry's actor or client as shown: ``console`` (the kpw command) in words."""
    return _('console (kpw)') if value == 'console' else value
