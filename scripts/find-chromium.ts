import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** Where the test command and the browser tests look for Chromium, in order. */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export class ChromiumMissingError extends Error {
  readonly code = 'chromium-missing';
}

function findExisting(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new ChromiumMissingError(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

function isDebianRoot(): boolean {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return isRoot && existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get');
}

/**
 * Returns a Chromium executable, installing Debian's `chromium` package first when none
 * exists and we run as root on Debian. Never downloads a browser build of its own.
 */
export function ensureChromium(log: (line: string) => void = console.log): string {
  const found = findExisting();
  if (found) return found;
  if (isDebianRoot()) {
    log('Chromium not found: installing Debian package "chromium" with apt-get');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    const after = findExisting();
    if (after) return after;
  }
  const distro = existsSync('/etc/os-release')
    ? readFileSync('/etc/os-release', 'utf8').match(/^ID=(.*)$/m)?.[1]
    : '';
  throw new ChromiumMissingError(
    `No Chromium found (looked at CHROMIUM_PATH, ${CHROMIUM_CANDIDATES.join(', ')}).\n` +
      `Install one, for example on Debian/Ubuntu: sudo apt-get install chromium` +
      (distro ? ` (this machine: ${distro})` : '') +
      `, or set CHROMIUM_PATH to a Chromium/Chrome executable.`,
  );
}

/** Flags every browser test launches Chromium with (see docs/development.md, "Browser tests"). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];
