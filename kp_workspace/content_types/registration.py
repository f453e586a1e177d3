"""Type metadata of the file-work types (what may contain what)."""
from pyramid.i18n import TranslationStringFactory

from .attachment import Attachment
from .casefile import CaseFile, CaseFileSchema
from .outgoing import OutgoingDocument
from .summary import Summary, SummarySchema

_ = TranslationStringFactory('kp_workspace')


def includeme(config):
    config.add_content_type(CaseFile, schema=CaseFileSchema, addable_to=('Department',),
                            title=_('Case file'))
    config.add_content_type(Summary, schema=SummarySchema, addable_to=('Department',),
                            title=_('Summary'))
    config.add_content_type(Attachment, addable_to=('CaseFile',), title=_('Attachment'))
    config.add_content_type(OutgoingDocument, addable_to=('CaseFile',),
                            title=_('Outgoing document'))
