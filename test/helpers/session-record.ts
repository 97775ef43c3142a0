import type { SessionRecord } from '../../src/cli/state/state-store.ts';

/** A CLI state folder's session record for tests that build a folder without logging in. */
export function testSessionRecord(over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    format: 'fieldsim-cli-session',
    version: 1,
    server: 'http://127.0.0.1:8000',
    domain: 'demo',
    username: 'worker1@demo.commcarehq.org',
    userId: 'user-1',
    deviceId: 'fieldsim-test-device',
    auth: 'password',
    loggedInAt: '2026-01-01T00:00:00Z',
    ...over,
  };
}
