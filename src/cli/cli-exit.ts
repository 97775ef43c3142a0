/**
 * Thrown by a command to stop with a given exit status after printing its own output.
 * It lives apart from main.ts so that commands, which main.ts imports, never import main.ts
 * back (an import cycle).
 */
export class CliExit extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`exit ${status}`);
    this.status = status;
  }
}
