import type { FormDraft } from '../protocol/submission/form-types.ts';
import type { FormSnapshot, SnapshotNode } from '../xforms/form-session-types.ts';

/**
 * An incomplete form of an installed app, kept in the outbox's incomplete drafts (the same
 * list, "Resume" and export as every other form) rather than in a store of its own: the
 * outbox already keeps drafts per user, never sends them and lets a completed form
 * replace its draft in one transaction. The draft carries the engine's snapshot plus what
 * reopens the form where it was: the app, the entry and the session's datums (the
 * phone's saved forms keep their session frame the same way, commcare-android
 * `FormRecord` + `SessionStateDescriptor`).
 */
export interface AppFormDraftState {
  appId: string;
  commandId: string;
  sessionData: Record<string, string>;
  snapshot: FormSnapshot;
}

/** The one node of such a draft; its value is the state as JSON. */
export const SNAPSHOT_NODE = 'fieldsim_form_snapshot';

/**
 * The instanceID the form will be submitted with: the meta block's `instanceID` once the
 * form set it (HQ forms do on `xforms-ready`), else the session's own id, as `finish()`
 * decides. Saving the draft under this id lets the completed form replace it.
 */
export function snapshotInstanceId(snap: FormSnapshot): string {
  const meta = snap.instance.c?.find((c: SnapshotNode) => c.n === 'meta');
  const id = meta?.c?.find((c: SnapshotNode) => c.n === 'instanceID')?.v;
  return id !== undefined && id !== '' ? id : snap.instanceId;
}

export function buildSnapshotDraft(state: AppFormDraftState, name: string): FormDraft {
  return {
    xmlns: state.snapshot.xmlns,
    name,
    children: [{ name: SNAPSHOT_NODE, value: JSON.stringify(state) }],
  };
}

/** The state of a draft written by `buildSnapshotDraft`, or undefined for any other draft. */
export function readSnapshotDraft(draft: FormDraft): AppFormDraftState | undefined {
  const node = draft.children.find((n) => 'name' in n && n.name === SNAPSHOT_NODE);
  if (node === undefined || !('value' in node)) return undefined;
  try {
    const v = JSON.parse(node.value) as Partial<AppFormDraftState>;
    if (
      typeof v.appId !== 'string' ||
      typeof v.commandId !== 'string' ||
      typeof v.sessionData !== 'object' ||
      v.sessionData === null ||
      typeof v.snapshot !== 'object' ||
      v.snapshot === null ||
      v.snapshot.version !== 1
    )
      return undefined;
    return v as AppFormDraftState;
  } catch {
    return undefined;
  }
}
