import { describe, expect, it } from 'vitest';
import {
  buildSnapshotDraft,
  readSnapshotDraft,
  SNAPSHOT_NODE,
  snapshotInstanceId,
} from '../../../src/core/apps/app-form-snapshot-draft.ts';
import { FormSession, parseXForm } from '../../../src/core/xforms/form-session.ts';

const FORM = `<h:html xmlns:h="http://www.w3.org/1999/xhtml" xmlns="http://www.w3.org/2002/xforms"
  xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/jr/xforms">
<h:head><h:title>T</h:title><model>
<instance><data xmlns="http://t/x"><q/><orx:meta><orx:instanceID/></orx:meta></data></instance>
<setvalue event="xforms-ready" ref="/data/meta/instanceID" value="concat('uuid:', 'fixed')"/>
</model></h:head><h:body><input ref="/data/q"><label>Q</label></input></h:body></h:html>`;

const opts = {
  instances: () => undefined,
  meta: { deviceId: 'd', username: 'u', userId: 'i', appVersion: 'a' },
  env: { uuid: () => 'session-id' },
};

describe('incomplete app forms as outbox drafts', () => {
  it('round-trips the snapshot with the app, entry and datums, under the id the form will submit with', () => {
    const def = parseXForm(FORM, { file: 'f.xml' });
    const s = FormSession.start(def, opts);
    s.answer('/data/q', 'hello');
    const snapshot = s.snapshot();
    expect(snapshotInstanceId(snapshot)).toBe('uuid:fixed');
    const draft = buildSnapshotDraft(
      { appId: 'app1', commandId: 'm0-f1', sessionData: { case_id: 'c1' }, snapshot },
      'Follow up',
    );
    expect(draft.xmlns).toBe('http://t/x');
    expect(draft.name).toBe('Follow up');
    const back = readSnapshotDraft(JSON.parse(JSON.stringify(draft)));
    expect(back?.sessionData).toEqual({ case_id: 'c1' });
    const resumed = FormSession.resume(def, back?.snapshot ?? snapshot, opts);
    expect(resumed.question('/data/q')?.value).toBe('hello');
    expect(resumed.finish().instanceId).toBe('uuid:fixed');
  });

  it('falls back to the session id without a meta instanceID, and ignores other drafts', () => {
    const def = parseXForm(FORM.replace(/<setvalue[^>]*\/>/, ''), { file: 'f.xml' });
    const snap = FormSession.start(def, opts).snapshot();
    expect(snapshotInstanceId(snap)).toBe('session-id');
    expect(readSnapshotDraft({ xmlns: 'x', children: [{ name: 'q', value: 'v' }] })).toBeUndefined();
    expect(
      readSnapshotDraft({ xmlns: 'x', children: [{ name: SNAPSHOT_NODE, value: '{bad' }] }),
    ).toBeUndefined();
    expect(
      readSnapshotDraft({ xmlns: 'x', children: [{ name: SNAPSHOT_NODE, value: '{"appId":"a"}' }] }),
    ).toBeUndefined();
  });
});
