import type { CaseRecord } from '../protocol/casexml/case-types.ts';
import type { FixtureRecord } from '../protocol/restore/restore-types.ts';
import type { SessionUser } from '../suite/suite-context.ts';
import { buildCaseDbInstance } from '../xforms/instances/build-casedb-instance.ts';
import { buildFixtureInstance } from '../xforms/instances/build-fixture-instance.ts';
import { buildSessionInstance } from '../xforms/instances/build-session-instance.ts';
import { resolveInstanceSrc } from '../xforms/instances/resolve-instance-src.ts';
import type { InstanceNode } from '../xforms/tree/instance-node.ts';
import { buildLedgerInstance, type LedgerBalanceRow } from './build-ledger-instance.ts';

/**
 * What a device holds that an app's menus, case lists and forms read: the cases, the
 * fixtures and the user from the last restore. The CLI reads it from a restore file or a
 * worker's state, the runner and the PWA from their local database.
 */
export interface AppDeviceData {
  cases: readonly CaseRecord[];
  fixtures: readonly FixtureRecord[];
  user: SessionUser;
  /** Stock balances (`jr://instance/ledgerdb`); none when absent. */
  ledgers?: readonly LedgerBalanceRow[];
}

/**
 * Secondary instances for one form or screen, built on first use and shared by every
 * `instance()` call of that form. `jr://instance/session` is built from the session's
 * datums (commcare-core `CommCareInstanceInitializer.setupSessionData`); fixtures are
 * matched by id, user-specific ones to this user first (the restore may carry the same
 * id for several users in a case-sharing setup).
 */
export function instanceResolver(
  device: AppDeviceData,
  sessionData: Record<string, string>,
): (src: string, id: string) => InstanceNode | undefined {
  const cache = new Map<string, InstanceNode | undefined>();
  return (src) => {
    if (cache.has(src)) return cache.get(src);
    const source = resolveInstanceSrc(src);
    let doc: InstanceNode | undefined;
    switch (source.kind) {
      case 'casedb':
        doc = buildCaseDbInstance(device.cases);
        break;
      case 'session':
        doc = buildSessionInstance({
          data: sessionData,
          context: {
            deviceid: device.user.deviceid,
            appversion: device.user.appversion,
            username: device.user.username,
            userid: device.user.userid,
          },
          user: { data: device.user.userData ?? {} },
        });
        break;
      case 'ledgerdb':
        doc = buildLedgerInstance(device.ledgers ?? []);
        break;
      case 'fixture': {
        const mine = device.fixtures.filter((f) => f.id === source.id);
        const f = mine.find((x) => x.userId === device.user.userid) ?? mine[0];
        doc = f === undefined ? undefined : buildFixtureInstance(f.root);
        break;
      }
      default:
        doc = undefined;
    }
    cache.set(src, doc);
    return doc;
  };
}
