/**
 * Synthetic directories for the benchmark: N Domino people and N AD mailbox users, optionally with
 * the contacts dirbridge would have written for them (carrying its ownership stamp, so the first sync
 * joins them), and the LDIF of the changes a delta cycle is measured with.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { stableLegacyExchangeDn, x500Proxy } from '../src/util/legacy-dn.js';

export const DOMINO_SUFFIX = 'o=Acme';
export const AD_SUFFIX = 'dc=acme,dc=example';
export const DOMINO_PEOPLE = `ou=People,${DOMINO_SUFFIX}`;
export const DOMINO_CONTACTS = `ou=Exchange Contacts,${DOMINO_SUFFIX}`;
export const AD_MAILBOXES = `ou=Mailboxes,${AD_SUFFIX}`;
export const AD_CONTACTS = `ou=Domino Contacts,${AD_SUFFIX}`;
/** The group agents' containers: empty in the people benchmark, so each cycle pays only for their steps. */
export const DOMINO_GROUP_CONTACTS = `ou=Exchange Groups,${DOMINO_SUFFIX}`;
export const AD_GROUP_CONTACTS = `ou=Domino Groups,${AD_SUFFIX}`;
export const AD_MAILIN_CONTACTS = `ou=Domino Mail-In,${AD_SUFFIX}`;
export const STAMP = 'dirbridge:managed';

export const person = (i: number) => {
  const given = `Given${i}`;
  const sn = `Surname${i}`;
  return {
    given,
    sn,
    cn: `${given} ${sn}`,
    uid: `p${i}`,
    mail: `p${i}@notes.acme.test`,
    title: `Title ${i % 50}`,
    unid: i.toString(16).toUpperCase().padStart(32, '0'),
  };
};

export const mailbox = (i: number) => {
  const given = `Mgiven${i}`;
  const sn = `Msurname${i}`;
  return { given, sn, cn: `${given} ${sn}`, nick: `m${i}`, mail: `m${i}@exchange.acme.test`, title: `Role ${i % 40}` };
};

export function personLdif(i: number): string {
  const p = person(i);
  return `dn: cn=${p.cn},${DOMINO_PEOPLE}\nobjectClass: dominoPerson\ncn: ${p.cn}\ngivenName: ${p.given}\nsn: ${p.sn}\nuid: ${p.uid}\ninternetaddress: ${p.mail}\nmailsystem: 1\ntitle: ${p.title}\ndominoUNID: ${p.unid}\n\n`;
}

export function mailboxLdif(i: number): string {
  const m = mailbox(i);
  return `dn: cn=${m.cn},${AD_MAILBOXES}\nobjectClass: user\ncn: ${m.cn}\ngivenName: ${m.given}\nsn: ${m.sn}\ndisplayName: ${m.cn}\nmail: ${m.mail}\nmailNickname: ${m.nick}\nproxyAddresses: SMTP:${m.mail}\nhomeMDB: CN=Mailbox Database 01\nmsExchRecipientTypeDetails: 1\ntitle: ${m.title}\n\n`;
}

/** The quickstart's legacyExchangeDN prefix for AD contacts. */
const LEGACY_PREFIX = '/o=Acme/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients';

/**
 * The AD contact the quickstart rules give person i (the raw ldapadd measurement writes these too),
 * with the legacyExchangeDN and X500 address dirbridge derives for it, so a seeded contact is joined
 * without an update.
 */
export function adContactLdif(i: number): string {
  const p = person(i);
  const legacy = stableLegacyExchangeDn(LEGACY_PREFIX, `ad-contacts\u0000domino-people\u0000${p.unid}`);
  return `dn: cn=${p.cn},${AD_CONTACTS}\nobjectClass: contact\ncn: ${p.cn}\ndisplayName: ${p.cn}\ngivenName: ${p.given}\nsn: ${p.sn}\nmail: ${p.mail}\nmailNickname: ${p.uid}\ntargetAddress: SMTP:${p.mail}\nproxyAddresses: SMTP:${p.mail}\nproxyAddresses: ${x500Proxy(legacy)}\nlegacyExchangeDN: ${legacy}\ntitle: ${p.title}\nadminDescription: ${STAMP}\n\n`;
}

/** The Domino contact the quickstart rules give mailbox i (the raw ldapadd measurement writes these too). */
export function dominoContactLdif(i: number): string {
  const m = mailbox(i);
  return `dn: cn=${m.cn},${DOMINO_CONTACTS}\nobjectClass: dominoPerson\ncn: ${m.cn}\ngivenname: ${m.given}\nsn: ${m.sn}\nmailaddress: ${m.mail}\ninternetaddress: ${m.mail}\nmailsystem: 5\nuid: ${m.nick}\ntitle: ${m.title}\ndescription: ${STAMP}\n\n`;
}

export async function writeLdif(file: string, header: string, from: number, to: number, ...records: ((i: number) => string)[]): Promise<void> {
  const out = createWriteStream(file);
  out.write(header);
  for (const record of records) {
    for (let i = from; i < to; i++) {
      if (!out.write(record(i))) await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
}

export const DOMINO_TOP = `dn: ${DOMINO_SUFFIX}\nobjectClass: organization\no: Acme\n\ndn: ${DOMINO_PEOPLE}\nobjectClass: organizationalUnit\nou: People\n\ndn: ${DOMINO_CONTACTS}\nobjectClass: organizationalUnit\nou: Exchange Contacts\n\ndn: ${DOMINO_GROUP_CONTACTS}\nobjectClass: organizationalUnit\nou: Exchange Groups\n\n`;
export const AD_TOP = `dn: ${AD_SUFFIX}\nobjectClass: domain\ndc: acme\n\ndn: ${AD_MAILBOXES}\nobjectClass: organizationalUnit\nou: Mailboxes\n\ndn: ${AD_CONTACTS}\nobjectClass: organizationalUnit\nou: Domino Contacts\n\ndn: ${AD_GROUP_CONTACTS}\nobjectClass: organizationalUnit\nou: Domino Groups\n\ndn: ${AD_MAILIN_CONTACTS}\nobjectClass: organizationalUnit\nou: Domino Mail-In\n\n`;

/** N Domino people, and with `contacts` the N Domino contacts of the N mailboxes. */
export async function writeDominoSeed(file: string, n: number, contacts: boolean): Promise<void> {
  await writeLdif(file, DOMINO_TOP, 0, n, personLdif, ...(contacts ? [dominoContactLdif] : []));
}

/** N AD mailbox users, and with `contacts` the N AD contacts of the N people. */
export async function writeAdSeed(file: string, n: number, contacts: boolean): Promise<void> {
  await writeLdif(file, AD_TOP, 0, n, mailboxLdif, ...(contacts ? [adContactLdif] : []));
}

/** Which objects a change set touches: new indices to add, existing ones to delete and to modify. */
export interface ChangeSet {
  adds: number[];
  deletes: number[];
  modifies: number[];
  /** A word the modified surnames get, so that each change set changes something. */
  tag: string;
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, k) => from + k);

/**
 * Change sets over people 0..n-1 that never touch an object twice: the k-th set takes its deletions
 * and modifications from a window of its own, and its additions above everything added before.
 */
export class ChangePlanner {
  private nextExisting = 0;
  private nextNew: number;

  constructor(n: number) {
    this.nextNew = n;
  }

  plan(adds: number, deletes: number, modifies: number, tag: string): ChangeSet {
    const set = { adds: range(this.nextNew, adds), deletes: range(this.nextExisting, deletes), modifies: range(this.nextExisting + deletes, modifies), tag };
    this.nextNew += adds;
    this.nextExisting += deletes + modifies;
    return set;
  }
}

/** The change set as ldapadd / ldapmodify input for the Domino side (people) and the AD side (mailboxes). */
export function changeLdif(set: ChangeSet): { domino: { adds: string; changes: string }; ad: { adds: string; changes: string } } {
  const modify = (dn: string) => `dn: ${dn}\nchangetype: modify\nreplace: sn\nsn: ${set.tag}\n\n`;
  const remove = (dn: string) => `dn: ${dn}\nchangetype: delete\n\n`;
  const personDn = (i: number) => `cn=${person(i).cn},${DOMINO_PEOPLE}`;
  const mailboxDn = (i: number) => `cn=${mailbox(i).cn},${AD_MAILBOXES}`;
  return {
    domino: {
      adds: set.adds.map(personLdif).join(''),
      changes: [...set.modifies.map((i) => modify(personDn(i))), ...set.deletes.map((i) => remove(personDn(i)))].join(''),
    },
    ad: {
      adds: set.adds.map(mailboxLdif).join(''),
      changes: [...set.modifies.map((i) => modify(mailboxDn(i))), ...set.deletes.map((i) => remove(mailboxDn(i)))].join(''),
    },
  };
}
