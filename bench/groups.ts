/**
 * npm run bench:groups [-- PEOPLE]: mirrored groups against two private slapd servers (Domino-shaped
 * and AD-shaped), as ratios to the people-only figures of the same run on the same directories:
 *   1. people only: PEOPLE people and PEOPLE mailbox users (default 20,000), the first setup, then a
 *      delta cycle with 1% of each side's people modified;
 *   2. then 10,000 groups of 20 members and 10 groups of 5,000 on each side, and the first setup
 *      again (the initial profile: everything read, synchronized and exported);
 *   3. a delta cycle where 1% of the memberships change on each side (in 1% of the small groups'
 *      slots: one member out and one in), against the 1% people cycle;
 *   4. ten members changed in one 5,000-member group on each side, against ten changed in one
 *      20-member group: a change must cost in proportion to the members changed, not the group.
 * Each group cycle also checks that it wrote exactly the member values that changed.
 * The AD side is slapd: AD's ranged retrieval is not spoken there (rangedAttributes: []); the
 * integration tests exercise it against Samba.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { mirrorGroups } from '../test/integration/harness/mirror.js';
import { startSlapd, type Slapd } from '../test/integration/harness/slapd.js';
import { writeConfig } from './config.js';
import { AD_MAILBOXES, AD_SUFFIX, DOMINO_PEOPLE, DOMINO_SUFFIX, mailbox, person, writeAdSeed, writeDominoSeed } from './data.js';
import { type Timed, timeRun } from './measure.js';

const ROOT = resolve(import.meta.dirname, '..');
const SMALL = 10_000;
const SMALL_SIZE = 20;
const LARGE = 10;
const LARGE_SIZE = 5_000;
const DOMINO_GROUPS = `ou=Groups,${DOMINO_SUFFIX}`;
const AD_GROUPS = `ou=Groups,${AD_SUFFIX}`;

const people = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 20_000);
if (people < LARGE_SIZE + 10) throw new Error(`the benchmark needs at least ${LARGE_SIZE + 10} people per side`);

const personDn = (i: number): string => `cn=${person(i).cn},${DOMINO_PEOPLE}`;
const mailboxDn = (i: number): string => `cn=${mailbox(i).cn},${AD_MAILBOXES}`;

/** The members of each group, by index into the side's people: small groups 0..9,999 then the large ones. */
function memberships(): number[][] {
  const groups: number[][] = [];
  for (let g = 0; g < SMALL; g++) groups.push(Array.from({ length: SMALL_SIZE }, (_, k) => (g * SMALL_SIZE + k) % people));
  for (let g = 0; g < LARGE; g++) groups.push(Array.from({ length: LARGE_SIZE }, (_, k) => (g * 997 + k) % people));
  return groups;
}

function groupsLdif(groups: number[][]): { domino: string; ad: string } {
  const domino: string[] = [`dn: ${DOMINO_GROUPS}\nobjectClass: organizationalUnit\nou: Groups\n`];
  const ad: string[] = [`dn: ${AD_GROUPS}\nobjectClass: organizationalUnit\nou: Groups\n`];
  groups.forEach((members, g) => {
    domino.push(
      `dn: cn=NG${g},${DOMINO_GROUPS}\nobjectClass: dominoGroup\ncn: NG${g}\ndominoUNID: ${(0x10000000 + g).toString(16).toUpperCase().padStart(32, 'A')}\n` +
        `grouptype: 1\ninternetaddress: ng${g}@notes.acme.test\n${members.map((i) => `member: ${personDn(i)}`).join('\n')}\n`,
    );
    ad.push(
      `dn: cn=XG${g},${AD_GROUPS}\nobjectClass: group\ncn: XG${g}\nmail: xg${g}@exchange.acme.test\nmailNickname: xg${g}\n` +
        `proxyAddresses: SMTP:xg${g}@exchange.acme.test\n${members.map((i) => `member: ${mailboxDn(i)}`).join('\n')}\n`,
    );
  });
  return { domino: domino.join('\n'), ad: ad.join('\n') };
}

/** One member out and one in for each of `groups` (by index), on both sides; returns how many values change per side. */
function changeMembers(domino: Slapd, ad: Slapd, groups: readonly number[], all: number[][], perGroup: number): number {
  const d: string[] = [];
  const a: string[] = [];
  for (const g of groups) {
    const members = all[g]!;
    const held = new Set(members);
    const out = members.slice(0, perGroup);
    const into: number[] = [];
    for (let i = (members[0]! + Math.floor(people / 2)) % people; into.length < perGroup; i = (i + 1) % people) if (!held.has(i)) into.push(i);
    all[g] = [...members.slice(perGroup), ...into];
    const change = (dn: string, show: (i: number) => string): string =>
      `dn: ${dn}\nchangetype: modify\ndelete: member\n${out.map((i) => `member: ${show(i)}`).join('\n')}\n-\nadd: member\n${into.map((i) => `member: ${show(i)}`).join('\n')}\n`;
    d.push(change(`cn=NG${g},${DOMINO_GROUPS}`, personDn));
    a.push(change(`cn=XG${g},${AD_GROUPS}`, mailboxDn));
  }
  if (d.length) domino.modify(d.join('\n'));
  if (a.length) ad.modify(a.join('\n'));
  return 2 * perGroup * groups.length;
}

function modifyPeople(domino: Slapd, ad: Slapd, count: number, tag: string): void {
  const change = (dn: string): string => `dn: ${dn}\nchangetype: modify\nreplace: title\ntitle: ${tag}\n`;
  domino.modify(Array.from({ length: count }, (_, i) => change(personDn(i))).join('\n'));
  ad.modify(Array.from({ length: count }, (_, i) => change(mailboxDn(i))).join('\n'));
}

/** The mirror configuration over the benchmark's directories: the bench's agents with `groups: mirror`. */
function writeMirrorConfig(dir: string, domino: Slapd, ad: Slapd): string {
  const file = writeConfig(dir, domino, ad);
  const config = parse(readFileSync(file, 'utf8')) as Record<string, any>;
  const agents = config.agents as Record<string, any>;
  agents['domino-groups'].baseDn = DOMINO_GROUPS;
  agents['ad-groups'] = { ...agents['ad-groups'], baseDn: AD_GROUPS, filter: '(objectClass=group)', objectClasses: ['group'] };
  mirrorGroups(config, { smallRanges: false });
  // slapd shaped as AD does not answer ranged retrieval.
  for (const a of ['ad-groups', 'ad-group-contacts']) agents[a].rangedAttributes = [];
  writeFileSync(file, stringify(config));
  return file;
}

const sum = (t: Timed, type: string, key: string, agent?: string): number =>
  t.steps.filter((s) => s.type === type && (!agent || s.agent === agent)).reduce((n, s) => n + (s.stats[key] ?? 0), 0);

function expectValues(what: string, t: Timed, perSide: number): void {
  for (const agent of ['ad-group-contacts', 'domino-group-contacts']) {
    const got = sum(t, 'export', 'valuesAdded', agent) + sum(t, 'export', 'valuesRemoved', agent);
    if (got !== perSide) throw new Error(`${what}: ${agent} wrote ${got} member values, expected ${perSide}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'dirbridge-bench-groups-'));
console.error(`[groups] loading ${people} people and ${people} mailbox users with slapadd ...`);
await writeDominoSeed(join(dir, 'domino.ldif'), people, false);
await writeAdSeed(join(dir, 'ad.ldif'), people, false);
const maxSize = Math.max(1, Math.ceil(people / 10_000)) * 400 * 1024 * 1024;
const domino = await startSlapd({ suffix: DOMINO_SUFFIX, seed: join(dir, 'domino.ldif'), maxSize });
const ad = await startSlapd({ suffix: AD_SUFFIX, seed: join(dir, 'ad.ldif'), maxSize, schemas: [join(ROOT, 'bench/fixtures/ad.schema')] });
try {
  const groups = memberships();
  const ldif = groupsLdif(groups);
  // The group containers exist from the start (empty in phase 1), as the people-only run has them.
  domino.add(ldif.domino.split('\n\n')[0]! + '\n');
  ad.add(ldif.ad.split('\n\n')[0]! + '\n');
  const configFile = writeMirrorConfig(dir, domino, ad);
  console.error('[groups] people only: first setup ...');
  const peopleInitial = await timeRun(configFile, 'initial');
  const onePercent = Math.max(1, Math.round(people / 100));
  modifyPeople(domino, ad, onePercent, 'Changed');
  console.error(`[groups] people only: delta cycle with ${onePercent} people modified on each side ...`);
  const peopleDelta = await timeRun(configFile, 'delta-cycle');

  console.error(`[groups] adding ${SMALL} groups of ${SMALL_SIZE} and ${LARGE} of ${LARGE_SIZE} on each side ...`);
  domino.add(ldif.domino.split('\n\n').slice(1).join('\n\n'));
  ad.add(ldif.ad.split('\n\n').slice(1).join('\n\n'));
  console.error('[groups] first setup with the groups ...');
  const groupsInitial = await timeRun(configFile, 'initial');
  const memberValues = SMALL * SMALL_SIZE + LARGE * LARGE_SIZE;
  for (const agent of ['ad-group-contacts', 'domino-group-contacts']) {
    const adds = sum(groupsInitial, 'export', 'adds', agent);
    if (adds !== SMALL + LARGE) throw new Error(`the first setup with the groups added ${adds} groups to ${agent}, expected ${SMALL + LARGE}`);
  }

  const changedGroups = Math.round(memberValues / 100 / 2); // one out and one in per group: 1% of the memberships
  const picked = Array.from({ length: changedGroups }, (_, k) => Math.floor((k * SMALL) / changedGroups));
  const values = changeMembers(domino, ad, picked, groups, 1);
  console.error(`[groups] delta cycle with ${values} member values changed on each side (1% of ${memberValues}) ...`);
  const membershipDelta = await timeRun(configFile, 'delta-cycle');
  expectValues('the 1% membership cycle', membershipDelta, values);

  console.error('[groups] ten members changed in one 20-member group on each side ...');
  changeMembers(domino, ad, [SMALL - 1], groups, 5);
  const tenSmall = await timeRun(configFile, 'delta-cycle');
  expectValues('ten members of a 20-member group', tenSmall, 10);
  console.error('[groups] ten members changed in one 5,000-member group on each side ...');
  changeMembers(domino, ad, [SMALL + LARGE - 1], groups, 5);
  const tenLarge = await timeRun(configFile, 'delta-cycle');
  expectValues('ten members of a 5,000-member group', tenLarge, 10);

  const row = (what: string, t: Timed, base: Timed, baseName: string): string =>
    `| ${what} | ${t.seconds.toFixed(1)} s | ${t.peakRssMb.toFixed(0)} MB | ${(t.seconds / base.seconds).toFixed(2)} × ${baseName} |`;
  const lines = [
    `people per side: ${people}; groups per side: ${SMALL} × ${SMALL_SIZE} and ${LARGE} × ${LARGE_SIZE} (${memberValues} memberships)`,
    '',
    '| phase | wall time | peak RSS | ratio |',
    '| --- | --- | --- | --- |',
    row('first setup, people only', peopleInitial, peopleInitial, 'itself'),
    row('first setup with the groups', groupsInitial, peopleInitial, 'people-only first setup'),
    row(`delta, ${onePercent} people modified per side`, peopleDelta, peopleDelta, 'itself'),
    row(`delta, ${values} member values per side (1%)`, membershipDelta, peopleDelta, '1% people delta'),
    row('delta, 10 members of a 20-member group per side', tenSmall, tenSmall, 'itself'),
    row('delta, 10 members of a 5,000-member group per side', tenLarge, tenSmall, '10 members of a 20-member group'),
  ];
  console.log(lines.join('\n'));
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const out = join(ROOT, 'bench', 'results', `bench-groups-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    out,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        people,
        memberValues,
        peopleInitial,
        peopleDelta,
        groupsInitial,
        membershipDelta,
        tenSmall,
        tenLarge,
      },
      null,
      2,
    ),
  );
  console.log(`\nJSON: ${out}`);
} finally {
  await domino.stop();
  await ad.stop();
  rmSync(dir, { recursive: true, force: true });
}
