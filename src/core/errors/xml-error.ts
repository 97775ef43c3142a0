import type { ErrorCode } from './codes.ts';
import { FieldsimError } from './fieldsim-error.ts';

export interface XmlPosition {
  line?: number;
  column?: number;
  /** Element path such as `OpenRosaResponse/case[3]/index`. */
  path?: string;
}

/** Malformed XML or XML that breaks a protocol rule (CaseXML, fixtures, restore layout). */
export class XmlError extends FieldsimError {
  override readonly name = 'XmlError';
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly path: string | undefined;
  /** The case the error is about, when there is one. */
  readonly caseId: string | undefined;

  constructor(
    code: Extract<
      ErrorCode,
      | 'xml-malformed'
      | 'xml-invalid'
      | 'xml-too-large'
      | 'case-invalid'
      | 'case-not-found'
      | 'fixture-invalid'
      | 'invalid-case-graph'
    >,
    message: string,
    position: XmlPosition & { caseId?: string; cause?: unknown } = {},
  ) {
    super(code, message, { cause: position.cause });
    this.line = position.line;
    this.column = position.column;
    this.path = position.path;
    this.caseId = position.caseId;
  }
}
