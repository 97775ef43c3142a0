/** For exhaustive switches: a compile error when a case is missing, a throw if reached anyway. */
export function unreachable(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}
