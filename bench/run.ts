/**
 * npm run bench [-- SIZE... [--large-factor F]]: for each size N, two private slapd servers (a
 * Domino-shaped and an AD-shaped directory) with N people and N mailbox users, and in the same run:
 *   - the raw limits: ldapsearch and an ldapts paged search of the same entries, ldapadd of each
 *     side's N contacts at dirbridge's export concurrency into a directory of that side's shape (half
 *     just before dirbridge's export, half just after), better-sqlite3 inserts;
 *   - dirbridge, phase by phase (one process each, with its peak RSS): full import, full sync,
 *     export of the 2N contacts, confirming import, a steady-state full sync, an empty delta cycle, a
 *     delta cycle with 1% adds, 1% deletes and 5% modifies on each side, a quiet cycle after it, and
 *     one with 10 changes;
 *   - the same 10-change delta cycle at F x N (default 10; 0 skips it), on directories seeded with
 *     slapadd, contacts included, after a first setup that joins them.
 * Prints a table and writes JSON: each figure with its raw counterpart and their ratio, since these
 * machines are shared and noisy and only ratios measured in the same run compare.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSlapd, type Slapd } from '../test/integration/harness/slapd.js';
import { writeConfig, EXPORT_CONCURRENCY, PAGE_SIZE } from './config.js';
import {
  AD_MAILBOXES,
  AD_SUFFIX,
  adContactLdif,
  ChangePlanner,
  changeLdif,
  type ChangeSet,
  DOMINO_PEOPLE,
  DOMINO_SUFFIX,
  dominoContactLdif,
  writeAdSeed,
  writeDominoSeed,
  writeLdif,
} from './data.js';
import { ldaptsPagedRead, ldapaddRate, ldapsearchRate, slapdCpuSeconds, sqliteInsertRate, type StepReport, type Timed, timeRun } from './measure.js';
import { type Cpu, type DeletionCheckCost, figures, printReport, type RawLdapadd, type SizeResult, type LargeResult } from './report.js';

const ROOT = resolve(import.meta.dirname, '..');
const PROFILES = join(ROOT, 'bench', 'profiles');

function parseArgs(argv: string[]): { sizes: number[]; largeFactor: number } {
  const sizes: number[] = [];
  let largeFactor = 10;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--large-factor') largeFactor = Number(argv[++i]);
    else if (/^\d+$/.test(a)) sizes.push(Number(a));
    else throw new Error(`unknown argument "${a}"; usage: npm run bench -- [SIZE...] [--large-factor F]`);
  }
  if (!Number.isInteger(largeFactor) || largeFactor < 0) throw new Error('--large-factor takes a whole number (0 skips the large delta cycle)');
  return { sizes: sizes.length ? sizes : [5_000], largeFactor };
}

/** Two slapd servers seeded with slapadd: people and mailboxes, and with `contacts` the contacts of a finished first setup. */
async function startDirectories(dir: string, n: number, contacts: boolean): Promise<{ domino: Slapd; ad: Slapd }> {
  const dominoSeed = join(dir, 'domino.ldif');
  const adSeed = join(dir, 'ad.ldif');
  await writeDominoSeed(dominoSeed, n, contacts);
  await writeAdSeed(adSeed, n, contacts);
  const maxSize = Math.max(1, Math.ceil(n / 10_000)) * 200 * 1024 * 1024;
  const domino = await startSlapd({ suffix: DOMINO_SUFFIX, seed: dominoSeed, maxSize });
  const ad = await startSlapd({ suffix: AD_SUFFIX, seed: adSeed, maxSize, schemas: [join(ROOT, 'bench/fixtures/ad.schema')] });
  rmSync(dominoSeed);
  rmSync(adSeed);
  return { domino, ad };
}

/** Writes the change set to both directories; returns how long that took (one ldapadd and one ldapmodify per side). */
function applyChanges(domino: Slapd, ad: Slapd, set: ChangeSet): number {
  const ldif = changeLdif(set);
  const started = performance.now();
  for (const [side, s] of [
    [ldif.domino, domino],
    [ldif.ad, ad],
  ] as const) {
    if (side.adds) s.add(side.adds);
    if (side.changes) s.modify(side.changes);
  }
  return (performance.now() - started) / 1000;
}

const exportsOf = (t: Timed): number =>
  t.steps
    .filter((s) => s.type === 'export')
    .reduce((sum, s) => sum + (s.stats.adds ?? 0) + (s.stats.updates ?? 0) + (s.stats.renames ?? 0) + (s.stats.deletes ?? 0), 0);

function expectExports(what: string, t: Timed, expected: number): void {
  const got = exportsOf(t);
  if (got !== expected) throw new Error(`${what} exported ${got} changes, expected ${expected}`);
}

/**
 * The deletion checks of the two Domino agents in a quiet delta cycle, each with the agent's last
 * full-import step in the given run (the people's and the contacts' may come from different runs).
 */
function deletionCheckCost(quiet: Timed, peopleImport: Timed, contactsImport: Timed): DeletionCheckCost {
  const of = (agent: string, imports: Timed) => {
    const s = step(quiet, agent, 'delta-import-sync');
    const full = imports.steps.filter((x) => x.agent === agent && x.type === 'full-import').at(-1);
    if (!full) throw new Error(`no full import of ${agent} to compare the deletion check with`);
    return { read: s.stats.deletionCheckRead ?? 0, seconds: (s.stats.deletionCheckMs ?? 0) / 1000, fullImportSeconds: full.seconds };
  };
  return { people: of('domino-people', peopleImport), contacts: of('domino-contacts', contactsImport) };
}

const step = (t: Timed, agent: string, type: string): StepReport => {
  const s = t.steps.find((x) => x.agent === agent && x.type === type);
  if (!s) throw new Error(`the run has no ${type} step for ${agent}`);
  return s;
};

/** A 10-change delta cycle: two adds, two surname changes and one deletion on each side. */
async function tenChangeCycle(configFile: string, domino: Slapd, ad: Slapd, planner: ChangePlanner): Promise<Timed> {
  applyChanges(domino, ad, planner.plan(2, 1, 2, 'Tenchange'));
  const ten = await timeRun(configFile, 'delta-cycle');
  expectExports('the 10-change delta cycle', ten, 10);
  return ten;
}

/**
 * The raw ldapadd rate at dirbridge's export concurrency for one side: the contacts dirbridge exports
 * there, added to a scratch directory of the same shape (the same N people or mailbox users, so the
 * same indexes to update), half just before dirbridge's export and half just after. This machine's
 * disk drifts by a third from one minute to the next (568 and 827 adds/s were measured in consecutive
 * minutes): measured minutes before the export, the ratio would compare two different machines.
 */
async function startRawLdapadd(dir: string, n: number, side: 'ad' | 'domino') {
  const seed = join(dir, `scratch-${side}.ldif`);
  if (side === 'ad') await writeAdSeed(seed, n, false);
  else await writeDominoSeed(seed, n, false);
  const maxSize = Math.max(1, Math.ceil(n / 10_000)) * 200 * 1024 * 1024;
  const scratch =
    side === 'ad'
      ? await startSlapd({ suffix: AD_SUFFIX, seed, maxSize, schemas: [join(ROOT, 'bench/fixtures/ad.schema')] })
      : await startSlapd({ suffix: DOMINO_SUFFIX, seed, maxSize });
  rmSync(seed);
  const half = Math.ceil(n / 2);
  const add = async (from: number, to: number): Promise<{ entries: number; seconds: number }> => {
    const files: string[] = [];
    const share = Math.ceil((to - from) / EXPORT_CONCURRENCY);
    for (let k = 0; k < EXPORT_CONCURRENCY; k++) {
      const f = join(dir, `contacts-${side}-${k}.ldif`);
      await writeLdif(f, '', from + k * share, Math.min(to, from + (k + 1) * share), side === 'ad' ? adContactLdif : dominoContactLdif);
      files.push(f);
    }
    const seconds = (to - from) / (await ldapaddRate(scratch, files, to - from));
    files.forEach((f) => rmSync(f));
    return { entries: to - from, seconds };
  };
  return {
    before: () => add(0, half),
    after: () => add(half, n),
    stop: () => scratch.stop(),
  };
}

/** Entries per second over both halves, and each half's own rate (the drift). */
function ldapaddFigures(before: { entries: number; seconds: number }, after: { entries: number; seconds: number }): RawLdapadd {
  return {
    perSec: (before.entries + after.entries) / (before.seconds + after.seconds),
    beforePerSec: before.entries / before.seconds,
    afterPerSec: after.entries / after.seconds,
  };
}

async function benchSize(n: number): Promise<SizeResult> {
  const dir = mkdtempSync(join(tmpdir(), `dirbridge-bench-${n}-`));
  console.error(`\n[${n}] loading ${n} people and ${n} mailbox users with slapadd ...`);
  const { domino, ad } = await startDirectories(dir, n, false);
  try {
    console.error(`[${n}] raw rates ...`);
    const people = await ldaptsPagedRead(domino, DOMINO_PEOPLE, PAGE_SIZE);
    const mailboxes = await ldaptsPagedRead(ad, AD_MAILBOXES, PAGE_SIZE);
    const raw = {
      ldapsearchPerSec: await ldapsearchRate(domino, DOMINO_PEOPLE, n + 1),
      ldaptsPeoplePerSec: people.perSec,
      ldaptsMailboxesPerSec: mailboxes.perSec,
      ldaptsCpu: perThousand(
        people.clientCpuSeconds + mailboxes.clientCpuSeconds,
        people.slapdCpuSeconds + mailboxes.slapdCpuSeconds,
        people.entries + mailboxes.entries,
      ),
      sqliteInsertsPerSec: sqliteInsertRate(Math.min(n, 100_000)),
    };
    const configFile = writeConfig(dir, domino, ad);
    const phase = async (what: string, profile: string, extra: string[] = []): Promise<Timed & { slapdCpuSeconds: number }> => {
      console.error(`[${n}] ${what} ...`);
      const before = slapdCpuSeconds([domino, ad]);
      const t = await timeRun(configFile, profile, extra);
      return { ...t, slapdCpuSeconds: slapdCpuSeconds([domino, ad]) - before };
    };
    const cpu = (t: Timed & { slapdCpuSeconds: number }, objects: number) => perThousand(t.cpuSeconds, t.slapdCpuSeconds, objects);
    const fullImport = await phase('full import', join(PROFILES, 'import.yaml'));
    const fullSync = await phase('full sync', join(PROFILES, 'sync.yaml'));
    console.error(`[${n}] scratch directories shaped as each side, for the raw ldapadd rate ...`);
    const rawAd = await startRawLdapadd(dir, n, 'ad');
    const rawDomino = await startRawLdapadd(dir, n, 'domino').catch(async (e: unknown) => {
      await rawAd.stop();
      throw e;
    });
    let exported: Timed & { slapdCpuSeconds: number };
    let ldapadd: { ad: RawLdapadd; domino: RawLdapadd; concurrency: number };
    try {
      console.error(`[${n}] raw ldapadd of ${Math.ceil(n / 2)} contacts on each side, before the export ...`);
      const adBefore = await rawAd.before();
      const dominoBefore = await rawDomino.before();
      exported = await phase(`export of ${2 * n} contacts`, join(PROFILES, 'export.yaml'));
      expectExports('the export', exported, 2 * n);
      console.error(`[${n}] raw ldapadd of the other ${n - Math.ceil(n / 2)} contacts on each side, after the export ...`);
      ldapadd = {
        ad: ldapaddFigures(adBefore, await rawAd.after()),
        domino: ldapaddFigures(dominoBefore, await rawDomino.after()),
        concurrency: EXPORT_CONCURRENCY,
      };
    } finally {
      await rawAd.stop();
      await rawDomino.stop();
    }
    const confirm = await phase('confirming import', join(PROFILES, 'confirm.yaml'));
    const resync = await phase('steady-state full sync', join(PROFILES, 'sync.yaml'));
    const emptyDelta = await phase('delta cycle with nothing changed', 'delta-cycle');
    expectExports('the empty delta cycle', emptyDelta, 0);

    const planner = new ChangePlanner(n);
    const mix = planner.plan(Math.max(1, Math.round(n / 100)), Math.max(1, Math.round(n / 100)), Math.max(1, Math.round(n / 20)), 'Mixchange');
    console.error(`[${n}] writing ${mix.adds.length} adds, ${mix.deletes.length} deletes and ${mix.modifies.length} modifies on each side ...`);
    const mixWriteSeconds = applyChanges(domino, ad, mix);
    const mixChanges = 2 * (mix.adds.length + mix.deletes.length + mix.modifies.length);
    // The deletions are this benchmark's own: past the deletion threshold they need the operator's consent.
    const mixDelta = await phase('delta cycle with the 1% / 1% / 5% changes', 'delta-cycle', ['--allow-deletes', String(2 * mix.deletes.length)]);
    expectExports('the 1% / 1% / 5% delta cycle', mixDelta, mixChanges);
    // The exports of that cycle are in the access log too, and the next cycle reads them once (each
    // agent moves its watermark past the other agents' writes): that is the price of the 1% cycle,
    // not of the 10 changes, so a quiet cycle settles it first.
    const settled = await phase('delta cycle after it, nothing changed', 'delta-cycle');
    expectExports('the delta cycle after the 1% / 1% / 5% changes', settled, 0);
    console.error(`[${n}] delta cycle with 10 changes ...`);
    const ten = await tenChangeCycle(configFile, domino, ad, planner);

    const perSec = (objects: number, seconds: number): number => (seconds > 0 ? objects / seconds : 0);
    const stepsSeconds = (t: Timed): number => t.steps.reduce((s, x) => s + x.seconds, 0);
    /** A phase's wall time, peak RSS and CPU per 1,000 of its objects. */
    const costs = (t: Timed & { slapdCpuSeconds: number }, objects: number) => ({ seconds: t.seconds, peakRssMb: t.peakRssMb, cpu: cpu(t, objects) });
    return {
      n,
      raw: { ...raw, ldapadd },
      fullImport: {
        dominoPerSec: perSec(n, step(fullImport, 'domino-people', 'full-import').seconds),
        adPerSec: perSec(n, step(fullImport, 'ad-mailboxes', 'full-import').seconds),
        ...costs(fullImport, 2 * n),
      },
      fullSync: { objects: 4 * n, perSec: perSec(4 * n, stepsSeconds(fullSync)), ...costs(fullSync, 4 * n) },
      export: {
        adPerSec: perSec(n, step(exported, 'ad-contacts', 'export').seconds),
        dominoPerSec: perSec(n, step(exported, 'domino-contacts', 'export').seconds),
        ...costs(exported, 2 * n),
      },
      confirmingImport: { perSec: perSec(2 * n, stepsSeconds(confirm)), ...costs(confirm, 2 * n) },
      steadySync: { objects: 4 * n, perSec: perSec(4 * n, stepsSeconds(resync)), ...costs(resync, 4 * n) },
      emptyDelta: { seconds: emptyDelta.seconds, peakRssMb: emptyDelta.peakRssMb },
      mixDelta: { changes: mixChanges, seconds: mixDelta.seconds, writeSeconds: mixWriteSeconds, peakRssMb: mixDelta.peakRssMb },
      settledDelta: { seconds: settled.seconds, peakRssMb: settled.peakRssMb },
      tenChangeDelta: { seconds: ten.seconds, peakRssMb: ten.peakRssMb },
      // The people's full import is the first phase's; the contacts' the confirming import's (both hold N).
      deletionCheck: deletionCheckCost(settled, fullImport, confirm),
    };
  } finally {
    await domino.stop();
    await ad.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU milliseconds per 1,000 objects: the client's (dirbridge's, or ldapts's in the raw read) and the directories'. */
function perThousand(clientSeconds: number, slapdSeconds: number, objects: number): Cpu {
  return { clientMsPer1k: Math.round((clientSeconds * 1e6) / objects), slapdMsPer1k: Math.round((slapdSeconds * 1e6) / objects) };
}

/** The 10-change delta cycle on large directories: seeded with slapadd, contacts included, and a first setup that joins them. */
async function benchLarge(n: number): Promise<LargeResult> {
  const dir = mkdtempSync(join(tmpdir(), `dirbridge-bench-large-${n}-`));
  console.error(`\n[${n}] loading ${4 * n} entries (people, mailboxes and their contacts) with slapadd ...`);
  const { domino, ad } = await startDirectories(dir, n, true);
  try {
    const configFile = writeConfig(dir, domino, ad);
    console.error(`[${n}] first setup (the initial profile joins the seeded contacts) ...`);
    const initial = await timeRun(configFile, 'initial');
    expectExports('the first setup on seeded contacts', initial, 0);
    console.error(`[${n}] delta cycle with nothing changed, then with 10 changes ...`);
    const empty = await timeRun(configFile, 'delta-cycle');
    const ten = await tenChangeCycle(configFile, domino, ad, new ChangePlanner(n));
    return {
      n,
      initial: { seconds: initial.seconds, peakRssMb: initial.peakRssMb },
      deletionCheck: deletionCheckCost(empty, initial, initial),
      emptyDelta: { seconds: empty.seconds, peakRssMb: empty.peakRssMb },
      tenChangeDelta: { seconds: ten.seconds, peakRssMb: ten.peakRssMb },
    };
  } finally {
    await domino.stop();
    await ad.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const { sizes, largeFactor } = parseArgs(process.argv.slice(2));
const results: SizeResult[] = [];
const large: LargeResult[] = [];
const outDir = join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const outFile = join(outDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
const cpus = (await import('node:os')).cpus().length;
// Written after every size, so that a long large-directory run that fails keeps what was measured.
const save = (): void =>
  writeFileSync(
    outFile,
    JSON.stringify(
      { at: new Date().toISOString(), node: process.version, cpus, results, large, figures: results.map((r, i) => figures(r, large[i])) },
      null,
      2,
    ),
  );
for (const n of sizes) {
  results.push(await benchSize(n));
  save();
  if (largeFactor > 0) {
    large.push(await benchLarge(n * largeFactor));
    save();
  }
}
printReport(results, large);
console.log(`\nJSON: ${outFile}`);
