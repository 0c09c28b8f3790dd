/**
 * The synchronizer's decisions without servers or a store: the shipped quickstart rules over an
 * in-memory view, each decision laid over it by the overlay that preview uses.
 */
import { resolve } from 'node:path';
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

const { config } = loadConfig(resolve(import.meta.dirname, '../../examples/quickstart/dirbridge.yaml'));
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
  const overlay = new Overlay(view);
  const stats = emptyStats();
  const decisions = new Decisions({ config, view: overlay, sink: overlay, stats, tracing: false });
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
      proxyaddresses: ['SMTP:ann.archer@notes.acme.test'],
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
