import { encodeKey, InvalidKeyError, isValidKey } from './key-codec.ts';
import { SchemaIdbError } from './schema-idb-error.ts';

/**
 * The IDBKeyRange the Node stores hand Dexie (see schema-idb.ts). Dexie only builds one to
 * learn whether array keys are supported (`IDBKeyRange.only([[]])`, which decides its
 * MAX_KEY) and checks that the class exists before a where-clause; key ranges of queries
 * reach our DBCores as Dexie's own DBCoreKeyRange objects. Keys are checked as IndexedDB
 * checks them (key-codec.ts), so an invalid one is the DataError a browser raises.
 */
export class SchemaKeyRange {
  readonly lower: unknown;
  readonly upper: unknown;
  readonly lowerOpen: boolean;
  readonly upperOpen: boolean;

  private constructor(lower: unknown, upper: unknown, lowerOpen: boolean, upperOpen: boolean) {
    this.lower = lower;
    this.upper = upper;
    this.lowerOpen = lowerOpen;
    this.upperOpen = upperOpen;
  }

  static only(value: unknown): SchemaKeyRange {
    check(value);
    return new SchemaKeyRange(value, value, false, false);
  }

  static lowerBound(lower: unknown, open = false): SchemaKeyRange {
    check(lower);
    return new SchemaKeyRange(lower, undefined, open, true);
  }

  static upperBound(upper: unknown, open = false): SchemaKeyRange {
    check(upper);
    return new SchemaKeyRange(undefined, upper, true, open);
  }

  static bound(lower: unknown, upper: unknown, lowerOpen = false, upperOpen = false): SchemaKeyRange {
    check(lower);
    check(upper);
    const c = Buffer.compare(encodeKey(lower), encodeKey(upper));
    if (c > 0 || (c === 0 && (lowerOpen || upperOpen)))
      throw new InvalidKeyError('The lower bound of a key range is greater than its upper bound');
    return new SchemaKeyRange(lower, upper, lowerOpen, upperOpen);
  }

  includes(_key: unknown): boolean {
    throw new SchemaIdbError('IDBKeyRange.includes');
  }
}

function check(key: unknown): void {
  if (!isValidKey(key)) throw new InvalidKeyError(`${String(key)} is not a valid IndexedDB key`);
}

/** As the DOM's type, for `IndexedDbDeps`: the members Dexie reads are all there. */
export const schemaKeyRange = SchemaKeyRange as unknown as typeof IDBKeyRange;
