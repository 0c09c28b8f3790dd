/**
 * The synchronizer's decisions without servers or a store: the shipped quickstart rules over an
 * in-memory view, each decision laid over it by the overlay that preview uses.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { AgentRules } from '../../src/config/schema.js';
import type { Decision } from '../../src/engine/sync/effects.js';
import { Decisions } from '../../src/engine/sync/index.js';
import { Overlay } from '../../src/engine/sync/overlay.js';
import { classify } from '../../src/engine/sync/situation.js';
import type { AddressConflictRow, SyncView } from '../../src/engine/sync/view.js';
import { indexValues } from '../../src/metaverse/store.js';
import { emptyStats, type CsRow, type MvRow, type PendingExport, type StepStats } from '../../src/model/objects.js';
import { normalizeDn } from '../../src/util/dn.js';

const QUICKSTART = resolve(import.meta.dirname, '../../examples/quickstart/dirbridge.yaml');
const { config } = loadConfig(QUICKSTART);
type Config = typeof config;

/** The quickstart with its `groups:` key set otherwise. */
function withGroups(groups: string): Config {
  const file = join(mkdtempSync(join(tmpdir(), 'dirbridge-sync-')), 'dirbridge.yaml');
  const raw = parse(readFileSync(QUICKSTART, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, stringify({ ...raw, groups, runProfiles: resolve(import.meta.dirname, '../../run-profiles') }));
  return loadConfig(file).config;
}
const CONTACTS_OU = 'OU=Domino Contacts,DC=acme,DC=example';
const PEOPLE_OU = 'ou=people,o=acme';

/** A connector space and metaverse in memory: what the store answers, for a handful of objects. */
class MemoryView implements SyncView {
  cs: CsRow[] = [];
  mv: MvRow[] = [];
  pending = new Map<number, PendingExport>();
  fullImports = new Set(['domino-people', 'ad-mailboxes', 'ad-contacts', 'domino-contacts']);
  conflicts: AddressConflictRow[] = [];
  private nextId = 1;

  addCs(o: Partial<CsRow> & Pick<CsRow, 'agent' | 'dn' | 'attributes'>): CsRow {
    const row: CsRow = {
      id: this.nextId++,
      anchor: `anchor-${this.nextId}`,
      objectClasses: [],
      pendingImport: null,
      provisioned: false,
      owned: false,
      mvId: null,
      linkKind: null,
      linkedRun: null,
      linkedAt: null,
      ...o,
    };
    this.cs.push(row);
    return row;
  }
  addMv(objectType: string, attributes: MvRow['attributes']): MvRow {
    const row: MvRow = { id: this.nextId++, objectType, attributes, sources: {} };
    this.mv.push(row);
    return row;
  }
  getCs = (id: number) => this.cs.find((c) => c.id === id);
  getMv = (id: number) => this.mv.find((m) => m.id === id);
  connectorsOf = (mvId: number) => this.cs.filter((c) => c.mvId === mvId);
  findMv = (attribute: string, value: string, objectType?: string) =>
    this.mv
      .filter((m) => (!objectType || m.objectType === objectType) && (m.attributes[attribute] ?? []).some((v) => v.toLowerCase() === value.toLowerCase()))
      .map((m) => m.id);
  findDisconnectors = (agent: string, key: string, value: string) =>
    this.cs.filter((c) => c.agent === agent && c.mvId === null && indexValues(key, c.attributes).includes(value.toLowerCase()));
  getCsByDn = (agent: string, dn: string) => this.cs.filter((c) => c.agent === agent && normalizeDn(c.dn) === normalizeDn(dn));
  getPendingExport = (csId: number) => this.pending.get(csId);
  pendingExportOperation = (csId: number) => this.pending.get(csId)?.operation;
  hasDisconnectors = (agent: string) => this.cs.some((c) => c.agent === agent && c.mvId === null);
  hasFullImport = (agent: string) => this.fullImports.has(agent);
  isExplicitDisconnect = () => false;
  addressConflicts = () => this.conflicts;
  unresolvedOf = () => [];
  unresolvedHolders = () => [];
}

function person(view: MemoryView, name: string, extra: Partial<CsRow> = {}): CsRow {
  const [given, sn] = name.split(' ') as [string, string];
  const mail = `${given}.${sn}@notes.acme.test`.toLowerCase();
  return view.addCs({
    agent: 'domino-people',
    dn: `cn=${name},${PEOPLE_OU}`,
    attributes: { cn: [name], givenname: [given], sn: [sn], internetaddress: [mail] },
    pendingImport: 'add',
    ...extra,
  });
}

/** Syncs objects as a sync step would (its end included); what it decided, in order, and its counters. */
function sync(view: MemoryView, ...cs: CsRow[]): { overlay: Overlay; decisions: Decision[]; kinds: string[]; stats: StepStats } {
  return syncWith(config, view, ...cs);
}

function syncWith(rules: Config, view: MemoryView, ...cs: CsRow[]): { overlay: Overlay; decisions: Decision[]; kinds: string[]; stats: StepStats } {
  const overlay = new Overlay(view);
  const stats = emptyStats();
  const decisions = new Decisions({ config: rules, view: overlay, sink: overlay, stats, tracing: false });
  for (const c of cs) decisions.syncObject(c.id);
  decisions.endStep();
  return { overlay, decisions: overlay.decisions, kinds: overlay.decisions.map((d) => d.kind), stats };
}

describe('the situation of a connector-space object', () => {
  const rules = config.rules['domino-people'] as AgentRules;
  const view = new MemoryView();
  const base = person(view, 'Ann Archer');
  const stamps = [{ attribute: 'adminDescription', value: 'dirbridge:managed' }];
  const situation = (change: Partial<CsRow>, r: AgentRules | null = rules, pending?: PendingExport['operation']) =>
    classify({ ...base, ...change }, r ?? undefined, () => pending, stamps).kind;

  it('is named from the import, the rules, the pending export and the scope, in that order', () => {
    expect(situation({ pendingImport: 'delete', provisioned: true })).toBe('gone');
    expect(situation({}, null)).toBe('no-rules');
    expect(situation({ provisioned: true })).toBe('waiting-export');
    expect(situation({}, rules, 'delete')).toBe('deletion-pending');
    expect(situation({ attributes: { ...base.attributes, mailsystem: ['5'] } })).toBe('out-of-scope');
    expect(situation({})).toBe('unlinked');
    expect(situation({ mvId: 7 })).toBe('linked');
  });

  it('keeps a contact dirbridge wrote from coming back as a person (its stamp puts it out of scope)', () => {
    const s = classify({ ...base, attributes: { ...base.attributes, admindescription: ['dirbridge:managed'] } }, rules, () => undefined, stamps);
    expect(s).toMatchObject({ kind: 'out-of-scope', linked: false, scope: { reason: expect.stringMatching(/ownership stamp/) } });
  });
});

describe('sync decisions', () => {
  it('a new person is projected, linked with the import settled, and gets a contact: three decisions, nothing else', () => {
    const view = new MemoryView();
    const ann = person(view, 'Ann Archer');
    const { decisions, kinds, stats } = sync(view, ann);
    expect(kinds).toEqual(['create-mv', 'link', 'provision']);
    expect(decisions[0]).toMatchObject({ objectType: 'DominoUser', attributes: { cn: ['Ann Archer'], sn: ['Archer'], mail: ['ann.archer@notes.acme.test'] } });
    expect(decisions[1]).toMatchObject({ cs: { id: ann.id }, linkKind: 'projection', settlesImport: true });
    expect(decisions[2]).toMatchObject({
      agent: 'ad-contacts',
      dn: `CN=Ann Archer,${CONTACTS_OU}`,
      attributes: { mail: ['ann.archer@notes.acme.test'], targetaddress: ['SMTP:ann.archer@notes.acme.test'], admindescription: ['dirbridge:managed'] },
    });
    expect(stats).toMatchObject({ projections: 1, provisions: 1, exportsStaged: 1, errors: 0 });
  });

  it('provisions nothing into a directory never imported in full, and says why', () => {
    const view = new MemoryView();
    view.fullImports.delete('ad-contacts');
    const { overlay, kinds } = sync(view, person(view, 'Ann Archer'));
    expect(kinds).toEqual(['create-mv', 'link', 'report']);
    expect(overlay.problems).toEqual([
      expect.objectContaining({ code: 'target-not-imported', object: `DominoUser cn=Ann Archer,${PEOPLE_OU} (domino-people)` }),
    ]);
  });

  it("a person gone from Domino: disconnected, the metaverse object deleted, the owned contact's deletion staged", () => {
    const view = new MemoryView();
    const mv = view.addMv('DominoUser', { cn: ['Ann Archer'], mail: ['ann.archer@notes.acme.test'] });
    const ann = person(view, 'Ann Archer', { mvId: mv.id, pendingImport: 'delete', linkKind: 'projection' });
    const contact = view.addCs({
      agent: 'ad-contacts',
      dn: `CN=Ann Archer,${CONTACTS_OU}`,
      attributes: { mail: ['ann.archer@notes.acme.test'], admindescription: ['dirbridge:managed'] },
      mvId: mv.id,
      owned: true,
      linkKind: 'provisioning',
    });
    const { decisions, kinds, stats } = sync(view, ann);
    expect(kinds).toEqual(['unlink', 'unlink', 'stage-export', 'delete-mv', 'remove-cs']);
    expect(decisions[1]).toMatchObject({ cs: { id: contact.id }, event: 'deprovision' });
    expect(decisions[2]).toMatchObject({ export: { csId: contact.id, operation: 'delete', dn: contact.dn } });
    expect(decisions[4]).toMatchObject({ cs: { id: ann.id }, operation: 'cs-delete' });
    expect(stats).toMatchObject({ disconnects: 1, deletes: 2, exportsStaged: 1 });
  });

  it('a contact someone made by hand is disconnected and left alone when its person goes', () => {
    const view = new MemoryView();
    const mv = view.addMv('DominoUser', { cn: ['Ann Archer'], mail: ['ann.archer@notes.acme.test'] });
    const ann = person(view, 'Ann Archer', { mvId: mv.id, pendingImport: 'delete' });
    const contact = view.addCs({
      agent: 'ad-contacts',
      dn: `CN=Ann Archer,${CONTACTS_OU}`,
      attributes: { mail: ['ann.archer@notes.acme.test'] },
      mvId: mv.id,
      linkKind: 'join',
    });
    const { overlay, decisions } = sync(view, ann);
    expect(decisions.filter((d) => d.kind === 'stage-export')).toEqual([]);
    expect(decisions).toContainEqual(expect.objectContaining({ kind: 'unlink', cs: expect.objectContaining({ id: contact.id }), event: 'disconnect' }));
    expect(overlay.problems).toEqual([]);
  });

  it('a contact dirbridge made whose ownership stamp was removed is left in place too, with a warning', () => {
    const view = new MemoryView();
    const mv = view.addMv('DominoUser', { cn: ['Ann Archer'], mail: ['ann.archer@notes.acme.test'] });
    const ann = person(view, 'Ann Archer', { mvId: mv.id, pendingImport: 'delete' });
    view.addCs({
      agent: 'ad-contacts',
      dn: `CN=Ann Archer,${CONTACTS_OU}`,
      attributes: { mail: ['ann.archer@notes.acme.test'] },
      mvId: mv.id,
      owned: true,
      linkKind: 'provisioning',
    });
    const { overlay, decisions } = sync(view, ann);
    expect(decisions.filter((d) => d.kind === 'stage-export')).toEqual([]);
    expect(overlay.problems).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'ownership-stamp-missing', attribute: expect.stringMatching(/^admindescription$/i) }),
    ]);
  });

  it('a person who comes back while the deletion of her contact is held joins that contact again and withdraws the deletion', () => {
    const view = new MemoryView();
    const contact = view.addCs({
      agent: 'ad-contacts',
      dn: `CN=Ann Archer,${CONTACTS_OU}`,
      attributes: { mail: ['ann.archer@notes.acme.test'], admindescription: ['dirbridge:managed'] },
    });
    view.pending.set(contact.id, { csId: contact.id, agent: 'ad-contacts', operation: 'delete', dn: contact.dn, attempts: 0, lastError: null });
    const { overlay, kinds } = sync(view, person(view, 'Ann Archer'));
    // Joined again, it gets what it lacks as an update: the same object, never a new one.
    expect(kinds).toEqual(['create-mv', 'link', 'withdraw-export', 'link', 'stage-export']);
    expect(overlay.decisions[3]).toMatchObject({
      cs: { id: contact.id },
      linkKind: 'join',
      owned: true,
      detail: expect.stringMatching(/staged deletion, not sent yet, is withdrawn/),
    });
    expect(overlay.exports(Object.keys(config.agents))).toEqual({
      staged: [expect.objectContaining({ csId: contact.id, operation: 'update' })],
      withdrawn: [],
    });
  });

  it('a deletion already sent is not taken back: the person gets a new contact once the DN is free', () => {
    const view = new MemoryView();
    const contact = view.addCs({
      agent: 'ad-contacts',
      dn: `CN=Ann Archer,${CONTACTS_OU}`,
      attributes: { mail: ['ann.archer@notes.acme.test'], admindescription: ['dirbridge:managed'] },
    });
    view.pending.set(contact.id, {
      csId: contact.id,
      agent: 'ad-contacts',
      operation: 'delete',
      dn: contact.dn,
      attempts: 0,
      lastError: null,
      sentAt: '2026-12-02T00:00:00Z',
    });
    const { kinds } = sync(view, person(view, 'Ann Archer'));
    // The DN's holder is being deleted: as good as free, and the export deletes before it adds.
    expect(kinds).toEqual(['create-mv', 'link', 'provision']);
  });

  it('an address another person already has: a conflict opened and reported once, nothing provisioned', () => {
    const view = new MemoryView();
    view.addMv('ExchangeUser', { mail: ['ann.archer@notes.acme.test'] });
    const { overlay, kinds } = sync(view, person(view, 'Ann Archer'));
    expect(kinds).toEqual(['create-mv', 'link', 'open-conflict', 'report']);
    expect(overlay.problems[0]).toMatchObject({ code: 'address-conflict' });

    // Known since: the next sync of the same person reports nothing new.
    const again = new MemoryView();
    again.addMv('ExchangeUser', { mail: ['ann.archer@notes.acme.test'] });
    const mv = again.addMv('DominoUser', {
      cn: ['Ann Archer'],
      sn: ['Archer'],
      givenName: ['Ann'],
      mail: ['ann.archer@notes.acme.test'],
      displayName: ['Ann Archer'],
    });
    again.conflicts.push({ mvId: mv.id, agent: 'ad-contacts', mail: 'ann.archer@notes.acme.test' });
    const ann = person(again, 'Ann Archer', { mvId: mv.id, pendingImport: 'update' });
    const second = sync(again, ann);
    expect(second.kinds.filter((k) => k === 'report' || k === 'open-conflict')).toEqual([]);
  });

  it('a hand-made object at the DN a new contact needs is never taken over: dn-collision at the end of the step', () => {
    const view = new MemoryView();
    view.addCs({ agent: 'ad-contacts', dn: `CN=Ann Archer,${CONTACTS_OU}`, attributes: { mail: ['someone.else@acme.test'] } });
    const { overlay, kinds } = sync(view, person(view, 'Ann Archer'));
    expect(kinds).toEqual(['create-mv', 'link', 'report']);
    expect(overlay.problems[0]).toMatchObject({ code: 'dn-collision', message: expect.stringMatching(/already used in ad-contacts by another object/) });
  });

  it('a changed person stages an update of the changed attributes only; an unchanged one stages nothing', () => {
    const view = new MemoryView();
    const mv = view.addMv('DominoUser', {
      cn: ['Ann Archer'],
      displayName: ['Ann Archer'],
      givenName: ['Ann'],
      sn: ['Archer'],
      mail: ['ann.archer@notes.acme.test'],
    });
    mv.sources = Object.fromEntries(Object.keys(mv.attributes).map((a) => [a, 'domino-people']));
    const contactAttrs = {
      cn: ['Ann Archer'],
      displayname: ['Ann Archer'],
      givenname: ['Ann'],
      sn: ['Archer'],
      mail: ['ann.archer@notes.acme.test'],
      targetaddress: ['SMTP:ann.archer@notes.acme.test'],
      proxyaddresses: ['SMTP:ann.archer@notes.acme.test', 'X500:/o=Acme/cn=Recipients/cn=ann'],
      legacyexchangedn: ['/o=Acme/cn=Recipients/cn=ann'],
      admindescription: ['dirbridge:managed'],
    };
    const contact = view.addCs({
      agent: 'ad-contacts',
      dn: `CN=Ann Archer,${CONTACTS_OU}`,
      attributes: contactAttrs,
      mvId: mv.id,
      owned: true,
      linkKind: 'provisioning',
    });
    const quiet = sync(view, person(view, 'Ann Archer', { mvId: mv.id, pendingImport: 'update' }));
    expect(quiet.kinds).toEqual(['settle-import']);
    expect(quiet.stats.unchanged).toBe(1);

    const changed = new MemoryView();
    changed.mv = view.mv;
    changed.cs = view.cs.filter((c) => c.agent === 'ad-contacts');
    const ann = person(changed, 'Ann Archer', { mvId: mv.id, pendingImport: 'update' });
    ann.attributes = { ...ann.attributes, title: ['Engineer'] };
    const { decisions, kinds } = sync(changed, ann);
    expect(kinds).toEqual(['update-mv', 'settle-import', 'stage-export']);
    expect(decisions[2]).toMatchObject({
      export: { csId: contact.id, operation: 'update', newDn: null, changes: { title: { before: [], after: ['Engineer'] } } },
    });
  });

  it('explains each decision only when asked, and the text says which rule decided', () => {
    const view = new MemoryView();
    const ann = person(view, 'Ann Archer');
    const overlay = new Overlay(view);
    const d = new Decisions({ config, view: overlay, sink: overlay, stats: emptyStats(), tracing: true });
    d.syncObject(ann.id);
    expect(overlay.trace.map((t) => `${t.agent} ${t.rule}`)).toEqual(
      expect.arrayContaining([
        'domino-people scope',
        'domino-people join',
        'domino-people projection',
        'ad-contacts address-conflict',
        'ad-contacts provisioning',
      ]),
    );
    expect(sync(view, ann).kinds).not.toContain('explain');
  });
});

describe('reply-ability: legacyExchangeDN and X500 addresses on the contacts dirbridge makes', () => {
  const contactOf = (decisions: Decision[]) => decisions.find((d): d is Extract<Decision, { kind: 'provision' }> => d.kind === 'provision');

  it('a new contact gets a legacyExchangeDN under the configured prefix and its X500 proxy; the same person gets the same one again', () => {
    const first = new MemoryView();
    const a = contactOf(sync(first, person(first, 'Ann Archer', { anchor: 'UNID-ANN' })).decisions)!;
    const legacyDn = a.attributes['legacyexchangedn']![0]!;
    expect(legacyDn).toMatch(/^\/o=Acme\/ou=Exchange Administrative Group \(FYDIBOHF23SPDLT\)\/cn=Recipients\/cn=[0-9a-f]{32}$/);
    expect(a.attributes['proxyaddresses']).toEqual(['SMTP:ann.archer@notes.acme.test', `X500:${legacyDn}`]);
    // A new metaverse object for the same document (a move undone, a rebuilt metaverse): the same value.
    const again = new MemoryView();
    again.addMv('DominoUser', {});
    const b = contactOf(sync(again, person(again, 'Ann Archer', { anchor: 'UNID-ANN' })).decisions)!;
    expect(b.attributes['legacyexchangedn']).toEqual([legacyDn]);
    // Another person: another value.
    const other = new MemoryView();
    const c = contactOf(sync(other, person(other, 'Ann Archer', { anchor: 'UNID-OTHER' })).decisions)!;
    expect(c.attributes['legacyexchangedn']).not.toEqual([legacyDn]);
  });

  function contactFor(view: MemoryView, attrs: Record<string, string[]>, owned = true): { mv: MvRow; contact: CsRow; doc: CsRow } {
    const mv = view.addMv('DominoUser', { cn: ['Ann Archer'], givenName: ['Ann'], sn: ['Archer'], mail: ['ann.archer@notes.acme.test'] });
    mv.sources = Object.fromEntries(Object.keys(mv.attributes).map((a) => [a, 'domino-people']));
    const doc = person(view, 'Ann Archer', { mvId: mv.id, pendingImport: null, linkKind: 'projection', anchor: 'UNID-ANN' });
    const contact = view.addCs({
      agent: 'ad-contacts',
      dn: `CN=Ann Archer,${CONTACTS_OU}`,
      attributes: {
        cn: ['Ann Archer'],
        displayname: ['Ann Archer'],
        givenname: ['Ann'],
        sn: ['Archer'],
        mail: ['ann.archer@notes.acme.test'],
        targetaddress: ['SMTP:ann.archer@notes.acme.test'],
        admindescription: ['dirbridge:managed'],
        ...attrs,
      },
      mvId: mv.id,
      owned,
      linkKind: owned ? 'provisioning' : 'join',
    });
    return { mv, contact, doc };
  }
  const updateOf = (decisions: Decision[]) =>
    decisions.flatMap((d) => (d.kind === 'stage-export' && d.export.operation === 'update' ? [d.export] : []))[0] as
      Extract<PendingExport, { operation: 'update' }> | undefined;

  it('X500 addresses already on a contact are kept by every update, and a rename keeps its legacyExchangeDN', () => {
    const view = new MemoryView();
    const { doc } = contactFor(view, {
      proxyaddresses: ['SMTP:ann.archer@notes.acme.test', 'X500:/o=Acme/cn=Recipients/cn=ann', 'x500:/o=Old/cn=by-hand'],
      legacyexchangedn: ['/o=Acme/cn=Recipients/cn=ann'],
    });
    // Renamed and readdressed in Domino.
    doc.attributes = { ...doc.attributes, cn: ['Ann Baker'], sn: ['Baker'], internetaddress: ['ann.baker@notes.acme.test'] };
    doc.pendingImport = 'update';
    const staged = updateOf(sync(view, doc).decisions)!;
    expect(staged.newDn).toBe(`CN=Ann Baker,${CONTACTS_OU}`);
    expect(staged.changes['proxyaddresses']!.after).toEqual(['SMTP:ann.baker@notes.acme.test', 'X500:/o=Acme/cn=Recipients/cn=ann', 'x500:/o=Old/cn=by-hand']);
    expect(staged.changes['legacyexchangedn']).toBeUndefined();
  });

  it('a contact dirbridge made before it stamped one gets its legacyExchangeDN once; a joined hand-made contact keeps its own', () => {
    const view = new MemoryView();
    const { doc } = contactFor(view, { proxyaddresses: ['SMTP:ann.archer@notes.acme.test'] });
    doc.pendingImport = 'update';
    const staged = updateOf(sync(view, doc).decisions)!;
    const legacyDn = staged.changes['legacyexchangedn']!.after[0]!;
    expect(legacyDn).toMatch(/\/cn=Recipients\/cn=[0-9a-f]{32}$/);
    expect(staged.changes['proxyaddresses']!.after).toEqual(['SMTP:ann.archer@notes.acme.test', `X500:${legacyDn}`]);

    const handMade = new MemoryView();
    const joined = contactFor(handMade, { proxyaddresses: ['SMTP:ann.archer@notes.acme.test'] }, false);
    joined.doc.pendingImport = 'update';
    expect(updateOf(sync(handMade, joined.doc).decisions)).toBeUndefined();
  });
});

describe('the move of a person to Exchange', () => {
  const migrated = { mailaddress: ['ann.archer@exchange.acme.example'] };
  function world(): { view: MemoryView; person: MvRow; doc: CsRow; contact: CsRow } {
    const view = new MemoryView();
    const mv = view.addMv('DominoUser', { cn: ['Ann Archer'], givenName: ['Ann'], sn: ['Archer'], mail: ['ann.archer@acme.example'] });
    mv.sources = Object.fromEntries(Object.keys(mv.attributes).map((a) => [a, 'domino-people']));
    const doc = view.addCs({
      agent: 'domino-people',
      dn: `cn=Ann Archer,${PEOPLE_OU}`,
      attributes: { cn: ['Ann Archer'], givenname: ['Ann'], sn: ['Archer'], internetaddress: ['ann.archer@acme.example'], mailsystem: ['1'] },
      mvId: mv.id,
      linkKind: 'projection',
    });
    const contact = view.addCs({
      agent: 'ad-contacts',
      dn: `CN=Ann Archer,${CONTACTS_OU}`,
      attributes: {
        mail: ['ann.archer@acme.example'],
        proxyaddresses: ['SMTP:ann.archer@acme.example', 'X500:/o=Acme/cn=Recipients/cn=ann'],
        legacyexchangedn: ['/o=Acme/cn=Recipients/cn=ann'],
        admindescription: ['dirbridge:managed'],
      },
      mvId: mv.id,
      owned: true,
      linkKind: 'provisioning',
    });
    return { view, person: mv, doc, contact };
  }
  const mailbox = (view: MemoryView, extra: Partial<CsRow> = {}) =>
    view.addCs({
      agent: 'ad-mailboxes',
      dn: 'CN=Ann Archer,OU=Mailboxes,DC=acme,DC=example',
      attributes: {
        cn: ['Ann Archer'],
        sn: ['Archer'],
        mail: ['ann.archer@acme.example'],
        proxyaddresses: ['SMTP:ann.archer@acme.example'],
        msexchrecipienttypedetails: ['1'],
      },
      pendingImport: 'add',
      ...extra,
    });

  it('a mailbox appears for a person whose document says they moved: contact deleted, document joined, X500 named, one move recorded', () => {
    const { view, doc, contact, person: before } = world();
    doc.attributes = { ...doc.attributes, ...migrated };
    const { decisions, overlay, stats } = sync(view, mailbox(view));
    const kinds = decisions.map((d) =>
      d.kind === 'link' ? `link:${d.event ?? d.linkKind}` : d.kind === 'stage-export' ? `stage-${d.export.operation}` : d.kind,
    );
    expect(kinds).toEqual(['create-mv', 'link:projection', 'unlink', 'unlink', 'stage-delete', 'delete-mv', 'link:migrated', 'report', 'record-move']);
    expect(decisions.find((d) => d.kind === 'stage-export')).toMatchObject({ export: { csId: contact.id, operation: 'delete' } });
    expect(decisions.find((d) => d.kind === 'delete-mv')).toMatchObject({ mv: { id: before.id }, reason: expect.stringMatching(/moved to ExchangeUser/) });
    // The quickstart does not allow writing to mailboxes: the X500 address is named for an administrator.
    expect(overlay.problems).toEqual([
      expect.objectContaining({ code: 'x500-not-written', severity: 'warning', message: expect.stringContaining('X500:/o=Acme/cn=Recipients/cn=ann') }),
    ]);
    expect(decisions.find((d) => d.kind === 'record-move')).toMatchObject({
      move: { x500: ['X500:/o=Acme/cn=Recipients/cn=ann'], x500Written: false, docCs: doc.id },
    });
    expect(stats.moves).toBe(1);
    // No Domino contact for the mailbox: the person's own document stands for it.
    expect(decisions.some((d) => d.kind === 'provision')).toBe(false);
  });

  it('with migration.writeX500 the X500 addresses are added to the mailbox as values, nothing else in proxyAddresses touched', () => {
    const { view, doc } = world();
    doc.attributes = { ...doc.attributes, ...migrated };
    const box = mailbox(view);
    const overlay = new Overlay(view);
    const decisions = new Decisions({
      config: { ...config, migration: { ...config.migration!, writeX500: ['ad-mailboxes'] } },
      view: overlay,
      sink: overlay,
      stats: emptyStats(),
      tracing: false,
    });
    decisions.syncObject(box.id);
    const staged = overlay.decisions.flatMap((d) => (d.kind === 'stage-export' && d.export.csId === box.id ? [d.export] : []));
    expect(staged).toEqual([
      expect.objectContaining({
        operation: 'update',
        changes: {
          proxyaddresses: {
            before: ['SMTP:ann.archer@acme.example'],
            after: ['SMTP:ann.archer@acme.example', 'X500:/o=Acme/cn=Recipients/cn=ann'],
            added: ['X500:/o=Acme/cn=Recipients/cn=ann'],
          },
        },
      }),
    ]);
    expect(overlay.problems).toEqual([]);
  });

  it("the document changes after the mailbox came (mailbox first, an address conflict meanwhile): the move is made by the document's sync", () => {
    const { view, doc, person: before } = world();
    const box = mailbox(view);
    const first = sync(view, box);
    expect(first.overlay.problems.map((p) => p.code)).toEqual(['address-conflict']);
    // The mailbox and its conflict as the store would now hold them.
    const projected = first.decisions.find((d) => d.kind === 'create-mv') as Extract<Decision, { kind: 'create-mv' }>;
    const e = view.addMv('ExchangeUser', projected.attributes);
    box.mvId = e.id;
    box.pendingImport = null;
    view.conflicts = [{ mvId: e.id, agent: 'domino-contacts', mail: 'ann.archer@acme.example' }];
    doc.attributes = { ...doc.attributes, ...migrated, mailsystem: ['5'] }; // out of the people's scope too
    doc.pendingImport = 'update';
    const { decisions } = sync(view, doc);
    expect(decisions.find((d) => d.kind === 'delete-mv')).toMatchObject({ mv: { id: before.id } });
    expect(decisions.find((d) => d.kind === 'link')).toMatchObject({ cs: { id: doc.id }, mvId: e.id, event: 'migrated' });
    expect(decisions.find((d) => d.kind === 'close-conflict')).toMatchObject({ mv: { id: e.id }, agent: 'domino-contacts' });
    expect(decisions.some((d) => d.kind === 'provision')).toBe(false);
  });

  it('a document that says its person moved, with no mailbox yet, stays that person and keeps its contact, also out of the scope', () => {
    const { view, doc } = world();
    doc.attributes = { ...doc.attributes, ...migrated, mailsystem: ['5'] };
    doc.pendingImport = 'update';
    const { decisions } = sync(view, doc);
    expect(decisions.filter((d) => ['unlink', 'delete-mv', 'record-move', 'remove-cs'].includes(d.kind))).toEqual([]);
    expect(decisions.some((d) => d.kind === 'stage-export' && d.export.operation === 'delete')).toBe(false);
    expect(decisions.map((d) => d.kind)).toContain('settle-import');
  });

  it('the same address without the migration signal stays an address conflict: nothing moves', () => {
    const { view } = world();
    const { decisions, overlay } = sync(view, mailbox(view));
    expect(decisions.some((d) => d.kind === 'delete-mv' || d.kind === 'record-move')).toBe(false);
    expect(overlay.problems.map((p) => p.code)).toEqual(['address-conflict']);
  });
});

describe('a switch of groups: the objects of the old mode are replaced, never left beside the new ones', () => {
  const GROUPS_OU = 'OU=Domino Groups,DC=acme,DC=example';
  const CONTACT = ['top', 'person', 'organizationalPerson', 'contact'];
  const LEGACY_DN = '/o=Acme/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=0123abcd';
  const mirror = withGroups('mirror');
  const address = withGroups('address');

  /** A Domino mail group, changed in Domino (its sync is due), and its metaverse object. */
  function group(view: MemoryView): { source: CsRow; mv: MvRow } {
    view.fullImports.add('ad-group-contacts').add('domino-groups');
    const mv = view.addMv('DominoGroup', {
      cn: ['Notes Sales'],
      displayName: ['Notes Sales'],
      mail: ['notes.sales@acme.example'],
      mailNickname: ['notes.sales'],
    });
    const source = view.addCs({
      agent: 'domino-groups',
      dn: 'cn=Notes Sales,ou=Groups,o=Acme',
      objectClasses: ['dominoGroup'],
      attributes: { cn: ['Notes Sales'], internetaddress: ['notes.sales@acme.example'], grouptype: ['1'] },
      mvId: mv.id,
      linkKind: 'projection',
      pendingImport: 'update',
    });
    return { source, mv };
  }

  /** The contact address mode made for it. */
  const contactOf = (view: MemoryView, mv: MvRow | null, extra: Partial<CsRow> = {}): CsRow =>
    view.addCs({
      agent: 'ad-group-contacts',
      dn: `CN=Notes Sales,${GROUPS_OU}`,
      objectClasses: CONTACT,
      attributes: {
        cn: ['Notes Sales'],
        mail: ['notes.sales@acme.example'],
        targetaddress: ['SMTP:notes.sales@acme.example'],
        proxyaddresses: ['SMTP:notes.sales@acme.example', `X500:${LEGACY_DN}`],
        legacyexchangedn: [LEGACY_DN],
        admindescription: ['dirbridge:managed'],
      },
      mvId: mv?.id ?? null,
      owned: mv !== null,
      linkKind: mv ? 'provisioning' : null,
      ...extra,
    });

  it('after a switch to mirror, the contact dirbridge made is deleted and the group added at its DN, keeping its X.500 address', () => {
    const view = new MemoryView();
    const { source, mv } = group(view);
    const contact = contactOf(view, mv);
    const { decisions, overlay } = syncWith(mirror, view, source);
    expect(decisions).toContainEqual(
      expect.objectContaining({
        kind: 'unlink',
        cs: expect.objectContaining({ id: contact.id }),
        event: 'deprovision',
        detail: expect.stringMatching(/^replaced: /),
      }),
    );
    const added = decisions.find((d) => d.kind === 'provision');
    expect(added).toMatchObject({
      agent: 'ad-group-contacts',
      dn: contact.dn,
      objectClasses: ['top', 'group'],
      attributes: { grouptype: ['8'], proxyaddresses: ['SMTP:notes.sales@acme.example', `X500:${LEGACY_DN}`], admindescription: ['dirbridge:managed'] },
    });
    expect(overlay.exports(Object.keys(mirror.agents)).staged.map((p) => [p.operation, p.dn])).toEqual([
      ['delete', contact.dn],
      ['add', contact.dn],
    ]);
    expect(overlay.problems).toEqual([]);
  });

  it('a hand-made contact joined in address mode is left as its owners keep it: nothing deleted, nothing written, no group beside it', () => {
    const view = new MemoryView();
    const { source, mv } = group(view);
    contactOf(view, mv, { owned: false, linkKind: 'join', attributes: { cn: ['Notes Sales'], mail: ['notes.sales@acme.example'] } });
    const { decisions, overlay } = syncWith(mirror, view, source);
    expect(decisions.filter((d) => d.kind === 'stage-export' || d.kind === 'provision' || d.kind === 'unlink')).toEqual([]);
    expect(overlay.problems).toEqual([]);
  });

  it('an object of another kind that only shares person is no other kind: a mail user joined for a person keeps its updates', () => {
    const view = new MemoryView();
    const mv = view.addMv('DominoUser', { cn: ['Ann Archer'], mail: ['ann.archer@notes.acme.test'], sn: ['Archer'] });
    const ann = person(view, 'Ann Archer', { mvId: mv.id, pendingImport: 'update', linkKind: 'projection' });
    const user = view.addCs({
      agent: 'ad-contacts',
      dn: `CN=Ann Archer,${CONTACTS_OU}`,
      objectClasses: ['top', 'person', 'organizationalPerson', 'user'],
      attributes: { cn: ['Ann Archer'], mail: ['ann.archer@notes.acme.test'] },
      mvId: mv.id,
      linkKind: 'join',
    });
    const { overlay } = sync(view, ann);
    expect(overlay.exports(Object.keys(config.agents)).staged).toEqual([expect.objectContaining({ csId: user.id, operation: 'update' })]);
  });

  it('switched back before the replacement was sent (its deletion held): the group is not added, the contact joined again and its deletion withdrawn', () => {
    const view = new MemoryView();
    const { source, mv } = group(view);
    const contact = contactOf(view, null);
    view.pending.set(contact.id, { csId: contact.id, agent: 'ad-group-contacts', operation: 'delete', dn: contact.dn, attempts: 0, lastError: null });
    const planned = view.addCs({
      agent: 'ad-group-contacts',
      dn: contact.dn,
      objectClasses: ['top', 'group'],
      attributes: { cn: ['Notes Sales'], mail: ['notes.sales@acme.example'], grouptype: ['8'], admindescription: ['dirbridge:managed'] },
      mvId: mv.id,
      owned: true,
      provisioned: true,
      linkKind: 'provisioning',
    });
    view.pending.set(planned.id, {
      csId: planned.id,
      agent: 'ad-group-contacts',
      operation: 'add',
      dn: planned.dn,
      objectClasses: ['top', 'group'],
      attributes: planned.attributes,
      attempts: 0,
      lastError: null,
    });
    const { decisions, overlay } = syncWith(address, view, source);
    expect(decisions).toContainEqual(
      expect.objectContaining({ kind: 'remove-cs', cs: expect.objectContaining({ id: planned.id }), operation: 'provision-cancel' }),
    );
    expect(decisions).toContainEqual(expect.objectContaining({ kind: 'link', cs: expect.objectContaining({ id: contact.id }), owned: true }));
    const { staged, withdrawn } = overlay.exports(Object.keys(address.agents));
    // The contact gets what address mode writes as an update: the same object, never deleted.
    expect(withdrawn.map((p) => [p.operation, p.csId])).toEqual([['add', planned.id]]);
    expect(staged.map((p) => [p.operation, p.csId])).toEqual([['update', contact.id]]);
  });
});
