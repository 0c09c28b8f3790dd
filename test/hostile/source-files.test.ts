/**
 * One damaged or careless people file after another, each on a copy of a set-up quickstart and run
 * through the shipped delta cycle: every case must end with nobody else's contact touched, no contact
 * deleted, and, where the entry is wrong, an error that names the object, the attribute and what was
 * wrong while the person keeps the contact of her last good import.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exported, problemsOf, records, setUpQuickstart, type Deployment, type Problem } from './harness.js';

const ALICE_DN = 'dn: cn=Alice Archer,ou=Sales,o=Acme';
const ALICE_UNID = 'FA5D91045BE31D59BCBE77284EA3BDF7';
const ALICE_MAIL = 'alice.archer@notes.acme.example';

interface Case {
  name: string;
  /** The new people file from the old one, or a change to the folder (then returns nothing). */
  change: (text: string, d: Deployment) => string | void;
  /** What the run must report: exit code, and a problem that must be among those reported. */
  code: number;
  problem?: Partial<Problem> & { message?: unknown };
  /** How Alice's contact must read afterwards (default: unchanged). */
  alice?: (contact: string) => void;
  /** Exports the run may send (default: none). */
  exports?: Partial<ReturnType<typeof exported>>;
}

const aliceRecord = (t: string): string => t.slice(t.indexOf(ALICE_DN), t.indexOf('\n\n', t.indexOf(ALICE_DN)));
const kept = 'the object keeps the values of its last good import';
/** Where a line of Alice's entry stands in the shipped people file (messages name the line). */
const shippedLines = readFileSync(new URL('../../examples/quickstart/domino-names.ldif', import.meta.url), 'utf8').split('\n');
const lineOfAlice = (line: string): number => shippedLines.indexOf(line, shippedLines.indexOf(ALICE_DN)) + 1;

const cases: Case[] = [
  {
    name: 'an empty DN',
    change: (t) => t.replace(ALICE_DN, 'dn:'),
    code: 2,
    problem: { code: 'invalid-dn', attribute: 'dn', message: expect.stringMatching(/the DN is empty.*keeps the values/) },
  },
  {
    name: 'a DN without "="',
    change: (t) => t.replace(ALICE_DN, 'dn: Alice Archer'),
    code: 2,
    problem: { code: 'invalid-dn', object: 'Alice Archer', message: expect.stringContaining(kept) },
  },
  {
    name: 'a DN ending in a comma',
    change: (t) => t.replace(ALICE_DN, `${ALICE_DN},`),
    code: 2,
    problem: { code: 'invalid-dn', message: expect.stringMatching(/ends with a separator/) },
  },
  {
    name: 'a DN in base64 that is not base64',
    change: (t) => t.replace(ALICE_DN, 'dn:: ***'),
    code: 2,
    problem: {
      code: 'invalid-ldif',
      attribute: 'dn',
      message: expect.stringMatching(new RegExp(`invalid base64.*line ${lineOfAlice(ALICE_DN)}\\b.*keeps the values`)),
    },
  },
  {
    name: 'a value in base64 that is not base64',
    change: (t) => t.replace('sn: Archer', 'sn:: A$$$'),
    code: 2,
    problem: { code: 'invalid-ldif', object: 'cn=Alice Archer,ou=Sales,o=Acme', attribute: 'sn', message: expect.stringContaining(kept) },
  },
  {
    name: 'a base64 value that decodes to bytes that are not UTF-8',
    change: (t) => t.replace('sn: Archer', `sn:: ${Buffer.from([0xff, 0xfe, 0x41]).toString('base64')}`),
    code: 2,
    problem: { code: 'invalid-utf8', attribute: 'sn' },
  },
  {
    name: 'a value that points to a local file (never read)',
    change: (t) => t.replace('sn: Archer', 'sn:< file:///etc/passwd'),
    code: 2,
    problem: { code: 'invalid-ldif', attribute: 'sn', message: expect.stringMatching(/refers to a URL/) },
  },
  {
    name: 'a line without a colon',
    change: (t) => t.replace('sn: Archer', 'sn Archer'),
    code: 2,
    problem: {
      code: 'invalid-ldif',
      object: 'cn=Alice Archer,ou=Sales,o=Acme',
      message: expect.stringMatching(new RegExp(`expected "attribute: value".*line ${lineOfAlice('sn: Archer')}\\)`)),
    },
  },
  {
    name: 'an attribute name that is not one',
    change: (t) => t.replace('sn: Archer', 's n: Archer'),
    code: 2,
    problem: { code: 'invalid-ldif', message: expect.stringMatching(/"s n" is not an attribute name/) },
  },
  {
    name: 'a NUL byte in a value',
    change: (t) => t.replace('sn: Archer', 'sn: Arc\u0000her'),
    code: 2,
    problem: { code: 'control-characters', attribute: 'sn' },
  },
  {
    name: 'a terminal escape sequence in a value',
    change: (t) => t.replace('sn: Archer', 'sn: Arc\u001b[31mher'),
    code: 2,
    problem: { code: 'control-characters', attribute: 'sn' },
  },
  { name: 'CR LF line ends throughout (no change)', change: (t) => t.replace(/\n/g, '\r\n'), code: 0 },
  { name: 'a UTF-8 byte order mark (no change)', change: (t) => `\uFEFF${t}`, code: 0 },
  { name: 'a comment line inside a record (no change)', change: (t) => t.replace('sn: Archer', '# a comment\nsn: Archer'), code: 0 },
  { name: 'a folded value (no change)', change: (t) => t.replace('title: Sales', 'title: Sa\n les'), code: 0 },
  {
    name: 'a DN given in base64 (no change)',
    change: (t) => t.replace(ALICE_DN, `dn:: ${Buffer.from('cn=Alice Archer,ou=Sales,o=Acme').toString('base64')}`),
    code: 0,
  },
  { name: 'the same DN in another case (no change)', change: (t) => t.replace(ALICE_DN, 'dn: CN=alice archer,OU=sales,O=acme'), code: 0 },
  { name: 'a move to another OU (the contact stays)', change: (t) => t.replace(ALICE_DN, 'dn: cn=Alice Archer,ou=Marketing,o=Acme'), code: 0 },
  { name: 'a 10 KB DN (no change to the contact)', change: (t) => t.replace(ALICE_DN, `dn: cn=Alice Archer,${'ou=x,'.repeat(2000)}ou=Sales,o=Acme`), code: 0 },
  {
    name: 'the anchor line removed',
    change: (t) => t.replace(`dominoUNID: ${ALICE_UNID}\n`, ''),
    code: 2,
    problem: { code: 'missing-anchor', attribute: 'dominoUNID', message: expect.stringContaining(kept) },
  },
  {
    name: 'an empty anchor',
    change: (t) => t.replace(`dominoUNID: ${ALICE_UNID}`, 'dominoUNID:'),
    code: 2,
    problem: { code: 'missing-anchor', message: expect.stringContaining(kept) },
  },
  {
    name: 'two anchor values',
    change: (t) => t.replace(`dominoUNID: ${ALICE_UNID}`, `dominoUNID: ${ALICE_UNID}\ndominoUNID: ${'1'.repeat(32)}`),
    code: 2,
    problem: { code: 'multiple-anchors', attribute: 'dominoUNID', message: expect.stringContaining(kept) },
  },
  { name: 'the person given twice (a copied document: same UNID)', change: (t) => `${t.trimEnd()}\n\n${aliceRecord(t)}\n`, code: 0 },
  {
    name: 'the same DN twice with another UNID',
    change: (t) => `${t.trimEnd()}\n\n${aliceRecord(t).replace(ALICE_UNID, '2'.repeat(32))}\n`,
    code: 2,
    problem: { code: 'duplicate-address', attribute: 'mail' },
  },
  {
    name: 'a change record in the export',
    change: (t) => t.replace(ALICE_DN, `${ALICE_DN}\nchangetype: add`),
    code: 2,
    problem: { code: 'invalid-ldif', attribute: 'changetype', message: expect.stringMatching(/not content/) },
  },
  {
    name: 'an address that is not one',
    change: (t) => t.replace(`internetaddress: ${ALICE_MAIL}`, 'internetaddress: not-an-address'),
    code: 2,
    problem: { code: 'invalid-smtp-address', attribute: 'mail' },
  },
  {
    name: 'an address with a header smuggled in after a line break',
    change: (t) => t.replace(`internetaddress: ${ALICE_MAIL}`, `internetaddress:: ${Buffer.from(`${ALICE_MAIL}\nbcc: x@evil.example`).toString('base64')}`),
    code: 2,
    problem: { code: 'invalid-smtp-address', message: expect.stringMatching(/white space or control characters/) },
  },
  {
    name: 'special characters in the name, escaped in the DN: the contact DN is escaped too',
    change: (t) =>
      t.replace(ALICE_DN, 'dn: cn=Alice \\"A\\+B\\" \\<C\\>\\;\\\\ Archer,ou=Sales,o=Acme').replace('cn: Alice Archer', 'cn: Alice "A+B" <C>;\\ Archer'),
    code: 0,
    exports: { updates: 1, renames: 1 },
    alice: (c) =>
      expect(c).toMatch(/^dn: CN=Alice \\"A\\\+B\\" \\<C\\>\\;\\\\ Archer,OU=Domino Contacts,DC=acme,DC=example\n[^]*\ncn: Alice "A\+B" <C>;\\ Archer\n/),
  },
  {
    name: 'a name with a leading "#": escaped in the contact DN',
    change: (t) => t.replace(ALICE_DN, 'dn: cn=\\#Alice,ou=Sales,o=Acme').replace('cn: Alice Archer', 'cn: #Alice'),
    code: 0,
    exports: { updates: 1, renames: 1 },
    alice: (c) => expect(c).toMatch(/^dn: CN=\\#Alice,OU=Domino Contacts/),
  },
  {
    name: 'a value of 1 MB is carried whole',
    change: (t) => t.replace('title: Sales', `title: ${'x'.repeat(1 << 20)}`),
    code: 0,
    exports: { updates: 1 },
    alice: (c) => expect(c.replace(/\n /g, '')).toContain(`title: ${'x'.repeat(1 << 20)}\n`),
  },
  {
    name: 'trailing spaces are part of the value (written in base64)',
    change: (t) => t.replace('sn: Archer', 'sn: Archer   '),
    code: 0,
    exports: { updates: 1 },
    alice: (c) => expect(c).toContain(`sn:: ${Buffer.from('Archer   ').toString('base64')}\n`),
  },
  { name: 'only the version line: refused as a shrunk directory', change: () => 'version: 1\n', code: 6 },
  {
    name: 'the file replaced by /dev/null: refused as a shrunk directory',
    change: (_t, d) => (rmSync(d.file('domino-names.ldif')), symlinkSync('/dev/null', d.file('domino-names.ldif'))),
    code: 6,
  },
  { name: 'the file removed: the step stops, naming the file and the key', change: (_t, d) => rmSync(d.file('domino-names.ldif')), code: 4 },
  {
    name: 'a folder in place of the file: the step stops, naming it',
    change: (_t, d) => (rmSync(d.file('domino-names.ldif')), mkdirSync(d.file('domino-names.ldif'))),
    code: 4,
  },
];

describe('hostile: bad input', () => {
  for (const c of cases) {
    it(`people file: ${c.name}`, () => {
      const d = setUpQuickstart();
      const contactsBefore = records(d.read('work/ad-contacts.ldif'));
      const out = c.change(readFileSync(d.file('domino-names.ldif'), 'utf8'), d);
      if (typeof out === 'string') writeFileSync(d.file('domino-names.ldif'), out);
      const r = d.cli(['run', 'delta-cycle']);
      const problems = problemsOf(r.report);
      expect({ code: r.code, problems: problems.map((p) => p.code) }).toMatchObject({ code: c.code });
      if (c.problem) expect(problems).toContainEqual(expect.objectContaining(c.problem));
      if (c.code === 4)
        expect(r.report!.steps.find((s) => s.message)?.message).toMatch(
          /agents\.domino-people\.file\) (does not exist|is a folder).*nobody was taken as deleted/,
        );
      if (c.code === 6) expect(r.report!.steps.find((s) => s.message)?.message).toMatch(/not taken as \d+ deletions/);
      expect(exported(r.report)).toEqual({ adds: 0, updates: 0, renames: 0, deletes: 0, ...c.exports });
      const after = records(d.read('work/ad-contacts.ldif'));
      const isAlice = (rec: string): boolean => rec.includes(`mail: ${ALICE_MAIL}`);
      // Nobody else's contact changed, and Alice has exactly one.
      expect(after.filter((rec) => !isAlice(rec))).toEqual(contactsBefore.filter((rec) => !isAlice(rec)));
      const alice = after.filter(isAlice);
      expect(alice).toHaveLength(1);
      if (c.alice) c.alice(alice[0]!);
      else expect(alice[0]).toBe(contactsBefore.find(isAlice));
      expect(d.read('work/ad-contacts.ldif')).not.toContain('\uFFFD');
      expect(d.read('work/ad-contacts.ldif')).not.toContain('root:');
    });
  }
});

const PAULA_GUID = 'objectGUID:: 8ajdK49cTVeT75BlItgPMg==';
const QUENTIN_GUID = 'objectGUID:: FcW12uG+/1KnDMlsRNVfvQ==';

interface FolderCase {
  name: string;
  change: (d: Deployment) => void;
  code: number;
  problem?: Partial<Problem> & { message?: unknown };
  exports?: Partial<ReturnType<typeof exported>>;
  /** What must hold afterwards, after a second cycle. */
  after: (d: Deployment) => void;
}

const edit = (d: Deployment, file: string, f: (t: string) => string): void => writeFileSync(d.file(file), f(d.read(file)));
const dominoContacts = (d: Deployment): string[] => records(d.read('work/domino-contacts.ldif'));
const adContacts = (d: Deployment): string[] => records(d.read('work/ad-contacts.ldif'));
const withMail = (recs: string[], mail: string): string[] =>
  recs.filter((r) => new RegExp(`^(mail|internetaddress|mailaddress): ${mail.replace(/\./g, '\\.')}$`, 'im').test(r));
const everyMailboxHasItsContact = (d: Deployment): void => {
  for (const mail of ['paula.perez@acme.example', 'quentin.quinn@acme.example']) expect(withMail(dominoContacts(d), mail), mail).toHaveLength(1);
};
const aliceHasOneContact = (d: Deployment): void => expect(withMail(adContacts(d), ALICE_MAIL)).toHaveLength(1);

const folderCases: FolderCase[] = [
  {
    name: 'mailbox file: a mailbox without objectGUID',
    change: (d) => edit(d, 'ad-mailboxes.ldif', (t) => t.replace(`${PAULA_GUID}\n`, '')),
    code: 2,
    problem: { code: 'missing-anchor', object: 'CN=Paula Perez,OU=Mailboxes,DC=acme,DC=example', message: expect.stringContaining(kept) },
    after: everyMailboxHasItsContact,
  },
  {
    name: 'mailbox file: an objectGUID written as text',
    change: (d) => edit(d, 'ad-mailboxes.ldif', (t) => t.replace(PAULA_GUID, 'objectGUID: 8ajdK49cTVeT75BlItgPMg==')),
    code: 2,
    problem: { code: 'invalid-guid', message: expect.stringMatching(/24 bytes, a GUID has 16.*keeps the values/) },
    after: everyMailboxHasItsContact,
  },
  {
    name: "mailbox file: one mailbox given another's objectGUID: neither loses its contact",
    change: (d) => edit(d, 'ad-mailboxes.ldif', (t) => t.replace(QUENTIN_GUID, PAULA_GUID)),
    code: 2,
    problem: {
      code: 'duplicate-anchor',
      object: 'CN=Quentin Quinn,OU=Mailboxes,DC=acme,DC=example',
      message: expect.stringMatching(/the object known at this DN .* keeps its last good image too/),
    },
    after: everyMailboxHasItsContact,
  },
  {
    name: 'mailbox file: a binary attribute with broken base64',
    change: (d) => edit(d, 'ad-mailboxes.ldif', (t) => t.replace('msExchMailboxGuid:: FRwWVCzoPFWSEiQI8QnlUw==', 'msExchMailboxGuid:: FRwW!')),
    code: 2,
    problem: { code: 'invalid-ldif', attribute: 'msExchMailboxGuid' },
    after: everyMailboxHasItsContact,
  },
  {
    name: 'mailbox file: a mailbox that lost its mail keeps its contact',
    change: (d) => edit(d, 'ad-mailboxes.ldif', (t) => t.replace('mail: paula.perez@acme.example\n', '')),
    code: 2,
    problem: { code: 'missing-attribute', attribute: 'mail' },
    after: everyMailboxHasItsContact,
  },
  {
    name: 'contacts: a contact deleted by hand is created again in the same cycle',
    change: (d) => edit(d, 'work/ad-contacts.ldif', (t) => t.replace(aliceRecordIn(t), '').replace(/\n{3,}/g, '\n\n')),
    code: 0,
    exports: { adds: 1 },
    after: aliceHasOneContact,
  },
  {
    name: 'contacts: a mail changed by hand is set back',
    change: (d) => edit(d, 'work/ad-contacts.ldif', (t) => t.replace(`mail: ${ALICE_MAIL}`, 'mail: alice@evil.example')),
    code: 0,
    exports: { updates: 1 },
    after: (d) => (aliceHasOneContact(d), expect(d.read('work/ad-contacts.ldif')).not.toContain('alice@evil.example')),
  },
  {
    name: 'contacts: a contact moved by hand is moved back',
    change: (d) => edit(d, 'work/ad-contacts.ldif', (t) => t.replace('dn: CN=Alice Archer,OU=Domino Contacts', 'dn: CN=Alice Archer,OU=Elsewhere')),
    code: 0,
    exports: { renames: 1 },
    after: (d) => (aliceHasOneContact(d), expect(d.read('work/ad-contacts.ldif')).toContain('dn: CN=Alice Archer,OU=Domino Contacts,DC=acme,DC=example')),
  },
  {
    name: 'contacts: a file cut in the middle of a line: nothing re-added, nothing deleted',
    change: (d) =>
      writeFileSync(
        d.file('work/ad-contacts.ldif'),
        readFileSync(d.file('work/ad-contacts.ldif')).subarray(0, Math.floor(readFileSync(d.file('work/ad-contacts.ldif')).length / 2)),
      ),
    code: 1,
    problem: { code: 'incomplete-read', object: 'ad-contacts' },
    after: () => undefined,
  },
  {
    name: 'contacts: an emptied file is refused as a shrunk directory, nothing re-added',
    change: (d) => writeFileSync(d.file('work/ad-contacts.ldif'), ''),
    code: 6,
    after: () => undefined,
  },
  {
    name: 'contacts: the changes file removed: recorded changes go on in a new one',
    change: (d) => rmSync(d.file('work/ad-contacts.changes.ldif')),
    code: 0,
    after: aliceHasOneContact,
  },
];

function aliceRecordIn(t: string): string {
  const i = t.indexOf('dn: CN=Alice Archer,');
  return t.slice(i, t.indexOf('\n\n', i) + 1);
}

describe('hostile: bad input', () => {
  for (const c of folderCases) {
    it(c.name, () => {
      const d = setUpQuickstart();
      c.change(d);
      const r = d.cli(['run', 'delta-cycle']);
      expect(r.code, JSON.stringify(problemsOf(r.report).map((p) => p.code))).toBe(c.code);
      if (c.problem) expect(problemsOf(r.report)).toContainEqual(expect.objectContaining(c.problem));
      expect(exported(r.report)).toEqual({ adds: 0, updates: 0, renames: 0, deletes: 0, ...c.exports });
      const again = d.cli(['run', 'delta-cycle']);
      expect(exported(again.report)).toEqual({ adds: 0, updates: 0, renames: 0, deletes: 0 });
      c.after(d);
    });
  }
});

describe('hostile: bad input', () => {
  it('people removed by mistake, held by the deletion threshold, then restored: their contacts stay the same objects, nothing is left pending', () => {
    const d = setUpQuickstart();
    edit(d, 'dirbridge.yaml', (t) => `${t.trimEnd()}\nsafety:\n  deletionThreshold: { count: 5 }\n`);
    const full = d.read('domino-names.ldif');
    const contactsBefore = adContacts(d);
    // Ten people cut out of the export (an administrator's wrong selection).
    const people = full.split(/\n\n/);
    const cut = people.filter((rec) => /^dn: cn=/.test(rec)).slice(0, 10);
    expect(cut).toHaveLength(10);
    writeFileSync(d.file('domino-names.ldif'), people.filter((rec) => !cut.includes(rec)).join('\n\n'));
    const held = d.cli(['run', 'delta-cycle']);
    expect(held.code).toBe(5);
    expect(held.report!.steps.find((s) => s.message)?.message).toMatch(/deletions are pending for ad-contacts/);
    expect(adContacts(d)).toEqual(contactsBefore);
    // The export is put right: the same people, the same UNIDs.
    writeFileSync(d.file('domino-names.ldif'), full);
    const restored = d.cli(['run', 'delta-cycle']);
    expect({ code: restored.code, problems: problemsOf(restored.report).map((p) => p.code) }).toEqual({ code: 0, problems: [] });
    expect(exported(restored.report)).toEqual({ adds: 0, updates: 0, renames: 0, deletes: 0 });
    expect(adContacts(d)).toEqual(contactsBefore);
    const plan = JSON.parse(d.cli(['plan']).stdout) as { exports: unknown[] };
    expect(plan.exports).toEqual([]);
  });
});
