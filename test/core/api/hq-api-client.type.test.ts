import { describe, expectTypeOf, it } from 'vitest';
import {
  type ApiAuth,
  type ApiCase,
  type ApiForm,
  type ApiMeta,
  type ApiPage,
  type AppStructure,
  type Group,
  HqApiClient,
  type MobileWorker,
  type WebUser,
} from '../../../src/core/index.ts';

/**
 * The public shape other modules code against (the QA runner, the CLI): these names and
 * signatures are a contract. `npm run typecheck` checks this file; the runtime part only
 * builds a client.
 */
describe('HqApiClient public types', () => {
  it('keeps the agreed names and shapes', () => {
    const auth: ApiAuth = { kind: 'api-key', username: 'admin@example.com', key: 'k' };
    const api = new HqApiClient({
      serverUrl: 'http://127.0.0.1:8000',
      domain: 'demo',
      auth,
      fetch: (input, init) => fetch(input, init),
      retry: { maxAttempts: 3, baseMs: 10, capMs: 100 },
      sleep: async () => {},
    });
    expectTypeOf(api.users.list).returns.resolves.toEqualTypeOf<ApiPage<MobileWorker>>();
    expectTypeOf(api.users.iterate({ group: 'g' })).toMatchTypeOf<AsyncIterable<MobileWorker>>();
    expectTypeOf(api.users.get).returns.resolves.toEqualTypeOf<MobileWorker>();
    expectTypeOf(api.users.create).parameter(0).toMatchTypeOf<{ username: string; password?: string }>();
    expectTypeOf(api.users.create).returns.resolves.toEqualTypeOf<MobileWorker>();
    expectTypeOf(api.users.edit).returns.resolves.toEqualTypeOf<MobileWorker>();
    expectTypeOf(api.users.delete).returns.resolves.toBeVoid();
    expectTypeOf(api.webUsers.list).returns.resolves.toEqualTypeOf<ApiPage<WebUser>>();
    expectTypeOf(api.webUsers.create).returns.resolves.toEqualTypeOf<WebUser>();
    expectTypeOf(api.webUsers.edit).returns.resolves.toEqualTypeOf<WebUser>();
    expectTypeOf(api.groups.list).returns.resolves.toEqualTypeOf<ApiPage<Group>>();
    expectTypeOf(api.groups.create).returns.resolves.toEqualTypeOf<Group>();
    expectTypeOf(api.groups.edit).returns.resolves.toEqualTypeOf<Group>();
    expectTypeOf(api.cases.list).parameter(0).toMatchTypeOf<
      | {
          owner_id?: string;
          user_id?: string;
          type?: string;
          closed?: boolean;
          date_modified_start?: Date | string;
          server_date_modified_end?: Date | string;
          indexed_on_start?: Date | string;
          external_id?: string;
          name?: string;
          limit?: number;
          offset?: number;
        }
      | undefined
    >();
    expectTypeOf(api.cases.iterate({ type: 'household' })).toMatchTypeOf<AsyncIterable<ApiCase>>();
    expectTypeOf(api.cases.get)
      .parameter(1)
      .toMatchTypeOf<{ childCasesFull?: boolean; parentCasesFull?: boolean } | undefined>();
    expectTypeOf(api.forms.list).returns.resolves.toEqualTypeOf<ApiPage<ApiForm>>();
    expectTypeOf(api.forms.get).returns.resolves.toEqualTypeOf<ApiForm>();
    expectTypeOf(api.applications.list).returns.resolves.toEqualTypeOf<AppStructure[]>();
    expectTypeOf(api.applications.get).returns.resolves.toEqualTypeOf<AppStructure>();
    expectTypeOf<ApiMeta>().toEqualTypeOf<{
      limit: number | null;
      offset: number;
      next: string | null;
      previous: string | null;
      total_count: number;
    }>();
    expectTypeOf<ApiCase['properties']['case_name']>().toEqualTypeOf<string>();
    expectTypeOf<ApiCase['unknown_future_field']>().toBeUnknown();
  });
});
