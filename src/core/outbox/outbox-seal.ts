import { CryptoError } from '../crypto/crypto-error.ts';
import type { RecordCipher } from '../crypto/record-cipher.ts';
import type { AttachmentInfo, OutboxBlobRow, OutboxRow } from './outbox-store.ts';

/**
 * Outbox rows of an encrypted database (encryption at rest, docs/core.md). What the queue
 * needs to run stays in clear (seq, instanceID, state, sizes, times, attempts, the
 * server's answer); the form itself (XML, draft answers, form name, case ids, attachment
 * names) is sealed in `enc` with the instanceID as the record key, and attachment bytes
 * are sealed under instanceID + name. A sealed row keeps the plain fields at empty values,
 * so updates of its clear fields (state changes) work on it as on a plain row.
 */

interface Secret {
  xml: string;
  formName: string;
  caseIds: string[];
  attachments: AttachmentInfo[];
  draftJson?: string;
}

export async function sealOutboxRow(c: RecordCipher, row: OutboxRow): Promise<OutboxRow> {
  const { xml, formName, caseIds, attachments, draftJson } = row;
  const secret: Secret = { xml, formName, caseIds, attachments };
  if (draftJson !== undefined) secret.draftJson = draftJson;
  // A spread and a removal, not `const { xml, ...clear } = row`: V8 copies an object with
  // a rest pattern through a slow generic path, a few µs of every encrypted save.
  const sealed: OutboxRow = {
    ...row,
    xml: '',
    formName: '',
    caseIds: [],
    attachments: [],
    enc: await c.sealJson('outbox', row.instanceId, secret),
  };
  if (draftJson !== undefined) delete sealed.draftJson;
  return sealed;
}

export async function openOutboxRow(c: RecordCipher, row: OutboxRow): Promise<OutboxRow> {
  if (!(row.enc instanceof Uint8Array))
    throw new CryptoError('record-integrity', `Stored record outbox/${row.instanceId} is not encrypted`, {
      table: 'outbox',
      recordKey: row.instanceId,
    });
  const { enc, ...clear } = row;
  const secret = await c.openJson<Secret>('outbox', row.instanceId, enc);
  return { ...clear, ...secret };
}

const blobKey = (instanceId: string, name: string): string => `${instanceId}\u0000${name}`;

export async function sealOutboxBlob(c: RecordCipher, b: OutboxBlobRow): Promise<OutboxBlobRow> {
  const sealed = await c.seal('outboxBlobs', blobKey(b.instanceId, b.name), new Uint8Array(b.data));
  return {
    ...b,
    data: sealed.buffer.slice(sealed.byteOffset, sealed.byteOffset + sealed.byteLength) as ArrayBuffer,
  };
}

export async function openOutboxBlob(c: RecordCipher, b: OutboxBlobRow): Promise<OutboxBlobRow> {
  const plain = await c.open('outboxBlobs', blobKey(b.instanceId, b.name), new Uint8Array(b.data));
  return {
    ...b,
    data: plain.buffer.slice(plain.byteOffset, plain.byteOffset + plain.byteLength) as ArrayBuffer,
  };
}
