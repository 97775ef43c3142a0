import type { XmlNode } from '../../core/protocol/restore/restore-types.ts';

/**
 * Names for the owner ids a worker meets on cases: the worker itself (its user id), the
 * case-sharing groups of the restore's `user-groups` fixture (`<group id><name>`, HQ's
 * UserGroupsFixtureProvider) and the locations of the flat `locations` fixture
 * (`<location id><name>`, HQ's FlatLocationSerializer). An id not found stays as it is,
 * so nothing is hidden.
 */
export function ownerNamesFrom(
  fixtureRoots: readonly XmlNode[],
  self: { userId: string; username: string },
): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (n: XmlNode): void => {
    if (n.name === 'group' || n.name === 'location') {
      const id = n.attributes.id;
      const name = n.children.find((c) => c.name === 'name')?.text.trim();
      if (id && name && !out.has(id)) out.set(id, name);
    }
    for (const c of n.children) visit(c);
  };
  for (const r of fixtureRoots) visit(r);
  if (self.userId) out.set(self.userId, self.username.split('@')[0] ?? self.username);
  return out;
}

/** "Demo field team" for a known id, the id itself otherwise. */
export function ownerLabel(names: ReadonlyMap<string, string>, ownerId: string): string {
  return names.get(ownerId) ?? ownerId;
}
