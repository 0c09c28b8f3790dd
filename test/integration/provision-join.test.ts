/**
 * Provisioning joins an existing contact before it creates one, and a synchronizer remembers per step
 * whether a contact agent holds any unjoined object at all (so that it need not search one that holds
 * none). That memory must follow what the same step does: a contact left unjoined earlier in the step
 * must be found by a person provisioned later in it, not duplicated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployWithSlapd, type Deployment } from './harness/coexistence.js';
import type { Slapd } from './harness/slapd.js';

let slapd: Slapd;
let d: Deployment;

beforeAll(async () => {
  ({ slapd, d } = await deployWithSlapd());
});

afterAll(async () => {
  await slapd?.stop();
});

describe('a contact left unjoined during a sync step', () => {
  it('is joined by a person provisioned later in the same step instead of being duplicated', async () => {
    // Imported (and synchronized) in this order: Cora first, then Hank.
    const cora = d.addDominoPerson({ given: 'Cora', sn: 'Early' }); // no address yet: no contact
    const hank = d.addDominoPerson({ given: 'Hank', sn: 'Made', mail: 'hank.made@notes.acme.test' });
    await d.adAdd(`CN=Hank Made (manual),${d.adContactsOu}`, {
      objectClass: ['top', 'person', 'organizationalPerson', 'contact'],
      sn: 'Made',
      mail: 'hank.made@notes.acme.test',
      targetAddress: 'SMTP:hank.made@notes.acme.test',
    });
    const first = d.cli(['run', 'initial', '--json']);
    expect(first.report?.steps.flatMap((s) => s.problems).map((p) => `${p.code} ${p.object}`)).toEqual([
      expect.stringMatching(/^missing-attribute .*Cora Early/),
    ]);
    expect((await d.adSearch(d.adContactsOu, '(objectClass=contact)')).map((c) => String(c.dn))).toEqual([`CN=Hank Made (manual),${d.adContactsOu}`]);

    // In one full sync of domino-people: Cora gets an address and is provisioned (the step now knows
    // ad-contacts holds no unjoined contact), Hank leaves (his hand-made contact is left unjoined),
    // and Bea, new, has the address Hank had.
    slapd.modify(`dn: ${cora}\nchangetype: modify\nadd: internetaddress\ninternetaddress: cora.early@notes.acme.test\n\ndn: ${hank}\nchangetype: delete\n`);
    d.addDominoPerson({ given: 'Bea', sn: 'Later', mail: 'hank.made@notes.acme.test' });
    const second = d.cli(['run', 'initial', '--json']);
    expect({ status: second.report?.status, problems: second.report?.steps.flatMap((s) => s.problems) }).toEqual({ status: 'success', problems: [] });

    const contacts = await d.adSearch(d.adContactsOu, '(objectClass=contact)');
    expect(contacts.map((c) => String(c.dn)).sort()).toEqual([`CN=Cora Early,${d.adContactsOu}`, `CN=Hank Made (manual),${d.adContactsOu}`]);
    const joined = second.report!.steps.find((s) => s.agent === 'domino-people' && s.type === 'full-sync')!;
    expect(joined.stats).toMatchObject({ joins: 1, provisions: 1 });
  });
});
