/**
 * `groups:` in dirbridge.yaml: how each side's mail groups reach the other. `address` (the default,
 * the GALSync way) leaves the shipped rules as they are: a group is a mail contact its home system
 * expands. `mirror` turns a direction's group-contact agent into one that writes groups with their
 * members, and lets the source import the members as references; the result is the configuration
 * docs/configuration.md ("Mirrored groups") writes out by hand, laid over the file's own agents and
 * rules before the file is validated. It works on the shipped layout's agent names; a layout of
 * other names writes those rules itself.
 */
import { z } from 'zod';

const mode = z.enum(['address', 'mirror']);
export type GroupMode = z.infer<typeof mode>;

export const groupModesSchema = z.union([
  mode,
  z
    .object({
      /** Domino groups in Exchange: `address` (a contact) or `mirror` (an AD distribution group with members). */
      dominoToExchange: mode.default('address'),
      /** Exchange groups in Domino: `address` (a Person document as contact) or `mirror` (a Group document with members). */
      exchangeToDomino: mode.default('address'),
    })
    .strict(),
]);

export type Direction = 'dominoToExchange' | 'exchangeToDomino';

interface DirectionLayout {
  objectType: string;
  /** The agent reading the home side's groups, and the one writing them into the other side. */
  source: string;
  target: string;
  /** Where a member's DN is looked up on each side, in this order (a mailbox before a contact after a move). */
  sourceSide: string[];
  targetSide: string[];
  /** The agent types that can hold the written groups. */
  targetTypes: string[];
  /** What the target agent reads and the groups it writes are. */
  readClasses: string[];
  filter: string;
  attributes: string[];
  provisionClasses: string[];
  exportFlows: Record<string, unknown>;
  what: string;
}

const DOMINO_SIDE = ['domino-people', 'domino-contacts', 'domino-groups', 'domino-group-contacts', 'domino-mailins'];
const AD_SIDE_SOURCE = ['ad-mailboxes', 'ad-contacts', 'ad-groups', 'ad-group-contacts', 'ad-mailin-contacts'];
// A member of a Domino group is a Domino person first: its AD stand-in is the contact, then the mailbox after a move.
const AD_SIDE_TARGET = ['ad-contacts', 'ad-mailboxes', 'ad-groups', 'ad-group-contacts', 'ad-mailin-contacts'];

export const LAYOUTS: Record<Direction, DirectionLayout> = {
  dominoToExchange: {
    objectType: 'DominoGroup',
    source: 'domino-groups',
    target: 'ad-group-contacts',
    sourceSide: DOMINO_SIDE,
    targetSide: AD_SIDE_TARGET,
    targetTypes: ['ad-ldap', 'ldif'],
    readClasses: ['group'],
    filter: '(objectClass=group)',
    attributes: ['cn', 'displayName', 'mail', 'mailNickname', 'sAMAccountName', 'proxyAddresses', 'legacyExchangeDN', 'description', 'groupType', 'member'],
    provisionClasses: ['top', 'group'],
    exportFlows: {
      cn: 'cn',
      displayName: 'displayName',
      mail: 'mail',
      mailNickname: 'mailNickname',
      sAMAccountName: 'mailNickname',
      proxyAddresses: { template: 'SMTP:{mail}' },
      description: 'description',
      // A universal distribution group: no security bit.
      groupType: { constant: '8' },
    },
    what: 'AD distribution groups',
  },
  exchangeToDomino: {
    objectType: 'ExchangeGroup',
    source: 'ad-groups',
    target: 'domino-group-contacts',
    sourceSide: AD_SIDE_SOURCE,
    targetSide: DOMINO_SIDE,
    targetTypes: ['domino-ldap', 'ldif'],
    readClasses: ['dominoGroup'],
    filter: '(objectClass=dominoGroup)',
    attributes: ['cn', 'displayname', 'internetaddress', 'grouptype', 'member', 'description'],
    provisionClasses: ['dominoGroup'],
    exportFlows: {
      cn: 'cn',
      displayname: 'displayName',
      internetaddress: 'mail',
      // Mail only: not an access-control list.
      grouptype: { constant: '1' },
    },
    what: 'Domino Group documents',
  },
};

/**
 * The writer of a direction reads both kinds of object it may have made in its container: the
 * contacts of address mode and the groups of mirror mode. After a switch of `groups:` either way,
 * the objects of the old mode are then still seen, and the sync replaces each (see
 * Outbound.replaceOtherKind) rather than leaving it where the new one goes. A writer of another type
 * (exo-contacts) or without a filter (it reads everything already) is left as it is.
 */
function readsBothKinds(config: Obj, direction: Direction): void {
  const layout = LAYOUTS[direction];
  const agents = isObj(config.agents) ? config.agents : {};
  const target = agents[layout.target];
  if (!isObj(target) || !layout.targetTypes.includes(String(target.type))) return;
  // The groups mirror mode writes stand where the other side's group source may read: it reads their
  // stamp, so that a mirrored group (or one left from mirror mode until it is replaced) is never taken
  // for one of that side's own, and mirrored or carried back.
  const rules = isObj(config.rules) ? config.rules[layout.target] : undefined;
  const stamp = isObj(rules) && isObj(rules.ownership) ? rules.ownership.attribute : undefined;
  const otherSource = agents[LAYOUTS[direction === 'dominoToExchange' ? 'exchangeToDomino' : 'dominoToExchange'].source];
  if (typeof stamp === 'string' && isObj(otherSource)) addTo(otherSource, 'attributes', stamp);
  if (Array.isArray(target.objectClasses)) target.objectClasses = withValues(layout.readClasses, ...target.objectClasses.map(String));
  if (target.type === 'ldif' || typeof target.filter !== 'string') return;
  const filter = target.filter.trim().startsWith('(') ? target.filter.trim() : `(${target.filter.trim()})`;
  if (filter.toLowerCase() !== layout.filter.toLowerCase()) target.filter = `(|${layout.filter}${filter})`;
}

/** The mode of each direction a `groups:` value gives (absent: both address). */
export function groupModes(value: z.infer<typeof groupModesSchema> | undefined): Record<Direction, GroupMode> {
  if (value === undefined) return { dominoToExchange: 'address', exchangeToDomino: 'address' };
  if (typeof value === 'string') return { dominoToExchange: value, exchangeToDomino: value };
  return value;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const withValues = (list: unknown[], ...more: string[]): unknown[] => [
  ...list,
  ...more.filter((m) => !list.some((v) => typeof v === 'string' && v.toLowerCase() === m.toLowerCase())),
];
/** Adds names to a list an object holds under `key`; an object without that list (an LDIF agent reads every attribute) is left alone. */
const addTo = (o: Obj, key: string, ...more: string[]): void => {
  if (Array.isArray(o[key])) o[key] = withValues(o[key], ...more);
};

/**
 * The raw configuration with each mirrored direction laid out, or the problems that stop it (each
 * naming the key and the fix). Anything it does not recognise is left for the schema to report.
 */
export function expandGroupModes(raw: unknown): { config: unknown; problems: string[] } {
  if (!isObj(raw) || raw.groups === undefined) return { config: raw, problems: [] };
  const parsed = groupModesSchema.safeParse(raw.groups);
  if (!parsed.success)
    return {
      config: raw,
      problems: [`groups: must be address, mirror, or { dominoToExchange: address|mirror, exchangeToDomino: address|mirror }`],
    };
  const config = structuredClone(raw);
  const problems: string[] = [];
  const modes = groupModes(parsed.data);
  for (const direction of Object.keys(LAYOUTS) as Direction[]) {
    if (modes[direction] === 'mirror') problems.push(...mirror(config, direction));
    else readsBothKinds(config, direction);
  }
  return { config, problems };
}

function mirror(config: Obj, direction: Direction): string[] {
  const layout = LAYOUTS[direction];
  const key = typeof config.groups === 'string' ? 'groups' : `groups.${direction}`;
  const agents = isObj(config.agents) ? config.agents : {};
  const rules = isObj(config.rules) ? config.rules : {};
  const types = isObj(config.metaverse) && isObj(config.metaverse.objectTypes) ? config.metaverse.objectTypes : {};
  const fix = `write its rules yourself (docs/configuration.md, "Mirrored groups") or set ${key}: address`;
  const problems: string[] = [];
  for (const [role, name] of [
    ['reads the groups', layout.source],
    ['writes the groups', layout.target],
  ] as const) {
    if (!isObj(agents[name])) problems.push(`${key}: mirror needs an agent named ${name} (the one that ${role}); ${fix}`);
    else if (!isObj(rules[name])) problems.push(`${key}: mirror needs rules.${name}; ${fix}`);
    else if (rules[name].objectType !== layout.objectType)
      problems.push(`${key}: mirror needs rules.${name}.objectType to be ${layout.objectType}, not ${String(rules[name].objectType)}; ${fix}`);
  }
  const type = types[layout.objectType];
  if (!isObj(type) || !Array.isArray(type.attributes))
    problems.push(`${key}: mirror needs metaverse.objectTypes.${layout.objectType} with its attributes; ${fix}`);
  if (problems.length) return problems;

  const target = agents[layout.target] as Obj;
  const targetRules = rules[layout.target] as Obj;
  if (!layout.targetTypes.includes(String(target.type)))
    problems.push(
      `${key}: mirror writes ${layout.what}, which an agent of type ${String(target.type)} (${layout.target}) cannot; use ${layout.targetTypes.join(' or ')}, or set ${key}: address`,
    );
  const ownership = targetRules.ownership;
  if (!isObj(ownership) || typeof ownership.attribute !== 'string')
    problems.push(
      `${key}: mirror changes only the groups dirbridge made: give rules.${layout.target}.ownership (e.g. { attribute: description, value: "dirbridge:managed" })`,
    );
  if (!isObj(targetRules.provision)) problems.push(`${key}: mirror needs rules.${layout.target}.provision (the DN of the groups it creates)`);
  if (problems.length) return problems;
  const stamp = (ownership as Obj).attribute as string;

  // The home side: members as references.
  addTo(type as Obj, 'attributes', 'members');
  const sourceRules = rules[layout.source] as Obj;
  sourceRules.importFlows = {
    ...(isObj(sourceRules.importFlows) ? sourceRules.importFlows : {}),
    members: { references: 'member', resolveIn: layout.sourceSide.filter((a) => isObj(agents[a])) },
  };
  const source = agents[layout.source] as Obj;
  addTo(source, 'attributes', 'member');
  // The other side: groups instead of contacts, with the same join, DN and stamp. It still reads the
  // contacts it made in address mode, so that each is replaced by its group (not left beside it).
  readsBothKinds(config, direction);
  if (target.type !== 'ldif') target.attributes = withValues(layout.attributes, stamp);
  const provision: Obj = { ...(targetRules.provision as Obj), objectClasses: layout.provisionClasses };
  // A contact's reply address (legacyExchangeDN, X500) is not written on groups.
  delete provision.legacyExchangeDN;
  targetRules.provision = provision;
  targetRules.exportFlows = {
    ...layout.exportFlows,
    member: { references: 'members', resolveIn: layout.targetSide.filter((a) => isObj(agents[a])) },
  };
  return [];
}
