import { signal } from '@preact/signals';
import type { FormListEntry } from '../../core/openrosa/form-list.ts';
import { OpenRosaClient } from '../../core/openrosa/openrosa-client.ts';
import { type CaseApplier, Outbox } from '../../core/outbox/outbox.ts';
import { installStrictOutboxDurability } from '../../core/outbox/outbox-store.ts';
import { FieldsimDb } from '../../core/store/fieldsim-db.ts';
import type { OutboxState } from '../../core/sync/session-types.ts';
import { browserLock, loggingFetch } from '../platform/browser-platform.ts';

/**
 * One connection to a generic OpenRosa server from the browser: the client, the form list
 * and an outbox kept in its own IndexedDB database (`fieldsim-openrosa`), so forms saved
 * offline survive a reload and go once the user connects again. The password is held in
 * memory only, never stored.
 */
export interface OpenRosaDevice {
  client: OpenRosaClient;
  forms: FormListEntry[];
  outbox: Outbox;
  db: FieldsimDb;
}

export const device = signal<OpenRosaDevice | null>(null);
export const counts = signal<Record<OutboxState, number> | null>(null);

/** A generic server has no cases: its forms carry no case blocks to apply. */
const NO_CASES: CaseApplier = { tables: () => [], applyBlocks: async () => {} };

function deviceId(): string {
  const key = 'fieldsim-openrosa-device-id';
  let id = localStorage.getItem(key);
  if (!id) {
    id = `fieldsim:${crypto.randomUUID()}`;
    localStorage.setItem(key, id);
  }
  return id;
}

export async function refreshCounts(): Promise<void> {
  const d = device.value;
  counts.value = d ? await d.outbox.counts() : null;
}

export async function connect(input: { url: string; username: string; password: string }): Promise<void> {
  const client = new OpenRosaClient({
    url: input.url,
    username: input.username,
    password: input.password,
    deviceId: deviceId(),
    fetch: loggingFetch(),
  });
  // The form list is where credentials are checked: a refusal leaves nothing behind.
  const forms = await client.formList();
  const db = new FieldsimDb('fieldsim-openrosa');
  installStrictOutboxDurability(db);
  const outbox = new Outbox({
    db,
    cases: NO_CASES,
    lock: browserLock(),
    sender: client,
    isOnline: () => navigator.onLine,
    autoRetry: true,
    preflight: true,
  });
  outbox.onChange(() => void refreshCounts());
  device.value = { client, forms, outbox, db };
  await refreshCounts();
  // Forms left from an earlier visit go now (start also re-queues a form a closed tab
  // was sending).
  void outbox.start().then(refreshCounts);
}

export function disconnect(): void {
  const d = device.value;
  d?.outbox.close();
  d?.db.close();
  device.value = null;
  counts.value = null;
}
