/**
 * Synthetic directories for the benchmark: N Domino people and N AD mailbox users, and (so that the
 * first setup need not export 2N contacts through LDAP) the contacts dirbridge would have written for
 * them, carrying its ownership stamp; the first sync joins them.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const DOMINO_SUFFIX = 'o=Acme';
export const AD_SUFFIX = 'dc=acme,dc=example';
export const DOMINO_PEOPLE = `ou=People,${DOMINO_SUFFIX}`;
export const DOMINO_CONTACTS = `ou=Exchange Contacts,${DOMINO_SUFFIX}`;
export const AD_MAILBOXES = `ou=Mailboxes,${AD_SUFFIX}`;
export const AD_CONTACTS = `ou=Domino Contacts,${AD_SUFFIX}`;
export const STAMP = 'dirbridge:managed';

export const person = (i: number) => {
  const given = `Given${i}`;
  const sn = `Surname${i}`;
  return { given, sn, cn: `${given} ${sn}`, uid: `p${i}`, mail: `p${i}@notes.acme.test`, title: `Title ${i % 50}`, unid: i.toString(16).toUpperCase().padStart(32, '0') };
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

/** The AD contact the quickstart rules give person i. */
function adContactLdif(i: number): string {
  const p = person(i);
  return `dn: cn=${p.cn},${AD_CONTACTS}\nobjectClass: contact\ncn: ${p.cn}\ndisplayName: ${p.cn}\ngivenName: ${p.given}\nsn: ${p.sn}\nmail: ${p.mail}\nmailNickname: ${p.uid}\ntargetAddress: SMTP:${p.mail}\nproxyAddresses: SMTP:${p.mail}\ntitle: ${p.title}\nadminDescription: ${STAMP}\n\n`;
}

/** The Domino contact the quickstart rules give mailbox i. */
function dominoContactLdif(i: number): string {
  const m = mailbox(i);
  return `dn: cn=${m.cn},${DOMINO_CONTACTS}\nobjectClass: dominoPerson\ncn: ${m.cn}\ngivenname: ${m.given}\nsn: ${m.sn}\nmailaddress: ${m.mail}\ninternetaddress: ${m.mail}\nmailsystem: 5\nuid: ${m.nick}\ntitle: ${m.title}\ndescription: ${STAMP}\n\n`;
}

async function writeLdif(file: string, header: string, count: number, ...records: ((i: number) => string)[]): Promise<void> {
  const out = createWriteStream(file);
  out.write(header);
  for (const record of records) {
    for (let i = 0; i < count; i++) {
      if (!out.write(record(i))) await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
}

export async function writeDominoSeed(file: string, n: number): Promise<void> {
  const header = `dn: ${DOMINO_SUFFIX}\nobjectClass: organization\no: Acme\n\ndn: ${DOMINO_PEOPLE}\nobjectClass: organizationalUnit\nou: People\n\ndn: ${DOMINO_CONTACTS}\nobjectClass: organizationalUnit\nou: Exchange Contacts\n\n`;
  await writeLdif(file, header, n, personLdif, dominoContactLdif);
}

export async function writeAdSeed(file: string, n: number): Promise<void> {
  const header = `dn: ${AD_SUFFIX}\nobjectClass: domain\ndc: acme\n\ndn: ${AD_MAILBOXES}\nobjectClass: organizationalUnit\nou: Mailboxes\n\ndn: ${AD_CONTACTS}\nobjectClass: organizationalUnit\nou: Domino Contacts\n\n`;
  await writeLdif(file, header, n, mailboxLdif, adContactLdif);
}
