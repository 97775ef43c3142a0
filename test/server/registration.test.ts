import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../helpers/start-emulator.ts';
import { basic, kids, text, xml } from './helpers.ts';

let emu: StartedEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

function registration(
  f: Partial<Record<'username' | 'password' | 'uuid' | 'date' | 'phone', string>>,
  data = '',
) {
  const el = (name: string, v: string | undefined) => (v === undefined ? '' : `<${name}>${v}</${name}>`);
  return `<?xml version="1.0"?><registration xmlns="http://openrosa.org/user/registration">${el('username', f.username)}${el('password', f.password)}${el('uuid', f.uuid)}${el('date', f.date)}${el('registering_phone_id', f.phone)}<user_data>${data}</user_data></registration>`;
}

function post(body: string, auth = basic('worker1')) {
  return fetch(`${emu.url}/a/demo/receiver/`, {
    method: 'POST',
    body,
    headers: { authorization: auth, 'content-type': 'text/xml', 'x-openrosa-version': '3.0' },
  });
}

async function userCount(): Promise<number> {
  const res = await fetch(`${emu.url}/a/demo/api/v0.5/user/?limit=1000`, {
    headers: { authorization: basic('admin@example.com') },
  });
  return ((await res.json()) as { objects: unknown[] }).objects.length;
}

describe('User Registration through the receiver', () => {
  it('creates the mobile worker and answers the registration, which then logs in and restores', async () => {
    const res = await post(
      registration(
        {
          username: 'Nurse Ana',
          password: 'secret-pw',
          uuid: 'REGUUID00000000000000001',
          date: '2026-03-23',
          phone: 'PHONE-7',
        },
        '<data key="user_type">normal</data><data key="village">hilltop</data>',
      ),
    );
    expect(res.status).toBe(201);
    const body = xml(await res.text());
    const [message] = kids(body, 'message');
    expect(message!.attrs.nature).toBe('submit_user_registered');
    expect(message!.text).toBe('Thanks for registering! Your username is nurse.ana@demo.commcarehq.org');
    const [reg] = kids(body, 'Registration');
    expect(reg!.ns).toBe('http://openrosa.org/user/registration');
    expect(text(reg, 'username')).toBe('nurse.ana');
    expect(text(reg, 'uuid')).toBe('REGUUID00000000000000001');
    expect(text(reg, 'date')).toBe('2026-03-23');
    expect(res.headers.get('x-commcarehq-formid')).toBeTruthy();

    const restore = await fetch(`${emu.url}/a/demo/phone/restore/?version=2.0`, {
      headers: { authorization: basic('nurse.ana', 'secret-pw') },
    });
    expect(restore.status).toBe(200);
    expect(await restore.text()).toContain('<data key="village">hilltop</data>');
    // The form itself is kept, as HQ keeps it.
    const form = await fetch(
      `${emu.url}/a/demo/api/form/attachment/${res.headers.get('x-commcarehq-formid')}/form.xml`,
      {
        headers: { authorization: basic('admin@example.com') },
      },
    );
    expect(form.status).toBe(200);
  });

  it('a second registration with the same uuid updates the worker (submit_user_updated)', async () => {
    const res = await post(
      registration(
        { username: 'nurse.ana', password: 'new-pw', uuid: 'REGUUID00000000000000001' },
        '<data key="user_type">boss</data>',
      ),
    );
    expect(res.status).toBe(201);
    expect(kids(xml(await res.text()), 'message')[0]!.attrs.nature).toBe('submit_user_updated');
    const old = await fetch(`${emu.url}/a/demo/phone/restore/?version=2.0`, {
      headers: { authorization: basic('nurse.ana', 'secret-pw') },
    });
    expect(old.status).toBe(401);
    const now = await fetch(`${emu.url}/a/demo/phone/restore/?version=2.0`, {
      headers: { authorization: basic('nurse.ana', 'new-pw') },
    });
    const restored = await now.text();
    expect(restored).toContain('<data key="user_type">boss</data>');
    expect(restored).toContain('<data key="village">hilltop</data>');
  });

  it('keeps a Django sha1 hash from a JavaRosa phone as the verifier', async () => {
    const salt = 'abc12';
    const hash = `sha1$${salt}$${createHash('sha1').update(`${salt}1982`).digest('hex')}`;
    const res = await post(
      registration({ username: 'test_reg', password: hash, uuid: 'BXPKZLP49P3DDTJH3W0BRM2HV' }),
    );
    expect(res.status).toBe(201);
    const reg = kids(xml(await res.text()), 'Registration')[0]!;
    expect(text(reg, 'password')).toBe(hash);
    const ok = await fetch(`${emu.url}/a/demo/phone/restore/?version=2.0`, {
      headers: { authorization: basic('test_reg', '1982') },
    });
    expect(ok.status).toBe(200);
  });

  it('refuses malformed registrations and taken usernames with 422 and creates no one', async () => {
    const before = await userCount();
    const cases: [string, RegExp, string][] = [
      [registration({ password: 'x', uuid: 'U1' }), /missing username/, 'registration-invalid'],
      [registration({ username: 'bob', uuid: 'U2' }), /missing password/, 'registration-invalid'],
      [registration({ username: 'bob', password: 'x' }), /missing uuid/, 'registration-invalid'],
      [registration({ username: 'b!ob', password: 'x', uuid: 'U3' }), /may use only/, 'registration-invalid'],
      [
        registration({ username: 'bob', password: 'x', uuid: 'U4', date: 'yesterday' }),
        /not a date/,
        'registration-invalid',
      ],
      [
        registration({ username: 'bob@other.commcarehq.org', password: 'x', uuid: 'U5' }),
        /not a mobile worker of project/,
        'registration-invalid',
      ],
      [
        registration({ username: 'bob', password: 'x', uuid: 'U6' }, '<data>no key</data>'),
        /without a key/,
        'registration-invalid',
      ],
      [
        registration({ username: 'worker2', password: 'x', uuid: 'U7' }),
        /Username 'worker2@demo.commcarehq.org' is already taken/,
        'username-taken',
      ],
    ];
    for (const [body, reason, code] of cases) {
      const res = await post(body);
      expect(res.status).toBe(422);
      expect(res.headers.get('x-fieldsim-error')).toBe(code);
      const msg = kids(xml(await res.text()), 'message')[0]!;
      expect(msg.attrs.nature).toBe('processing_failure');
      expect(msg.text).toMatch(reason);
    }
    // The id of a web user cannot be taken over by a registration.
    const web = await fetch(`${emu.url}/a/demo/api/v0.5/web-user/`, {
      headers: { authorization: basic('admin@example.com') },
    });
    const adminId = ((await web.json()) as { objects: { id: string }[] }).objects[0]!.id;
    const takeover = await post(registration({ username: 'bob', password: 'x', uuid: adminId }));
    expect(takeover.status).toBe(422);
    expect(takeover.headers.get('x-fieldsim-error')).toBe('uuid-conflict');
    expect(await userCount()).toBe(before);
  });

  it('needs credentials like any submission', async () => {
    const res = await fetch(`${emu.url}/a/demo/receiver/`, {
      method: 'POST',
      body: registration({ username: 'anon', password: 'x', uuid: 'U9' }),
    });
    expect(res.status).toBe(401);
  });
});
