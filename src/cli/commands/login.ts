import { existsSync, rmSync } from 'node:fs';
import { Command } from 'commander';
import { v4 as uuidv4 } from 'uuid';
import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import type { RestoreFlowResult } from '../../core/sync/restore-flow.ts';
import { login, type Session } from '../../core/sync/session.ts';
import type { SendReport } from '../../core/sync/session-types.ts';
import type { SqliteStore } from '../../node-store/sqlite-store.ts';
import { withPreviousPassword } from '../previous-password.ts';
import { scrubAfterMigration, stateIsEncrypted } from '../state/state-encryption.ts';
import type { SessionRecord } from '../state/state-store.ts';
import {
  addWorkerOptions,
  note,
  progressPrinter,
  requireCredentials,
  resolveIdentity,
  runCommand,
  UsageError,
  type WorkerFlags,
} from '../worker-options.ts';
import {
  connectSession,
  openSession,
  platformFor,
  SESSION_OPTIONS,
  storeFor,
  withLoginAs,
} from '../worker-session.ts';

/**
 * `fieldsim login`: the worker's first step (issue 7). With a password: HQ's SSO check
 * (PROTOCOL.md 1), then a full restore when this state holds no data for the user yet.
 * With an API key: HQ's SSO endpoint takes only passwords, so the key is checked by the
 * restore itself (`Authorization: ApiKey`), which also tells us the user's id through its
 * `<Registration>` block (PROTOCOL.md 3.7); a user who already has data gets an incremental
 * sync for that check instead. Forms left unsent by an earlier session are sent.
 *
 * Afterwards the state folder remembers server, domain and user (never the secret), so
 * later commands may omit them.
 */

interface LoginFlags extends WorkerFlags {
  restore?: 'auto' | 'always' | 'never';
  /** Keep the state folder's database unencrypted (the only way for an API-key login). */
  plainState?: boolean;
}

export interface LoginJson {
  user: {
    server: string;
    domain: string;
    username: string;
    userId: string;
    deviceId: string;
    auth: 'password' | 'api-key';
  };
  restore: RestoreFlowResult | null;
  send: SendReport | null;
  cases: { total: number; open: number; closed: number };
  /** Login as (`--as`): the web user who logged in and the worker it acts for (`user` above). */
  loginAs?: { user: string; as: string };
}

/**
 * The restore a login runs. An API key has not been checked by anyone yet, and a login
 * as has not had its `as=` permission checked nor told us the worker's id (HQ's SSO knows
 * only the web user): for those a restore, or a sync on existing data, always runs.
 */
async function restoreFor(
  session: Session,
  flags: LoginFlags,
  mustCheck: boolean,
): Promise<RestoreFlowResult | null> {
  const want = flags.restore ?? 'auto';
  const onProgress = progressPrinter(flags, 'restore');
  const empty = (await session.syncToken()) === null;
  if (want === 'always' || (want === 'auto' && empty)) return session.restore({ onProgress });
  if (mustCheck) return empty ? session.restore({ onProgress }) : session.sync({ onProgress });
  return null;
}

export function registerLogin(program: Command): void {
  const cmd = new Command('login')
    .description('log in a mobile worker (SSO, or API key) and restore its cases into the state folder')
    .addHelpText(
      'after',
      '\nWith --api-key the SSO step is skipped (HQ checks the key on the restore itself).\n' +
        'With --as, --user is a web user acting for that mobile worker (restores with as=, forms in\n' +
        "the worker's name); the pair keeps a state of its own, apart from the worker's.\n" +
        'Examples:\n' +
        '  FIELDSIM_PASSWORD=fieldsim fieldsim login --domain demo --user worker1\n' +
        '  FIELDSIM_PASSWORD=... fieldsim login --domain demo --user admin@example.com --as worker1\n' +
        '  FIELDSIM_API_KEY=... fieldsim login --server https://www.commcarehq.org --domain my-project --user worker1',
    )
    .option(
      '--restore <when>',
      'auto (only when this state has no data for the user), always, or never (an API-key or --as login always restores or syncs: that is how the key or the as= permission is checked)',
      'auto',
    )
    .option(
      '--plain-state',
      'keep the cases and forms in the state folder unencrypted (required with --api-key: a key has no password to encrypt with)',
    );
  addWorkerOptions(cmd);
  cmd.action(async (_opts: unknown, self: Command) => {
    const flags = self.opts<LoginFlags>();
    await runCommand('login', flags, async () => {
      if (!['auto', 'always', 'never'].includes(flags.restore ?? 'auto'))
        throw new FieldsimError('invalid-argument', '--restore must be auto, always or never');
      const store = storeFor(flags);
      const identity = resolveIdentity(flags, store);
      const creds = requireCredentials(flags, 'login');
      // An API key cannot wrap a data key (it is checked by the server only and may be
      // rotated there): no silent fall-back to clear storage (docs/cli.md).
      if (creds.kind === 'api-key' && flags.plainState !== true)
        throw new UsageError(
          'An API key cannot encrypt the state folder: log in with the password (FIELDSIM_PASSWORD), ' +
            'or add --plain-state to keep the cases and forms on disk unencrypted',
        );
      const existed = existsSync(store.userDir(identity));
      const state = store.open(identity, 'login');
      let session: Session | null = null;
      let ok = false;
      let db: SqliteStore | null = null;
      let migrating = false;
      try {
        db = await state.openStore();
        const prev = state.readSession();
        // A plain state of an earlier login is migrated by this one (scrubbed after).
        migrating =
          creds.kind === 'password' &&
          flags.plainState !== true &&
          prev !== null &&
          !(await stateIsEncrypted(db.deps(), identity));
        if (creds.kind === 'password') {
          const deps = db.deps();
          // Password changed on the server and no key escrow: the previous one, once.
          session = await withPreviousPassword((previousPassword) =>
            login({
              serverUrl: identity.server,
              domain: identity.domain,
              username: identity.username,
              ...(identity.as === undefined ? {} : { loginAs: identity.as }),
              password: creds.secret,
              ...(previousPassword === undefined ? {} : { previousPassword }),
              platform: platformFor(deps, { encrypt: flags.plainState !== true }),
              restore: 'never',
              ...SESSION_OPTIONS,
            }),
          );
        } else {
          const draft: SessionRecord = {
            format: 'fieldsim-cli-session',
            version: 1,
            ...identity,
            userId: prev?.userId ?? '',
            deviceId: prev?.deviceId ?? `fieldsim-${uuidv4()}`,
            auth: 'api-key',
            loggedInAt: new Date().toISOString(),
          };
          session = await openSession(db.deps(), draft);
          connectSession(session, creds);
        }
        if (session.unlockOutcome === 'rewrapped')
          note(flags, 'the password was changed on the server: the state is now protected by the new one');
        const restore = await restoreFor(
          session,
          flags,
          creds.kind === 'api-key' || identity.as !== undefined,
        );
        let userId = session.info.userId;
        // The data owner's id: an API key has no SSO answer, and a login as's SSO answer is
        // the web user's; the restore's <Registration> is the worker's (PROTOCOL.md 3.7).
        if (creds.kind === 'api-key' || identity.as !== undefined) {
          const reg = await session.registration();
          if (reg === null || reg.uuid === '')
            throw new FieldsimError(
              'bad-response',
              'The restore carried no <Registration> block with the user id',
            );
          userId = reg.uuid;
        }
        // A password login starts sending earlier sessions' forms in the background; wait
        // for that (or send them now) so this command reports and saves the outcome.
        const counts = await session.outboxCounts();
        const send = counts.queued + counts.sending > 0 ? await session.sendOutbox() : null;
        const record: SessionRecord = {
          format: 'fieldsim-cli-session',
          version: 1,
          ...identity,
          userId,
          ...(identity.as !== undefined && session.info.authenticatedAs?.userId
            ? { authUserId: session.info.authenticatedAs.userId }
            : {}),
          deviceId: session.info.deviceId,
          auth: creds.kind,
          ...(flags.plainState === true ? { plainState: true as const } : {}),
          loggedInAt: new Date().toISOString(),
        };
        state.writeSession(record);
        store.writeCurrent(identity);
        const stats = await session.caseDb.stats();
        const json: LoginJson = {
          user: {
            server: identity.server,
            domain: identity.domain,
            // Whose data and form meta this is: the worker, in a login as.
            username: identity.as ?? identity.username,
            userId,
            deviceId: record.deviceId,
            auth: creds.kind,
          },
          restore,
          send,
          cases: { total: stats.total, open: stats.open, closed: stats.closed },
        };
        const text = [
          (identity.as === undefined
            ? `logged in as ${identity.username}`
            : `${identity.username} logged in as ${identity.as}`) +
            ` (${userId}) on ${identity.server}, domain ${identity.domain}`,
          `cases: ${stats.total} (${stats.open} open, ${stats.closed} closed)` +
            (restore ? `; ${restore.mode} restore in ${(restore.durationMs / 1000).toFixed(1)} s` : ''),
        ];
        if (send)
          text.push(`outbox: ${send.sent} sent, ${send.remaining} waiting, ${send.quarantined} set aside`);
        // The login itself succeeded: forms that could not go out are reported, not fatal.
        if (send !== null && (send.remaining > 0 || send.quarantined > 0))
          note(flags, 'some forms are still unsent: see `fieldsim outbox`');
        ok = true;
        return withLoginAs({ json, text }, identity);
      } finally {
        try {
          session?.close();
          db?.close();
          if (ok && migrating) scrubAfterMigration(state.dbPath);
        } finally {
          state.release();
          // A first login that failed has nothing worth keeping.
          if (!ok && !existed) rmSync(state.dir, { recursive: true, force: true });
        }
      }
    });
  });
  program.addCommand(cmd);
}
