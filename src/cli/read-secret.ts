import { UsageError } from './worker-options.ts';

/**
 * A secret from the environment variable `envName`, else typed at a terminal prompt with
 * no echo. Never from a flag. Without a terminal and without the variable: a usage error.
 */
export async function readSecret(envName: string, prompt: string): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const stdin = process.stdin;
  if (!stdin.isTTY)
    throw new UsageError(`${envName} is not set and there is no terminal to ask for the password`);
  process.stderr.write(prompt);
  const value = await new Promise<string>((resolve, reject) => {
    let typed = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
  if (value === '') throw new UsageError('The password is empty');
  return value;
}
