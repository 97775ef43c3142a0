import type { InstanceNode } from './tree/instance-node.ts';

/** What a form session needs from its host: instances, the user's meta, a clock. */
export interface FormSessionOptions {
  /**
   * The document node of a secondary instance the form declares (`<instance id src>`);
   * undefined makes the session fail with `instance-missing` naming the src and id.
   */
  instances: (src: string, id: string) => InstanceNode | undefined;
  meta: { deviceId: string; username: string; userId: string; appVersion: string };
  env?: { now?: () => Date; random?: () => number; uuid?: () => string };
  language?: string;
}

export type QuestionKind =
  | 'input'
  | 'select1'
  | 'select'
  | 'trigger'
  | 'upload'
  | 'secret'
  | 'group'
  | 'repeat'
  | 'repeat-instance'
  | 'range';

export interface QuestionState {
  /** Instance path with repeat positions (`/data/rep[2]/q`); `#...` for a group without a ref. */
  ref: string;
  kind: QuestionKind;
  dataType: string;
  label: string;
  labelMarkdown?: string;
  hint?: string;
  appearance?: string;
  choices?: { value: string; label: string }[];
  relevant: boolean;
  required: boolean;
  readonly: boolean;
  constraintMessage?: string;
  value: string;
  depth: number;
  parentRef?: string;
  repeat?: { count: number; position?: number; canAdd: boolean; canRemove: boolean };
  fieldList?: boolean;
  mediatype?: string;
}

export interface ValidationIssue {
  ref: string;
  code: 'required' | 'constraint' | 'type';
  message: string;
}

export type AnswerResult =
  | { ok: true; ref: string; value: string }
  | { ok: false; ref: string; issue: ValidationIssue };

export interface FinishedForm {
  /** The serialized primary instance, as submitted to HQ. */
  xml: string;
  instanceId: string;
  xmlns: string;
  name: string;
}

/** A node of the instance in a snapshot (short keys: snapshots are stored per keystroke). */
export interface SnapshotNode {
  n: string;
  ns?: string;
  p?: string;
  a?: [name: string, value: string, namespace: string, prefix: string][];
  d?: Record<string, string>;
  v?: string;
  c?: SnapshotNode[];
}

/** A session's state as JSON: enough to resume after a page reload. */
export interface FormSnapshot {
  version: 1;
  xmlns: string;
  instance: SnapshotNode;
  language: string;
  instanceId: string;
  timeStart: string;
}
