/**
 * Changes a mobile worker's password the way an HQ admin does, through the emulator's user
 * API (`PUT /a/<domain>/api/v0.5/user/<id>/` with `{"password": ...}`, as the demo admin).
 */
export async function changePassword(
  serverUrl: string,
  username: string,
  password: string,
  domain = 'demo',
): Promise<void> {
  const auth = `Basic ${Buffer.from('admin@example.com:fieldsim').toString('base64')}`;
  const list = await fetch(`${serverUrl}/a/${domain}/api/v0.5/user/?limit=100`, {
    headers: { authorization: auth },
  });
  const users = ((await list.json()) as { objects: { id: string; username: string }[] }).objects;
  const full = username.includes('@') ? username : `${username}@${domain}.commcarehq.org`;
  const user = users.find((u) => u.username === full);
  if (!user) throw new Error(`no user ${full}`);
  const res = await fetch(`${serverUrl}/a/${domain}/api/v0.5/user/${user.id}/`, {
    method: 'PUT',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ password }),
  });
  if (res.status !== 200) throw new Error(`password change answered ${res.status}`);
}
