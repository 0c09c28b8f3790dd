import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWatermark, encodeWatermark, formatGeneralizedTime, parseGeneralizedTime } from '../../src/agents/ldap/delta/watermark.js';
import { LdifAgent } from '../../src/agents/ldif/agent.js';
import { DeltaUnavailableError, type ImportPage } from '../../src/agents/types.js';
import { agentConfig, configSchema } from '../../src/config/schema.js';
import { isWithin } from '../../src/util/dn.js';
import { escapeFilterBytes, escapeFilterValue } from '../../src/util/filter.js';

describe('generalized time', () => {
  it('reads the forms directories write, with fractions and offsets', () => {
    expect(parseGeneralizedTime('20261122101530Z')).toBe(Date.UTC(2026, 10, 22, 10, 15, 30));
    expect(parseGeneralizedTime('20261122101530.250000Z')).toBe(Date.UTC(2026, 10, 22, 10, 15, 30, 250));
    expect(parseGeneralizedTime('20261122111530+0100')).toBe(Date.UTC(2026, 10, 22, 10, 15, 30));
    expect(parseGeneralizedTime('yesterday')).toBeUndefined();
  });
  it('writes whole seconds in UTC', () => {
    expect(formatGeneralizedTime(Date.UTC(2026, 0, 2, 3, 4, 5, 999))).toBe('20260102030405Z');
  });
});

describe('watermarks', () => {
  it('round-trip under their strategy', () => {
    const text = encodeWatermark('usn', { usn: '42' });
    expect(decodeWatermark<{ usn: string }>('ad', 'usn', text).usn).toBe('42');
  });
  it('written by another strategy, or unreadable, mean no delta (and say why)', () => {
    const text = encodeWatermark('timestamp', { newest: null });
    expect(() => decodeWatermark('ad', 'dirsync', text)).toThrow(DeltaUnavailableError);
    expect(() => decodeWatermark('ad', 'dirsync', text)).toThrow(/written by the "timestamp" strategy and the config now says "dirsync"/);
    expect(() => decodeWatermark('ad', 'dirsync', '{nope')).toThrow(/not readable/);
  });
});

describe('views and filters', () => {
  it('a DN is in a subtree or one-level view, compared as DNs', () => {
    expect(isWithin('CN=A,OU=People,DC=x', 'ou=people,dc=X', 'sub')).toBe(true);
    expect(isWithin('ou=people,dc=x', 'ou=people,dc=x', 'sub')).toBe(true);
    expect(isWithin('CN=A,OU=Sub,OU=People,DC=x', 'OU=People,DC=x', 'one')).toBe(false);
    expect(isWithin('CN=A,OU=Peoplex,DC=x', 'OU=People,DC=x', 'sub')).toBe(false);
    expect(isWithin('cn=a\\,b,o=x', 'o=x', 'one')).toBe(true);
    expect(isWithin('cn=a,o=x', '', 'sub')).toBe(true);
  });
  it('filter values are escaped (RFC 4515), bytes entirely', () => {
    expect(escapeFilterValue('a*(b)\\c\0')).toBe('a\\2a\\28b\\29\\5cc\\00');
    expect(escapeFilterBytes(Uint8Array.from([0, 0xab, 0x10]))).toBe('\\00\\ab\\10');
  });
});

describe('delta settings in the config', () => {
  const base = { metaverse: { file: 'mv.db', objectTypes: { T: { attributes: ['mail'] } } }, rules: {} };
  const ldap = { url: 'ldap://127.0.0.1:1', baseDn: 'o=x', objectClasses: ['x'], attributes: ['cn'] };
  it('a strategy the agent type cannot offer is a config error, not a run-time one', () => {
    const r = configSchema.safeParse({ ...base, agents: { d: { type: 'domino-ldap', ...ldap, delta: { strategy: 'dirsync' } } } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/delta.*strategy|strategy/);
  });

  it('default by agent type: timestamp for Domino, DirSync for AD', () => {
    const cfg = configSchema.parse({ ...base, agents: { d: { type: 'domino-ldap', ...ldap }, a: { type: 'ad-ldap', ...ldap } } });
    const d = cfg.agents.d!;
    const a = cfg.agents.a!;
    expect(d.type === 'domino-ldap' && d.delta.strategy).toBe('timestamp');
    expect(a.type === 'ad-ldap' && a.delta.strategy).toBe('dirsync');
  });
  it('an unknown strategy or key is refused', () => {
    expect(configSchema.safeParse({ ...base, agents: { d: { type: 'domino-ldap', ...ldap, delta: { strategy: 'changelog' } } } }).success).toBe(false);
    expect(configSchema.safeParse({ ...base, agents: { d: { type: 'domino-ldap', ...ldap, delta: { overlap: 5 } } } }).success).toBe(false);
  });
});

describe('LDIF agent delta', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dirbridge-delta-'));
  const file = join(dir, 'people.ldif');
  const agent = new LdifAgent('people', agentConfig.parse({ type: 'ldif', file, anchor: 'uid' }) as never, file, undefined);
  const collect = async (it: AsyncIterable<ImportPage>): Promise<ImportPage[]> => {
    const out: ImportPage[] = [];
    for await (const p of it) out.push(p);
    return out;
  };
  it('an unchanged file has no changes; a changed one is compared in full, without a warning', async () => {
    writeFileSync(file, 'dn: uid=a,o=x\nuid: a\ncn: A\n');
    const full = await collect(agent.fullImport());
    const watermark = full.at(-1)!.watermark!;
    expect(full.flatMap((p) => p.objects).map((o) => o.anchor)).toEqual(['a']);
    expect(await collect(agent.deltaImport(watermark))).toEqual([]);
    writeFileSync(file, 'dn: uid=a,o=x\nuid: a\ncn: A2\n');
    const err = await collect(agent.deltaImport(watermark)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeltaUnavailableError);
    expect((err as DeltaUnavailableError).expected).toBe(true);
  });
});
