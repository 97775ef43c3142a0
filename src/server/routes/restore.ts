import type { Hono } from 'hono';
import { NS } from '../../core/protocol/namespaces.ts';
import { escapeXmlText } from '../../core/protocol/xml-escape.ts';
import {
  type Ctx,
  dropConnection,
  type Env,
  guardPhoneRequest,
  type Hq,
  OPENROSA_RESPONSE_NS,
} from '../context.ts';
import {
  canEditCommCareUsers,
  getUserByUsername,
  normalizeLogin,
  ownerIds,
  type UserRow,
} from '../db/users.ts';
import { AsyncRestores } from '../restore/async-restore.ts';
import { planRestore, type RestorePlan } from '../restore/generate.ts';
import { canRestoreAsByLocation } from '../restore/location-access.ts';
import { cachedRestore, rememberRestore } from '../restore/restore-cache.ts';
import { caseStateHash } from '../restore/state-hash.ts';
import { getSyncLog, pruneSyncLogs, type SyncLog, saveSyncLog } from '../restore/sync-logs.ts';

const LEGAL_VERSIONS = new Set(['1.0', '2.0', '3.0']);
const XML = 'text/xml; charset=utf-8';

/** 412 with an `ota_restore_error` body: how HQ answers every `RestoreException`. */
function restoreError(c: Ctx, message: string): Response {
  const body = `<OpenRosaResponse xmlns="${OPENROSA_RESPONSE_NS}"><message nature="ota_restore_error">${escapeXmlText(message)}</message></OpenRosaResponse>`;
  return c.body(body, 412, { 'Content-Type': XML });
}

function openRosaVersion(c: Ctx): number {
  const raw = c.req.header('x-openrosa-version') ?? c.req.query('openrosa_version') ?? '';
  const v = Number.parseFloat(raw);
  return Number.isFinite(v) ? v : 0;
}

/**
 * Resolves `as=` (PROTOCOL.md 3.2) with `is_permitted_to_restore`
 * (hq:corehq/apps/ota/utils.py): the target must be a user of the domain; restoring as
 * yourself is always allowed; otherwise a web user of the domain may, and a mobile worker
 * only with the edit_commcare_users permission, and a location-restricted user only as
 * users at its locations (location-access.ts). Refusals are 401 with HQ's text.
 */
function restoreUser(hq: Hq, c: Ctx, domain: string, auth: UserRow): UserRow | Response {
  const as = c.req.query('as');
  if (!as) return auth;
  const target = getUserByUsername(hq.db, normalizeLogin(as, domain));
  if (!target || target.domain !== domain || target.deleted === 1)
    return c.text(`Invalid restore as user ${as}`, 401);
  if (target.id === auth.id) return target;
  if (auth.kind === 'mobile' && !canEditCommCareUsers(auth))
    return c.text(`${auth.username} does not have permission to edit commcare users`, 401);
  if (!canRestoreAsByLocation(hq.db, auth, target))
    return c.text(`Restore user ${target.username} not in allowed locations`, 401);
  return target;
}

function progressBody(username: string, done: number, total: number, retryAfter: number): string {
  return (
    `<OpenRosaResponse xmlns="${OPENROSA_RESPONSE_NS}">` +
    `<message nature="ota_restore_pending">Asynchronous restore under way for ${escapeXmlText(username)}</message>` +
    `<Sync xmlns="${NS.sync}"><progress done="${done}" total="${total}" retry-after="${retryAfter}"/></Sync>` +
    '</OpenRosaResponse>'
  );
}

/** Writes the payload: small ones in one piece with Content-Length, large ones streamed. */
function payloadResponse(c: Ctx, plan: RestorePlan, items: boolean): Response {
  if (plan.caseCount <= 2000) {
    const body = [...plan.chunks(items)].join('');
    return c.body(body, 200, { 'Content-Type': XML, 'Content-Length': String(Buffer.byteLength(body)) });
  }
  const gen = plan.chunks(items);
  const enc = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = gen.next();
      if (next.done) controller.close();
      else controller.enqueue(enc.encode(next.value));
    },
    cancel() {
      gen.return(undefined);
    },
  });
  return c.body(stream, 200, { 'Content-Type': XML });
}

function commitLog(hq: Hq, log: SyncLog): void {
  hq.db.transaction(() => {
    saveSyncLog(hq.db, log);
    pruneSyncLogs(hq.db, log);
  })();
}

/**
 * `GET /a/<domain>/phone/restore/[<app_id>/]` (PROTOCOL.md 3): full and incremental OTA
 * restores with HQ's livequery selection, sync logs, `state` checks, 412s, async 202s.
 */
export function registerRestore(app: Hono<Env>, hq: Hq): void {
  const handler = async (c: Ctx): Promise<Response> => {
    const domain = c.req.param('domain') ?? '';
    const gate = await guardPhoneRequest(hq, c, domain, 'restore');
    if (gate instanceof Response) return gate;
    const auth = gate.user;
    const user = restoreUser(hq, c, domain, auth);
    if (user instanceof Response) return user;

    const version = c.req.query('version') ?? '2.0';
    if (!LEGAL_VERSIONS.has(version)) return restoreError(c, `Invalid version: ${version}`);
    const userIdParam = c.req.query('user_id');
    if (userIdParam && userIdParam !== user.id) return restoreError(c, 'Attempt to sync with invalid user.');
    if (user.force_412 === 1) {
      hq.db.prepare('UPDATE users SET force_412 = 0 WHERE id = ?').run(user.id);
      return restoreError(c, 'Forced 412 for this user (fieldsim switch)');
    }

    const sinceParam = c.req.query('since') || undefined;
    const deviceId = c.req.query('device_id') ?? c.req.header('x-openrosa-deviceid') ?? '';
    let since: SyncLog | undefined;
    if (sinceParam) {
      since = getSyncLog(hq.db, sinceParam);
      if (!since) return restoreError(c, `No sync log found with id ${sinceParam}`);
      if (since.userId !== user.id || since.domain !== domain)
        return restoreError(c, `Sync log ${sinceParam} does not belong to this user`);
      const state = c.req.query('state');
      if (state !== undefined && !deviceId.startsWith('WebAppsLogin')) {
        const m = /^ccsh:(.*)$/i.exec(state);
        const phoneHash = m ? (m[1] ?? '').toLowerCase() : state;
        const serverHash = caseStateHash(since.caseIdsOnPhone);
        if (phoneHash !== serverHash)
          return restoreError(
            c,
            `Phone case list is inconsistent with server's record (${phoneHash} != ${serverHash})`,
          );
      }
    }
    const items = c.req.query('items') === 'true';
    const skipFixtures = c.req.query('skip_fixtures') === 'true';
    const appId = c.req.param('appId') ?? '';

    const cacheKey = {
      key: [auth.id, user.id, deviceId, version, items, skipFixtures, appId].join('|'),
      userIds: [auth.id, user.id],
    };
    if (!since) {
      const hit = cachedRestore(hq, cacheKey, c.req.query('overwrite_cache') === 'true');
      if (hit !== undefined) return c.body(hit, 200, { 'Content-Type': XML });
    }
    const asyncKey = AsyncRestores.key(user.id, sinceParam ?? '', deviceId);
    const task = hq.asyncRestores.get(asyncKey);
    let plan: RestorePlan;
    if (task) {
      task.polls++;
      if (task.polls < hq.settings.asyncPolls) {
        const done = Math.floor((task.total * task.polls) / hq.settings.asyncPolls);
        return c.body(progressBody(user.username, done, task.total, hq.settings.asyncRetryAfter), 202, {
          'Content-Type': XML,
          'Retry-After': String(hq.settings.asyncRetryAfter),
        });
      }
      hq.asyncRestores.finish(asyncKey);
      plan = task.plan;
    } else {
      plan = planRestore(
        hq.db,
        { domain, user, since, skipFixtures, deviceId, appId },
        ownerIds(hq.db, user),
      );
      const threshold = hq.settings.asyncRestoreThreshold;
      if (threshold !== null && plan.caseCount > threshold && openRosaVersion(c) >= 2) {
        hq.asyncRestores.start(asyncKey, plan);
        return c.body(progressBody(user.username, 0, plan.caseCount, hq.settings.asyncRetryAfter), 202, {
          'Content-Type': XML,
          'Retry-After': String(hq.settings.asyncRetryAfter),
        });
      }
    }
    commitLog(hq, plan.log);
    if (gate.dropAfterStore) return dropConnection(c);
    if (!since && hq.settings.restoreCacheSeconds !== null) {
      const body = [...plan.chunks(items)].join('');
      rememberRestore(hq, cacheKey, body);
      return c.body(body, 200, { 'Content-Type': XML });
    }
    return payloadResponse(c, plan, items);
  };
  for (const p of [
    '/a/:domain/phone/restore/',
    '/a/:domain/phone/restore',
    '/a/:domain/phone/restore/:appId/',
  ])
    app.get(p, handler);
}
