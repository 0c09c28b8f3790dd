import { statSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/metaverse/store.js';
import { migrations } from '../../src/metaverse/migrations.js';

function fresh(): Store {
  const s = Store.open(join(mkdtempSync(join(tmpdir(), 'dirbridge-store-')), 'mv.db'));
  s.setIndexPlan({ cs: new Map([['ad-contacts', ['mail', 'proxyaddresses#smtp']]]), mv: new Map([['DominoUser', ['mail']]]) });
  return s;
}

describe('metaverse store', () => {
  it('creates its file readable by the owner only, in WAL mode, at the latest schema version', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dirbridge-store-')), 'mv.db');
    const s = Store.open(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.schemaVersion()).toBe(migrations.at(-1)!.version);
    s.close();
    expect(Store.open(file).schemaVersion()).toBe(migrations.at(-1)!.version); // reopening migrates nothing twice
  });

  it('logs every change with the values before and after, per run', () => {
    const s = fresh();
    const runId = s.startRun('test');
    const step = { runId, stepId: s.startStep(runId, 1, 'domino-people', 'full-sync') };
    const id = s.createMv(step, 'DominoUser', { mail: ['a@x.com'], sn: ['Lee'] }, { mail: 'domino-people', sn: 'domino-people' });
    s.updateMv(step, s.getMv(id)!, { mail: ['a@x.com'], sn: ['Li'] }, { mail: 'domino-people', sn: 'domino-people' });
    s.deleteMv(step, s.getMv(id)!, 'person left');
    const log = s.changesOf('mv', id);
    expect(log.map((c) => c.operation)).toEqual(['mv-add', 'mv-update', 'mv-delete']);
    expect(log[1]).toMatchObject({ runId, before: { sn: ['Lee'] }, after: { sn: ['Li'] } });
    expect(log[2]!.after).toEqual({ reason: 'person left' });
  });

  it('finds objects by DN however it is spelt, and keys a renamed object by its new DN: callers pass DNs, never keys', () => {
    const s = fresh();
    const id = s.insertCs(undefined, {
      agent: 'ad-contacts',
      anchor: 'a1',
      dn: 'CN=Ann Lee,OU=Contacts,DC=x',
      objectClasses: ['contact'],
      attributes: {},
      pendingImport: 'add',
    });
    expect(s.getCsByDn('ad-contacts', 'cn=ann lee, ou=contacts, dc=X').map((c) => c.id)).toEqual([id]);
    expect(s.getCsByDn('other-agent', 'cn=ann lee,ou=contacts,dc=x')).toEqual([]);
    s.updateCsImage(undefined, s.getCs(id)!, { dn: 'CN=Ann Li,OU=Contacts,DC=x', objectClasses: ['contact'], attributes: {} }, 'import-update');
    expect(s.getCsByDn('ad-contacts', 'cn=ann lee,ou=contacts,dc=x')).toEqual([]);
    expect(s.getCsByDn('ad-contacts', 'CN=ANN LI,OU=CONTACTS,DC=X').map((c) => c.id)).toEqual([id]);
    // A DN that does not parse is looked up as it came (case-folded), and finds nothing rather than failing.
    expect(s.getCsByDn('ad-contacts', 'cn=Ann,,dc=x')).toEqual([]);
  });

  it('keeps the lookup index by difference, and rebuilds it when the rules ask for other keys', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dirbridge-store-')), 'mv.db');
    const s = Store.open(file);
    s.setIndexPlan({ cs: new Map([['ad-contacts', ['mail']]]), mv: new Map([['DominoUser', ['mail']]]) });
    const id = s.insertCs(undefined, {
      agent: 'ad-contacts',
      anchor: 'a1',
      dn: 'cn=Ann,o=x',
      objectClasses: ['contact'],
      attributes: { mail: ['Ann@X.com'], uid: ['ann'] },
      pendingImport: 'add',
    });
    const mv = s.createMv(undefined, 'DominoUser', { mail: ['ann@x.com'], uid: ['ann'] }, {});
    expect(s.findCsByIndex('ad-contacts', 'uid', 'ann')).toEqual([]); // not a key yet
    s.updateCsImage(
      undefined,
      s.getCs(id)!,
      { dn: 'cn=Ann,o=x', objectClasses: ['contact'], attributes: { mail: ['ann@y.com'], uid: ['ann'] } },
      'import-update',
    );
    expect(s.findCsByIndex('ad-contacts', 'mail', 'ann@x.com')).toEqual([]);
    expect(s.findCsByIndex('ad-contacts', 'mail', 'ann@y.com').map((c) => c.id)).toEqual([id]);
    s.close();

    // A join rule on uid is added: the store opened with the new keys indexes what it already holds.
    const again = Store.open(file);
    again.setIndexPlan({ cs: new Map([['ad-contacts', ['mail', 'uid']]]), mv: new Map([['DominoUser', ['mail', 'uid']]]) });
    expect(again.findCsByIndex('ad-contacts', 'uid', 'ANN').map((c) => c.id)).toEqual([id]);
    expect(again.findCsByIndex('ad-contacts', 'mail', 'ann@y.com').map((c) => c.id)).toEqual([id]);
    expect(again.findMv('uid', 'ann')).toEqual([mv]);
    again.close();
  });

  it('finds MV objects and disconnectors by folded index values', () => {
    const s = fresh();
    const mv = s.createMv(undefined, 'DominoUser', { mail: ['Ann@X.com'] }, {});
    expect(s.findMv('mail', 'ann@x.COM', 'DominoUser')).toEqual([mv]);
    expect(s.findMv('mail', 'ann@x.com', 'ExchangeUser')).toEqual([]);
    const cs = s.insertCs(undefined, {
      agent: 'ad-contacts',
      anchor: 'g1',
      dn: 'CN=Ann,DC=x',
      objectClasses: ['contact'],
      attributes: { proxyaddresses: ['SMTP:ann@x.com', 'X500:/o=a'] },
      pendingImport: 'add',
    });
    expect(s.findDisconnectors('ad-contacts', 'proxyaddresses#smtp', 'ANN@x.com').map((c) => c.id)).toEqual([cs]);
    expect(s.hasDisconnectors('ad-contacts')).toBe(true);
    expect(s.hasDisconnectors('domino-contacts')).toBe(false);
    s.link(undefined, s.getCs(cs)!, mv, 'join', false, 'test');
    expect(s.findDisconnectors('ad-contacts', 'proxyaddresses#smtp', 'ann@x.com')).toEqual([]);
    expect(s.hasDisconnectors('ad-contacts')).toBe(false); // what lets provisioning skip the search
    s.unlink(undefined, s.getCs(cs)!, 'disconnect', 'test');
    expect(s.hasDisconnectors('ad-contacts')).toBe(true);
    s.link(undefined, s.getCs(cs)!, mv, 'join', false, 'test');
    expect(s.lineageOf(mv)).toMatchObject([{ agent: 'ad-contacts', event: 'join', owned: false }, { event: 'disconnect' }, { event: 'join' }]);
  });

  it('keeps one pending export per connector-space object', () => {
    const s = fresh();
    const cs = s.insertCs(undefined, {
      agent: 'ad-contacts',
      anchor: null,
      dn: 'CN=A,DC=x',
      objectClasses: [],
      attributes: {},
      pendingImport: null,
      provisioned: true,
      owned: true,
    });
    s.putPendingExport(undefined, {
      csId: cs,
      agent: 'ad-contacts',
      operation: 'add',
      dn: 'CN=A,DC=x',
      objectClasses: ['contact'],
      attributes: { mail: ['a@x.com'] },
      attempts: 0,
      lastError: null,
    });
    s.putPendingExport(undefined, {
      csId: cs,
      agent: 'ad-contacts',
      operation: 'add',
      dn: 'CN=A,DC=x',
      objectClasses: ['contact'],
      attributes: { mail: ['b@x.com'] },
      attempts: 0,
      lastError: null,
    });
    expect(s.pendingExports('ad-contacts')).toMatchObject([{ operation: 'add', attributes: { mail: ['b@x.com'] } }]);
    s.recordExportFailure(cs, 'refused');
    expect(s.getPendingExport(cs)).toMatchObject({ attempts: 1, lastError: 'refused' });
  });

  it('stores a provisioned object linked, with its lineage and an add that reads its attributes from the image', () => {
    const s = fresh();
    const mv = s.createMv(undefined, 'DominoUser', { mail: ['ann@x.com'] }, { mail: 'domino-people' });
    const attributes = { cn: ['Ann'], mail: ['ann@x.com'] };
    const id = s.insertProvisioned(undefined, { agent: 'ad-contacts', dn: 'CN=Ann,DC=x', objectClasses: ['contact'], attributes }, mv, 'provisioned by a test');
    expect(s.getCs(id)).toMatchObject({ mvId: mv, linkKind: 'provisioning', provisioned: true, owned: true, pendingImport: null, attributes });
    expect(s.lineageOf(mv)).toMatchObject([{ csId: id, event: 'provisioning', owned: true, detail: 'provisioned by a test' }]);
    expect(s.findCsByIndex('ad-contacts', 'mail', 'ann@x.com').map((c) => c.id)).toEqual([id]);
    expect(s.getPendingExport(id)).toMatchObject({ operation: 'add', dn: 'CN=Ann,DC=x', objectClasses: ['contact'], attributes });
    // The add is the image: planned again with new values, it sends those.
    s.replanProvisioned(undefined, s.getCs(id)!, {
      dn: 'CN=Ann B,DC=x',
      objectClasses: ['contact'],
      attributes: { cn: ['Ann B'], mail: ['ann@x.com'] },
    });
    expect(s.pendingExports('ad-contacts')).toMatchObject([{ operation: 'add', dn: 'CN=Ann B,DC=x', attributes: { cn: ['Ann B'], mail: ['ann@x.com'] } }]);
    // A delete replacing it keeps no attributes; an add staged with its own attributes keeps them.
    s.putPendingExport(undefined, { csId: id, agent: 'ad-contacts', operation: 'delete', dn: 'CN=Ann B,DC=x', attempts: 0, lastError: null });
    expect(s.getPendingExport(id)).toEqual(expect.objectContaining({ operation: 'delete' }));
    s.putPendingExport(undefined, {
      csId: id,
      agent: 'ad-contacts',
      operation: 'add',
      dn: 'CN=Ann B,DC=x',
      objectClasses: ['contact'],
      attributes: { cn: ['Own'] },
      attempts: 0,
      lastError: null,
    });
    expect(s.getPendingExport(id)).toMatchObject({ operation: 'add', attributes: { cn: ['Own'] } });
    expect(s.pendingExportOperation(id)).toBe('add');
  });
});
