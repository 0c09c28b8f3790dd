import { describe, expect, it } from 'vitest';
import type { AgentRules } from '../../src/config/schema.js';
import { deprovisionAction, deletesMvObject } from '../../src/rules/deletion.js';
import { applyImportFlows, evaluateFlow, exportChanges, removeContributions } from '../../src/rules/flows.js';
import { decideJoin, joinValues } from '../../src/rules/join.js';
import { addressConflictProblem, buildDn, planNewObject } from '../../src/rules/provisioning.js';
import { evaluateScope } from '../../src/rules/scope.js';

const contactRules: AgentRules = {
  objectType: 'DominoUser',
  scope: [],
  project: false,
  deprovision: 'delete',
  join: [
    { cs: 'mail', mv: 'mail', transform: 'none' },
    { cs: 'proxyAddresses', mv: 'mail', transform: 'smtp' },
  ],
  importFlows: {},
  exportFlows: { cn: 'cn', mail: 'mail', targetAddress: { template: 'SMTP:{mail}' }, proxyAddresses: { template: 'SMTP:{mail}' } },
  provision: { dn: 'CN={cn},OU=Contacts,DC=x', require: ['mail'] },
  ownership: { attribute: 'adminDescription', value: 'dirbridge:managed' },
};

describe('scope', () => {
  it('applies attribute conditions case-insensitively', () => {
    expect(evaluateScope({ mailsystem: ['5'] }, [{ attribute: 'mailSystem', notEquals: '5' }]).inScope).toBe(false);
    expect(evaluateScope({ mailsystem: ['1'] }, [{ attribute: 'mailSystem', notEquals: '5' }]).inScope).toBe(true);
    expect(evaluateScope({}, [{ attribute: 'mail', present: true }]).reason).toBe('mail is absent');
  });
  it('never lets an object carrying dirbridge stamp be a source (loop guard)', () => {
    const d = evaluateScope({ description: ['dirbridge:managed'] }, [], [{ attribute: 'description', value: 'dirbridge:managed' }]);
    expect(d).toEqual({ inScope: false, reason: "carries dirbridge's ownership stamp description=dirbridge:managed" });
  });
});

describe('join', () => {
  it('folds case and strips SMTP: for proxy addresses', () => {
    expect(joinValues({ proxyaddresses: ['SMTP:A@X.com', 'X500:/o=y', 'smtp:b@x.com'] }, contactRules.join[1]!)).toEqual(['a@x.com', 'b@x.com']);
  });
  it('joins on the first rule with exactly one match and refuses ambiguity', () => {
    expect(decideJoin(contactRules.join, [[], [7]])).toMatchObject({ kind: 'join', target: 7, rule: 1 });
    expect(decideJoin(contactRules.join, [[3, 4], [7]])).toMatchObject({ kind: 'ambiguous', candidates: [3, 4] });
    expect(decideJoin(contactRules.join, [[], []]).kind).toBe('none');
  });
});

describe('attribute flows', () => {
  it('evaluates copies, first-of, templates and constants', () => {
    const src = (a: string): string[] => ({ mail: ['a@b.c'], cn: ['Ann'] })[a] ?? [];
    expect(evaluateFlow({ template: 'SMTP:{mail}' }, src)).toEqual(['SMTP:a@b.c']);
    expect(evaluateFlow({ template: 'SMTP:{missing}' }, src)).toEqual([]);
    expect(evaluateFlow({ first: ['displayName', 'cn'] }, src)).toEqual(['Ann']);
    expect(evaluateFlow({ constant: '5' }, src)).toEqual(['5']);
  });
  it('honours precedence: a lower-ranked agent cannot overwrite', () => {
    const mv = { attributes: { title: ['CEO'] }, sources: { title: 'hr' } };
    const r = applyImportFlows(mv, 'domino', { title: ['Clerk'] }, { title: 'title' }, () => ['hr', 'domino']);
    expect(r.attributes.title).toEqual(['CEO']);
    expect(r.overridden).toEqual(['title']);
    const r2 = applyImportFlows(mv, 'hr', { title: ['CTO'] }, { title: 'title' }, () => ['hr', 'domino']);
    expect(r2.changed).toEqual(['title']);
  });
  it('clears an attribute its own source no longer has, and removes contributions on disconnect', () => {
    const mv = { attributes: { title: ['CEO'], cn: ['A'] }, sources: { title: 'domino', cn: 'domino' } };
    expect(applyImportFlows(mv, 'domino', { cn: ['A'] }, { title: 'title', cn: 'cn' }, () => []).attributes).toEqual({ cn: ['A'] });
    expect(removeContributions(mv, 'domino')).toEqual({ attributes: {}, sources: {} });
  });
  it('computes only the attributes that differ, leaving the RDN attribute to a rename', () => {
    expect(exportChanges({ cn: ['A'], mail: ['x@y.z'] }, { cn: ['B'], mail: ['x@y.z'], title: [] }, new Set(['cn']))).toEqual({});
    expect(exportChanges({ mail: ['x@y.z'] }, { mail: ['n@y.z'], title: ['T'] })).toEqual({ mail: ['n@y.z'], title: ['T'] });
  });
});

describe('provisioning', () => {
  it('escapes every value put into the DN template', () => {
    expect(buildDn('CN={cn},OU=C,DC=x', { cn: ['Doe, Jr.+<evil>'] })).toEqual({ dn: 'CN=Doe\\, Jr.\\+\\<evil\\>,OU=C,DC=x' });
    expect(buildDn('CN={cn},OU=C', {})).toMatchObject({ problem: { attribute: 'cn', code: 'missing-attribute' } });
  });
  it('plans a contact with export flows and the ownership stamp', () => {
    const r = planNewObject({ cn: ['Ann Lee'], mail: ['ann@notes.x.com'] }, contactRules);
    expect(r).toEqual({
      plan: {
        dn: 'CN=Ann Lee,OU=Contacts,DC=x',
        objectClasses: undefined,
        attributes: {
          cn: ['Ann Lee'],
          mail: ['ann@notes.x.com'],
          targetaddress: ['SMTP:ann@notes.x.com'],
          proxyaddresses: ['SMTP:ann@notes.x.com'],
          admindescription: ['dirbridge:managed'],
        },
      },
    });
  });
  it('refuses a person without a usable address', () => {
    expect(planNewObject({ cn: ['A'] }, contactRules)).toMatchObject({ problem: { attribute: 'mail', code: 'missing-attribute' } });
    expect(planNewObject({ cn: ['A'], mail: ['not an address'] }, contactRules)).toMatchObject({
      problem: { attribute: 'mail', code: 'invalid-smtp-address' },
    });
  });
  it('reports an address that another person already has', () => {
    expect(addressConflictProblem('a@b.c', [])).toBeUndefined();
    expect(addressConflictProblem('a@b.c', [{ label: 'ExchangeUser CN=A', sameType: false }])).toMatchObject({ code: 'address-conflict', attribute: 'mail' });
    expect(addressConflictProblem('a@b.c', [{ label: 'DominoUser cn=B', sameType: true }])).toMatchObject({
      code: 'duplicate-address',
      attribute: 'mail',
      message: expect.stringContaining('data error in the source'),
    });
  });
});

describe('deletion rules and deprovisioning', () => {
  it('deletes the MV object only when the named agent disconnects', () => {
    expect(deletesMvObject(['domino-people'], 'domino-people')).toBe(true);
    expect(deletesMvObject(['domino-people'], 'ad-contacts')).toBe(false);
  });
  it('deletes only objects dirbridge created that still carry its stamp', () => {
    const stamped = { admindescription: ['dirbridge:managed'] };
    expect(deprovisionAction({ owned: true, attributes: stamped }, contactRules).kind).toBe('delete');
    expect(deprovisionAction({ owned: false, attributes: stamped }, contactRules).kind).toBe('disconnect');
    const unstamped = deprovisionAction({ owned: true, attributes: {} }, contactRules);
    expect(unstamped.kind).toBe('disconnect');
    expect(unstamped).toHaveProperty('warning');
    expect(deprovisionAction({ owned: true, attributes: stamped }, { ...contactRules, deprovision: 'disconnect' }).kind).toBe('disconnect');
  });
});
