import { cached, type Db } from '../db/db-handle.ts';

/**
 * What a JavaRosa registration records beyond the user row: the phone it came from (HQ
 * keeps it in the user's `device_ids`) and the form that carried it.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS user_registrations (
  user_id TEXT PRIMARY KEY,
  registering_phone_id TEXT NOT NULL,
  form_id TEXT NOT NULL,
  registered_on TEXT NOT NULL
);
`;

export function createRegistrationSchema(db: Db): void {
  db.exec(SCHEMA);
}

export interface RegistrationRow {
  user_id: string;
  registering_phone_id: string;
  form_id: string;
  registered_on: string;
}

export function saveRegistration(db: Db, row: RegistrationRow): void {
  cached(
    db,
    `INSERT INTO user_registrations (user_id, registering_phone_id, form_id, registered_on) VALUES (?, ?, ?, ?)
     ON CONFLICT(user_id) DO UPDATE SET registering_phone_id = excluded.registering_phone_id,
     form_id = excluded.form_id, registered_on = excluded.registered_on`,
  ).run(row.user_id, row.registering_phone_id, row.form_id, row.registered_on);
}

export function getRegistration(db: Db, userId: string): RegistrationRow | undefined {
  return cached(db, 'SELECT * FROM user_registrations WHERE user_id = ?').get(userId) as
    | RegistrationRow
    | undefined;
}
