import { randomUUID } from 'node:crypto';

/** HQ document ids are 32-char hex uuids (sync log ids, user ids, form ids created by HQ). */
export function hexId(): string {
  return randomUUID().replaceAll('-', '');
}

export function uuid4(): string {
  return randomUUID();
}

export function nowIso(): string {
  return new Date().toISOString();
}
