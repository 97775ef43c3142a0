import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type AppFormDraftState, readSnapshotDraft } from '../../core/apps/app-form-snapshot-draft.ts';
import type { OutboxItem } from '../../core/sync/session-types.ts';
import { backend } from '../state/app-state.ts';
import { href } from '../state/router.ts';

/**
 * `Resume form N` for an incomplete form of an installed app: it reopens where it was
 * (app, entry, chosen cases) with its answers. Other drafts keep their own link (`fallback`).
 */
export function AppDraftResume({ item, fallback }: { item: OutboxItem; fallback: ComponentChildren }) {
  const [state, setState] = useState<AppFormDraftState | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    void backend.value
      ?.getDraft(item.instanceId)
      .then((d) => live && setState((d && readSnapshotDraft(d)) ?? null))
      .catch(() => live && setState(null));
    return () => {
      live = false;
    };
  }, [item.instanceId]);
  if (state === undefined) return null;
  if (state === null) return <>{fallback}</>;
  return (
    <div>
      <a
        class="button secondary"
        href={href({
          name: 'app',
          appId: state.appId,
          command: state.commandId,
          data: state.sessionData,
          draft: item.instanceId,
        })}
        aria-label={`Resume form ${item.seq}`}
      >
        Resume
      </a>
    </div>
  );
}
