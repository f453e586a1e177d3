"""Checking the audit chains: which entry was changed, removed or reordered.

:func:`verify` reads every shard once, newest first (the order of its keys),
keeping one flag per position, and compares what it finds with the shard's
head in the audit database and the anchor in the main database (see
:mod:`kp_workspace.audit`).
"""
import datetime
from dataclasses import dataclass, field

from . import genesis


@dataclass(order=True)
class Problem:
    """One break in a chain.  ``seq`` is the first position affected; ``entry``
    the entry there, or the nearest one left when it was removed."""

    shard: int
    seq: int
    kind: str = field(compare=False)   # changed, removed, reordered, head, anchor
    text: str = field(compare=False)
    entry: object = field(compare=False, default=None)

    def describe(self):
        where = f' [{self.entry.describe()}]' if self.entry is not None else ''
        return f'shard {self.shard}, entry #{self.seq}: {self.kind}: {self.text}{where}'


@dataclass
class Report:
    entries: int = 0
    problems: list = field(default_factory=list)   # the first of each shard, in order
    notes: list = field(default_factory=list)      # true facts that are not breaks

    @property
    def valid(self):
        return not self.problems

    @property
    def first(self):
        """The first bad entry: the earliest in time of the shards' first breaks."""
        if not self.problems:
            return None
        return min(self.problems, key=lambda p: (p.entry.at if p.entry is not None
                                                 else _EPOCH, p.shard, p.seq))


_EPOCH = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)  # (a removal at the start)


def verify(log, anchors=None):
    """Check every chain of ``log`` against its heads and ``anchors``.

    :param anchors: the :class:`~kp_workspace.audit.AuditAnchors` of the main
        database, or None when it has none (reported).
    :returns: a :class:`Report`.
    """
    report = Report()
    if not log.chained:
        report.problems.append(Problem(0, 0, 'unchained', 'this log has not been chained yet '
                                       '(run kpw evolve)'))
        return report
    if anchors is None:
        report.problems.append(Problem(0, 0, 'anchor', 'the main database holds no anchors '
                                       'for this log'))
    for shard, (tree, head) in enumerate(zip(log._trees(), log.heads())):
        anchor = None
        if anchors is not None and shard < len(anchors.shards):
            anchor = anchors.shards[shard]
        elif anchors is not None and head.count:
            report.problems.append(Problem(shard, head.count, 'anchor', 'the main database '
                                           'holds no anchor for this shard'))
        problems = _verify_shard(shard, tree, head, anchor, report)
        if problems:
            report.problems.append(min(problems))
    return report


def _verify_shard(shard, tree, head, anchor, report):
    problems = []
    size = max(head.count, anchor.count if anchor is not None else 0, len(tree))
    seen = bytearray(size + 2)
    newer = None  # the entry before this one in key order (one position newer)
    newest = None
    for _key, entry in tree.items():
        report.entries += 1
        seq = entry.seq
        if not isinstance(seq, int) or not 1 <= seq <= size:
            problems.append(Problem(shard, 0, 'changed', 'an entry with no valid position',
                                    entry))
            newer = entry
            continue
        if seen[seq]:
            problems.append(Problem(shard, seq, 'reordered', 'this position appears twice',
                                    entry))
        seen[seq] = 1
        if newest is None:
            newest = entry
        if entry.shard != shard or entry.compute_digest() != entry.digest:
            problems.append(Problem(shard, seq, 'changed',
                                    'its content does not match its digest', entry))
        if newer is not None and isinstance(newer.seq, int):
            if newer.seq < seq:
                problems.append(Problem(shard, newer.seq, 'reordered',
                                        f'it stands after entry #{seq}', newer))
            elif newer.seq == seq + 1 and newer.prev != entry.digest:
                problems.append(Problem(shard, seq, 'changed',
                                        f'entry #{newer.seq} was written after another '
                                        'version of it', entry))
        newer = entry
    oldest = newer
    if oldest is not None and oldest.seq == 1 and oldest.prev != genesis(shard):
        problems.append(Problem(shard, 1, 'changed', 'it does not start the chain', oldest))
    missing = [seq for seq in range(1, head.count + 1) if not seen[seq]]
    if missing:
        first = missing[0]
        after = _nearest_newer(tree, first)
        text = (f'{len(missing)} entries missing' if len(missing) > 1 else 'missing')
        problems.append(Problem(shard, first, 'removed',
                                text + (', the first stood before the one shown'
                                        if after is not None else ''), after))
    if newest is not None and newest.seq == head.count and newest.digest != head.digest:
        problems.append(Problem(shard, head.count, 'changed',
                                'the newest entry is not the one its head recorded', newest))
    if newest is not None and isinstance(newest.seq, int) and newest.seq > head.count:
        problems.append(Problem(shard, head.count + 1, 'head',
                                f'the head counts {head.count} entries but the chain has '
                                f'{newest.seq}', newest))
    if anchor is not None:
        if anchor.count > head.count:
            problems.append(Problem(
                shard, head.count + 1, 'removed',
                f'the newest {anchor.count - head.count} entries are missing (the main '
                f'database anchors {anchor.count}, the log ends at #{head.count})', newest))
        elif anchor.count == head.count and anchor.digest != head.digest:
            problems.append(Problem(shard, head.count, 'changed',
                                    'the newest entry is not the one anchored in the main '
                                    'database', newest))
        elif anchor.count < head.count:
            report.notes.append(f'shard {shard}: {head.count - anchor.count} entries newer '
                                'than its anchor (an audit copy newer than the main one?)')
    if head.migrated:
        when = head.migrated_at.strftime('%Y-%m-%d %H:%M UTC') if head.migrated_at else '?'
        report.notes.append(f'shard {shard}: entries #1 to #{head.migrated} were chained at '
                            f'the migration on {when}, and are attested from then on')
    return problems


def _nearest_newer(tree, seq):
    """The entry just after position ``seq`` in the chain (for naming a gap)."""
    best = None
    for _key, entry in tree.items():
        if isinstance(entry.seq, int) and entry.seq > seq:
            best = entry
        else:
            break
    return best
