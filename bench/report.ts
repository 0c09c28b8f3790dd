/** The benchmark's table and JSON figures: each dirbridge figure next to its raw counterpart and their ratio. */

/** Where a phase's CPU went: milliseconds per 1,000 objects in the client (dirbridge, or ldapts for the raw read) and in slapd. */
export interface Cpu {
  clientMsPer1k: number;
  slapdMsPer1k: number;
}

/** ldapadd of one side's contacts: over both halves, and the half before and the half after dirbridge's export. */
export interface RawLdapadd {
  perSec: number;
  beforePerSec: number;
  afterPerSec: number;
}

export interface SizeResult {
  n: number;
  raw: {
    ldapsearchPerSec: number;
    ldaptsPeoplePerSec: number;
    ldaptsMailboxesPerSec: number;
    ldaptsCpu: Cpu;
    ldapadd: { ad: RawLdapadd; domino: RawLdapadd; concurrency: number };
    sqliteInsertsPerSec: number;
  };
  fullImport: { dominoPerSec: number; adPerSec: number; seconds: number; peakRssMb: number; cpu: Cpu };
  fullSync: { objects: number; perSec: number; seconds: number; peakRssMb: number; cpu: Cpu };
  export: { adPerSec: number; dominoPerSec: number; seconds: number; peakRssMb: number; cpu: Cpu };
  confirmingImport: { perSec: number; seconds: number; peakRssMb: number; cpu: Cpu };
  steadySync: { objects: number; perSec: number; seconds: number; peakRssMb: number; cpu: Cpu };
  emptyDelta: { seconds: number; peakRssMb: number };
  mixDelta: { changes: number; seconds: number; writeSeconds: number; peakRssMb: number };
  /** The quiet cycle after the 1% cycle: it reads that cycle's exports from the access log once. */
  settledDelta: { seconds: number; peakRssMb: number };
  tenChangeDelta: { seconds: number; peakRssMb: number };
  deletionCheck: DeletionCheckCost;
}

/** The deletion check in the quiet delta cycle, next to the full import of the same agent in the same run. */
export interface DeletionCheckCost {
  people: { read: number; seconds: number; fullImportSeconds: number };
  contacts: { read: number; seconds: number; fullImportSeconds: number };
}

export interface LargeResult {
  n: number;
  initial: { seconds: number; peakRssMb: number };
  deletionCheck: DeletionCheckCost;
  emptyDelta: { seconds: number; peakRssMb: number };
  tenChangeDelta: { seconds: number; peakRssMb: number };
}

export interface Figure {
  phase: string;
  value: number;
  unit: string;
  /** The raw counterpart measured in the same run, when there is one. */
  raw?: { what: string; value: number };
  /** value / raw (for times: raw / value, so that 1.0 is "as fast as the raw operation"). */
  ratio?: number;
  /** The phase's target, in the ratio's or the value's terms, when the issue sets one. */
  target?: string;
  peakRssMb?: number;
  /** CPU per 1,000 objects, client and slapd, for phases that move many objects. */
  cpu?: Cpu;
}

const rate = (
  phase: string,
  value: number,
  raw: { what: string; value: number } | undefined,
  peakRssMb: number | undefined,
  target?: string,
  cpu?: Cpu,
): Figure => ({
  phase,
  value: Math.round(value),
  unit: 'objects/s',
  ...(raw ? { raw: { what: raw.what, value: Math.round(raw.value) }, ratio: round(value / raw.value) } : {}),
  ...(target ? { target } : {}),
  ...(peakRssMb !== undefined ? { peakRssMb } : {}),
  ...(cpu ? { cpu } : {}),
});

export function figures(r: SizeResult, large: LargeResult | undefined): Figure[] {
  const out: Figure[] = [
    { phase: 'raw: ldapsearch (paged), Domino people', value: Math.round(r.raw.ldapsearchPerSec), unit: 'entries/s' },
    { phase: 'raw: ldapts paged search, Domino people', value: Math.round(r.raw.ldaptsPeoplePerSec), unit: 'entries/s' },
    { phase: 'raw: ldapts paged search, AD mailboxes', value: Math.round(r.raw.ldaptsMailboxesPerSec), unit: 'entries/s', cpu: r.raw.ldaptsCpu },
    ...(['ad', 'domino'] as const).map((side) => ({
      phase: `raw: ldapadd of ${r.n} ${side === 'ad' ? 'AD' : 'Domino'} contacts, ${r.raw.ldapadd.concurrency} at a time (before / after the export: ${Math.round(r.raw.ldapadd[side].beforePerSec)} / ${Math.round(r.raw.ldapadd[side].afterPerSec)})`,
      value: Math.round(r.raw.ldapadd[side].perSec),
      unit: 'adds/s',
    })),
    { phase: 'raw: better-sqlite3 inserts, one transaction', value: Math.round(r.raw.sqliteInsertsPerSec), unit: 'rows/s' },
    rate(
      'full import, Domino people',
      r.fullImport.dominoPerSec,
      { what: 'ldapts paged', value: r.raw.ldaptsPeoplePerSec },
      r.fullImport.peakRssMb,
      '>= 0.70',
      r.fullImport.cpu,
    ),
    rate('full import, AD mailboxes', r.fullImport.adPerSec, { what: 'ldapts paged', value: r.raw.ldaptsMailboxesPerSec }, undefined, '>= 0.70'),
    rate(
      `full sync, first (projects 2N, provisions 2N), ${r.fullSync.objects} objects`,
      r.fullSync.perSec,
      { what: 'SQLite inserts', value: r.raw.sqliteInsertsPerSec },
      r.fullSync.peakRssMb,
      '>= 20000/s',
      r.fullSync.cpu,
    ),
    rate(
      `full sync, steady state, ${r.steadySync.objects} objects`,
      r.steadySync.perSec,
      { what: 'SQLite inserts', value: r.raw.sqliteInsertsPerSec },
      r.steadySync.peakRssMb,
      '>= 20000/s',
      r.steadySync.cpu,
    ),
    rate(`export of ${r.n} AD contacts`, r.export.adPerSec, { what: 'ldapadd', value: r.raw.ldapadd.ad.perSec }, r.export.peakRssMb, '>= 0.90', r.export.cpu),
    rate(`export of ${r.n} Domino contacts`, r.export.dominoPerSec, { what: 'ldapadd', value: r.raw.ldapadd.domino.perSec }, undefined, '>= 0.90'),
    rate(
      `confirming import, ${2 * r.n} contacts`,
      r.confirmingImport.perSec,
      { what: 'ldapts paged', value: r.raw.ldaptsPeoplePerSec },
      r.confirmingImport.peakRssMb,
      undefined,
      r.confirmingImport.cpu,
    ),
    {
      phase: 'delta cycle, nothing changed',
      value: round(r.emptyDelta.seconds),
      unit: 's',
      peakRssMb: r.emptyDelta.peakRssMb,
      ...(r.n === 100_000 ? { target: '< 3 s' } : {}),
    },
    {
      phase: `delta cycle, 1% adds, 1% deletes, 5% modifies (${r.mixDelta.changes} changes)`,
      value: round(r.mixDelta.seconds),
      unit: 's',
      raw: { what: 'writing them with ldapadd/ldapmodify, one connection per side', value: round(r.mixDelta.writeSeconds) },
      ratio: round(r.mixDelta.writeSeconds / r.mixDelta.seconds),
      peakRssMb: r.mixDelta.peakRssMb,
    },
    {
      phase: 'delta cycle after it, nothing changed (reads its exports once)',
      value: round(r.settledDelta.seconds),
      unit: 's',
      peakRssMb: r.settledDelta.peakRssMb,
    },
    { phase: 'delta cycle, 10 changes', value: round(r.tenChangeDelta.seconds), unit: 's', peakRssMb: r.tenChangeDelta.peakRssMb },
    ...checkFigures(r.deletionCheck, ''),
  ];
  if (large) {
    out.push(
      {
        phase: `first setup at ${large.n} per side (seeded contacts joined)`,
        value: round(large.initial.seconds),
        unit: 's',
        peakRssMb: large.initial.peakRssMb,
      },
      { phase: `delta cycle, nothing changed, at ${large.n}`, value: round(large.emptyDelta.seconds), unit: 's', peakRssMb: large.emptyDelta.peakRssMb },
      {
        phase: `delta cycle, 10 changes, at ${large.n} (${large.n / r.n}x the directory)`,
        value: round(large.tenChangeDelta.seconds),
        unit: 's',
        raw: { what: `the same cycle at ${r.n}`, value: round(r.tenChangeDelta.seconds) },
        ratio: round(large.tenChangeDelta.seconds / r.tenChangeDelta.seconds),
        target: '<= 1.5x',
        peakRssMb: large.tenChangeDelta.peakRssMb,
      },
      ...checkFigures(large.deletionCheck, ` at ${large.n}`),
    );
  }
  return out;
}

/** The check's time, with the agent's full import as raw counterpart; the ratio is the check's share of it (not raw / value). */
function checkFigures(c: DeletionCheckCost, where: string): Figure[] {
  return (['people', 'contacts'] as const).map((side) => ({
    phase: `deletion check of ${c[side].read} Domino ${side}${where}, in the quiet cycle (ratio: its share of the full import)`,
    value: round(c[side].seconds),
    unit: 's',
    raw: { what: `full import of the same agent`, value: round(c[side].fullImportSeconds) },
    ratio: round(c[side].seconds / c[side].fullImportSeconds),
    target: '<= 0.10',
  }));
}

const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

export function printReport(results: SizeResult[], large: LargeResult[]): Figure[][] {
  const all = results.map((r, i) => figures(r, large[i]));
  for (const [i, figs] of all.entries()) {
    const rows = [
      ['N = ' + results[i]!.n + ' per side', 'figure', 'raw counterpart', 'ratio', 'target', 'peak RSS MB', 'CPU ms/1k: client, slapd'],
      ...figs.map((f) => [
        f.phase,
        `${f.value} ${f.unit}`,
        f.raw ? `${f.raw.value} (${f.raw.what})` : '',
        f.ratio !== undefined ? f.ratio.toFixed(2) : '',
        f.target ?? '',
        f.peakRssMb !== undefined ? String(f.peakRssMb) : '',
        f.cpu ? `${f.cpu.clientMsPer1k}, ${f.cpu.slapdMsPer1k}` : '',
      ]),
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    console.log('');
    for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  }
  return all;
}
