/**
 * A real Active Directory: a Samba AD domain controller provisioned into a private folder, with the
 * Exchange attributes dirbridge needs added to its schema (Samba's base schema lacks them). Its LDAP
 * ports are fixed (389/636), so the test run starts one DC and every test file shares it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portInUse, run, waitForPort } from './process.js';

export interface SambaInfo {
  url: string;
  baseDn: string;
  bindDn: string;
  password: string;
  /** An object homeMDB can point at (DN-valued attributes must reference existing objects). */
  mailboxDatabaseDn: string;
}

const REALM = 'DIRBRIDGE.TEST';
const BASE = 'DC=dirbridge,DC=test';
const PASSWORD = 'Dirbridge-Test-1!';

export async function startSamba(): Promise<{ info: SambaInfo; stop: () => Promise<void> }> {
  if (await portInUse(389)) {
    throw new Error('port 389 on 127.0.0.1 is already in use; the test Samba AD DC needs it (stop the other LDAP server, or an old test DC)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'dirbridge-samba-'));
  run('samba-tool', [
    'domain',
    'provision',
    '--server-role=dc',
    '--dns-backend=NONE',
    `--targetdir=${dir}`,
    `--realm=${REALM}`,
    '--domain=DIRBRIDGE',
    `--adminpass=${PASSWORD}`,
    '--option=interfaces=lo',
    '--option=bind interfaces only=yes',
  ]);
  const conf = join(dir, 'etc', 'smb.conf');
  writeFileSync(
    conf,
    `[global]
  netbios name = DIRBRIDGEDC
  workgroup = DIRBRIDGE
  realm = ${REALM}
  server role = active directory domain controller
  server services = ldap, kdc
  interfaces = lo
  bind interfaces only = yes
  ldap server require strong auth = no
  dsdb:schema update allowed = true
  private dir = ${dir}/private
  lock directory = ${dir}
  state directory = ${dir}/state
  cache directory = ${dir}/cache
  binddns dir = ${dir}/bind-dns
  log file = ${dir}/log.%m
  logging = file
`,
  );
  const child: ChildProcess = spawn('samba', ['-s', conf, '--foreground', '--no-process-group'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`samba could not start: ${e.message} (npm test installs samba with apt-get)`)));
    child.once('exit', (code) => reject(new Error(`samba exited with ${code}: ${output.slice(-2000)}`)));
  });
  failed.catch(() => undefined);
  await Promise.race([waitForPort(389, '127.0.0.1', 60_000, 'samba'), failed]);

  const bindDn = `CN=Administrator,CN=Users,${BASE}`;
  const auth = ['-x', '-H', 'ldap://127.0.0.1', '-D', bindDn, '-w', PASSWORD];
  // The DC accepts connections a moment before it answers binds.
  for (let i = 0; ; i++) {
    try {
      run('ldapsearch', [...auth, '-b', BASE, '-s', 'base', 'dn']);
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  run('ldapmodify', auth, exchangeSchema(`CN=Schema,CN=Configuration,${BASE}`));
  const mailboxDatabaseDn = `CN=Mailbox Database 01,CN=Users,${BASE}`;
  run('ldapadd', auth, `dn: ${mailboxDatabaseDn}\nobjectClass: container\n`);

  return {
    info: { url: 'ldap://127.0.0.1:389', baseDn: BASE, bindDn, password: PASSWORD, mailboxDatabaseDn },
    stop: async () => {
      child.removeAllListeners('exit');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      // Samba's worker processes may still be closing files for a moment after the master exits.
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 250 });
      } catch {
        /* a temp folder left behind is not a test failure */
      }
    },
  };
}

/** The Exchange attributes with their real attributeIDs, added to the mailRecipient class. */
function exchangeSchema(schema: string): string {
  const attr = (cn: string, name: string, id: string, syntax: string, om: number, extra = ''): string =>
    `dn: CN=${cn},${schema}\nchangetype: add\nobjectClass: top\nobjectClass: attributeSchema\ncn: ${cn}\nlDAPDisplayName: ${name}\nattributeID: ${id}\nattributeSyntax: ${syntax}\noMSyntax: ${om}\nisSingleValued: TRUE\n${extra}`;
  return [
    attr('ms-Exch-Mail-Nickname', 'mailNickname', '1.2.840.113556.1.2.447', '2.5.5.12', 64, 'rangeLower: 1\nrangeUpper: 64\nsearchFlags: 1\n'),
    attr('ms-Exch-Target-Address', 'targetAddress', '1.2.840.113556.1.2.352', '2.5.5.12', 64, 'rangeLower: 1\nrangeUpper: 1123\n'),
    attr('ms-Exch-Mailbox-Guid', 'msExchMailboxGuid', '1.2.840.113556.1.4.7000.102.11058', '2.5.5.10', 4, 'rangeLower: 16\nrangeUpper: 16\n'),
    attr('ms-Exch-Home-MDB', 'homeMDB', '1.2.840.113556.1.2.44', '2.5.5.1', 127),
    attr('ms-Exch-Recipient-Type-Details', 'msExchRecipientTypeDetails', '1.2.840.113556.1.4.7000.102.50', '2.5.5.16', 65),
    attr('ms-Exch-Recipient-Display-Type', 'msExchRecipientDisplayType', '1.2.840.113556.1.4.7000.102.50730', '2.5.5.9', 2),
    'dn:\nchangetype: modify\nadd: schemaUpdateNow\nschemaUpdateNow: 1\n-\n',
    `dn: CN=Mail-Recipient,${schema}\nchangetype: modify\nadd: mayContain\nmayContain: mailNickname\nmayContain: targetAddress\nmayContain: msExchMailboxGuid\nmayContain: homeMDB\nmayContain: msExchRecipientTypeDetails\nmayContain: msExchRecipientDisplayType\n-\n`,
    'dn:\nchangetype: modify\nadd: schemaUpdateNow\nschemaUpdateNow: 1\n-\n',
  ].join('\n');
}
