import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { parseXmlTree, type XNode } from '../../src/server/casexml/xml-tree.ts';
import { getUserByUsername } from '../../src/server/db/users.ts';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';

export const CASE_NS = 'http://commcarehq.org/case/transaction/v2';

export function basic(user: string, password = 'fieldsim'): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export function xml(text: string): XNode {
  return parseXmlTree(text);
}

export function kids(node: XNode, local?: string): XNode[] {
  return local === undefined ? node.children : node.children.filter((c) => c.local === local);
}

export function text(node: XNode | undefined, local: string): string | undefined {
  return node?.children.find((c) => c.local === local)?.text;
}

/** A form with a v2 case block; `body` is inserted inside `<case>`. */
export function caseForm(opts: {
  instanceId: string;
  caseId: string;
  body: string;
  userId?: string;
  dateModified?: string;
  xmlns?: string;
}): string {
  const date = opts.dateModified ?? '2026-01-01T10:00:00.000Z';
  return (
    `<?xml version="1.0" encoding="UTF-8"?><data xmlns="${opts.xmlns ?? 'http://fieldsim.dev/test/form'}" xmlns:jrm="http://dev.commcarehq.org/jr/xforms">` +
    `<case xmlns="${CASE_NS}" case_id="${opts.caseId}" date_modified="${date}" user_id="${opts.userId ?? ''}">${opts.body}</case>` +
    `<orx:meta xmlns:orx="http://openrosa.org/jr/xforms"><orx:deviceID>test</orx:deviceID><orx:timeStart>${date}</orx:timeStart>` +
    `<orx:timeEnd>${date}</orx:timeEnd><orx:username>worker1</orx:username><orx:userID>${opts.userId ?? ''}</orx:userID>` +
    `<orx:instanceID>${opts.instanceId}</orx:instanceID></orx:meta></data>`
  );
}

export function multipart(
  xmlText: string,
  files: { name: string; type: string; data: Uint8Array<ArrayBuffer> }[] = [],
): FormData {
  const fd = new FormData();
  fd.append('xml_submission_file', new Blob([xmlText], { type: 'text/xml' }), 'form.xml');
  for (const f of files) fd.append(f.name, new Blob([f.data], { type: f.type }), f.name);
  return fd;
}

/**
 * `../shared/samples` next to the repository, found by walking up from the tests: the
 * main checkout has it as a sibling, a git worktree deeper down finds it further up.
 */
export function samplesDir(): string {
  let dir = resolve(import.meta.dirname, '../..');
  for (;;) {
    const candidate = join(dir, '..', 'shared', 'samples');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('shared/samples not found above the repository');
    dir = up;
  }
}

/**
 * The demo emulator for one test file: started before its tests, closed after them, with
 * worker1's user id (read the fields inside tests, once `beforeAll` has run).
 */
export function demoEmulator(): { readonly emu: StartedEmulator; readonly w1: string } {
  const fx = {} as { emu: StartedEmulator; w1: string };
  beforeAll(async () => {
    fx.emu = await startEmulator();
    const worker1 = getUserByUsername(fx.emu.app.db, 'worker1@demo.commcarehq.org');
    if (worker1 === undefined) throw new Error('the demo project has no worker1');
    fx.w1 = worker1.id;
  });
  afterAll(async () => {
    await fx.emu.close();
  });
  return fx;
}
