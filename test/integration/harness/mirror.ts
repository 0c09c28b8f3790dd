/**
 * Mirror mode for the tests and the group benchmark: `groups: mirror` (src/config/group-modes.ts)
 * over the deployment's agents, and the settings these servers need beside it. No vitest here: the
 * benchmark imports it too.
 */

/** Turns mirror mode on in a deployment's configuration (the shipped agent names, the shipped run profiles). */
export function mirrorGroups(config: Record<string, any>, options: { smallRanges: boolean }): void {
  config.groups = 'mirror';
  const agents = config.agents as Record<string, any>;
  // slapd cannot mint Domino UNIDs: the Group documents dirbridge writes have none, and the source of the
  // Domino groups would report each as an object without its anchor. Real Domino gives every document one.
  agents['domino-groups'].filter = '(&(objectClass=dominoGroup)(dominoUNID=*))';
  if (!options.smallRanges) return;
  // Small ranges and batches, so that the tests' groups are read and written in several (AD's MaxValRange is 1,500).
  agents['ad-groups'].rangeSize = 400;
  agents['ad-group-contacts'].rangeSize = 400;
  agents['ad-group-contacts'].valueBatchSize = 300;
  agents['domino-group-contacts'].valueBatchSize = 300;
}
