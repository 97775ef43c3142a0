import type { QuarantineReason } from '../../core/sync/session-types.ts';
import { messagesFor } from '../messages.ts';
import { outboxItems } from '../state/app-state.ts';

/**
 * What became of a form just saved, kept up to date from the outbox: a form saved online is
 * usually sent within a second, and then the worker should read "Sent", not "Saved to the
 * outbox" (issue 13). Offline, or while the server fails, it stays "Saved to the outbox".
 */
export type SaveOutcomeKind = 'saved' | 'sending' | 'sent' | 'set-aside';

export function saveOutcomeOf(instanceId: string): { kind: SaveOutcomeKind; reason?: QuarantineReason } {
  const item = outboxItems.value.find((i) => i.instanceId === instanceId);
  switch (item?.state) {
    case 'sent':
      return { kind: 'sent' };
    case 'sending':
      return { kind: 'sending' };
    case 'quarantined':
      return item.quarantineReason
        ? { kind: 'set-aside', reason: item.quarantineReason }
        : { kind: 'set-aside' };
    default:
      return { kind: 'saved' };
  }
}

const TEXT = messagesFor('en').saveOutcome;

export function SaveOutcome({
  instanceId,
  text = TEXT,
}: {
  instanceId: string;
  text?: Record<SaveOutcomeKind, string>;
}) {
  return <>{text[saveOutcomeOf(instanceId).kind]}</>;
}
