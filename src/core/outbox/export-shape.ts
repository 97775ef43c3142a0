import { FieldsimError } from '../errors/fieldsim-error.ts';

/** As deep as a restore or a form instance may nest (see restore-parser.ts). */
const MAX_JSON_DEPTH = 128;

/**
 * Checks one form of an outbox export file before anything of it is used: the file comes
 * from outside (another device, a user's disk), so a field of the wrong type or a draft
 * nested 100k levels deep (JSON.stringify would overflow the stack) is a typed error for
 * that form, not a crash of the whole import.
 */
export function checkExportedForm(f: unknown): void {
  if (typeof f !== 'object' || f === null || Array.isArray(f))
    throw new FieldsimError('invalid-argument', 'An exported form is not an object');
  const r = f as Record<string, unknown>;
  for (const k of ['instanceId', 'xml', 'xmlns', 'formName', 'state'])
    if (typeof r[k] !== 'string')
      throw new FieldsimError('invalid-argument', `The exported form's ${k} is not a string`);
  if (!Array.isArray(r.attachments) || !Array.isArray(r.caseIds))
    throw new FieldsimError('invalid-argument', `The exported form's attachments or caseIds are not lists`);
  for (const a of r.attachments as unknown[]) {
    const x = a as Record<string, unknown> | null;
    if (
      typeof x !== 'object' ||
      x === null ||
      typeof x.name !== 'string' ||
      typeof x.data !== 'string' ||
      typeof x.type !== 'string'
    )
      throw new FieldsimError(
        'invalid-argument',
        'An exported attachment needs a name, a type and base64 data',
      );
  }
  if (r.draft !== undefined && nestedDeeperThan(r.draft, MAX_JSON_DEPTH))
    throw new FieldsimError(
      'invalid-argument',
      `The exported form's draft is nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
}

/** Whether a parsed JSON value nests objects or arrays deeper than `max` (iterative). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) return true;
    for (const c of Array.isArray(v) ? v : Object.values(v)) stack.push([c, d + 1]);
  }
  return false;
}
