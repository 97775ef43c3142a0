import type { Db } from '../db/db-handle.ts';
import { createRegistrationSchema } from '../registration/registrations.ts';
import { createDigestSchema } from './digest-store.ts';

/** Tables of the auth and registration modules (Digest HA1s, phone registrations). */
export function createAuthSchema(db: Db): void {
  createDigestSchema(db);
  createRegistrationSchema(db);
}
