import { InstanceNode } from '../tree/instance-node.ts';

export interface SessionInstanceInput {
  /** The session's datums (`case_id`, `case_id_new_household_0`...). */
  data: Record<string, string>;
  context: { deviceid: string; appversion: string; username: string; userid: string };
  /** The user's custom data from the restore's `<Registration><user_data>`. */
  user?: { data: Record<string, string> };
}

/**
 * `jr://instance/session` (commcare-core `SessionInstanceBuilder`):
 * `<session><data>datums</data><context>deviceid, appversion, username, userid</context>
 * <user><data>user fields</data></user></session>`.
 */
export function buildSessionInstance(input: SessionInstanceInput): InstanceNode {
  const doc = InstanceNode.document();
  const session = doc.appendChild(new InstanceNode('element', 'session'));
  const data = session.appendChild(new InstanceNode('element', 'data'));
  for (const [k, v] of Object.entries(input.data)) leaf(data, k, v);
  const context = session.appendChild(new InstanceNode('element', 'context'));
  leaf(context, 'deviceid', input.context.deviceid);
  leaf(context, 'appversion', input.context.appversion);
  leaf(context, 'username', input.context.username);
  leaf(context, 'userid', input.context.userid);
  const user = session.appendChild(new InstanceNode('element', 'user'));
  const userData = user.appendChild(new InstanceNode('element', 'data'));
  for (const [k, v] of Object.entries(input.user?.data ?? {})) leaf(userData, k, v);
  return doc;
}

function leaf(parent: InstanceNode, name: string, value: string): void {
  const n = parent.appendChild(new InstanceNode('element', name));
  n.value = value;
}
