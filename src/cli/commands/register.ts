import { Command } from 'commander';
import { v4 as uuidv4 } from 'uuid';
import { HqClient } from '../../core/http/hq-client.ts';
import { registerUser } from '../../core/sync/register-user.ts';
import { readSecret } from '../read-secret.ts';
import {
  addWorkerOptions,
  collectPair,
  flagsOf,
  requireCredentials,
  resolveIdentity,
  runCommand,
  UsageError,
  type WorkerFlags,
} from '../worker-options.ts';
import { storeFor } from '../worker-session.ts';

interface RegisterFlags extends WorkerFlags {
  uuid?: string;
  date?: string;
  phoneId?: string;
  data?: [string, string][];
  clearPassword?: boolean;
  digest?: boolean;
}

/**
 * `fieldsim register <username>`: registers a new mobile worker the way a JavaRosa phone
 * does, with a registration form posted to the receiver under the credentials of
 * `--user` (core `registerUser`). The new worker's password comes from
 * FIELDSIM_NEW_PASSWORD or a prompt, never from a flag (flags show in `ps` and history).
 */
export function registerRegister(program: Command): void {
  const cmd = new Command('register')
    .description('register a new mobile worker through the receiver (JavaRosa User Registration)')
    .argument('<username>', 'the new worker: short name or name@<domain>.commcarehq.org')
    .option('--uuid <id>', 'the new user id (default random); an existing worker id updates that worker')
    .option('--date <yyyy-mm-dd>', 'join date (default today)')
    .option('--phone-id <id>', 'registering_phone_id (default a new device id)')
    .option('--data <key=value>', 'user data, repeatable', collectPair)
    .option(
      '--clear-password',
      'send the new password in clear (lets the server derive Digest credentials) instead of a PBKDF2 hash',
    )
    .option('--digest', 'authenticate --user with HTTP Digest instead of Basic');
  addWorkerOptions(cmd);
  cmd.action(async (username: string, _opts: unknown, command: Command) => {
    const flags = flagsOf<RegisterFlags>(command);
    await runCommand('register', flags, async () => {
      const identity = resolveIdentity(flags, storeFor(flags));
      const credentials = requireCredentials(flags, 'register');
      if (flags.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(flags.date))
        throw new UsageError(`--date must be YYYY-MM-DD, got "${flags.date}"`);
      const password = await readSecret('FIELDSIM_NEW_PASSWORD', `Password for ${username}: `);
      const client = new HqClient({
        serverUrl: identity.server,
        domain: identity.domain,
        username: identity.username,
        password: credentials.kind === 'password' ? credentials.secret : '',
        ...(credentials.kind === 'api-key' ? { apiKey: credentials.secret } : {}),
        ...(flags.digest ? { auth: 'digest' as const } : {}),
        deviceId: flags.phoneId ?? uuidv4(),
      });
      const r = await registerUser(client, {
        username,
        password,
        ...(flags.uuid === undefined ? {} : { uuid: flags.uuid }),
        ...(flags.date === undefined ? {} : { date: flags.date }),
        userData: Object.fromEntries(flags.data ?? []),
        ...(flags.clearPassword ? { clearPassword: true } : {}),
      });
      return {
        json: { registered: r },
        text: [`${r.created ? 'Registered' : 'Updated'} ${r.username} (id ${r.uuid}) on ${identity.domain}`],
      };
    });
  });
  program.addCommand(cmd);
}
