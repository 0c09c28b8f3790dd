/**
 * The service and timer units shipped in contrib/systemd/ are what systemd accepts: systemd-analyze
 * verify, with the dirbridge command at the path of this checkout's build, must pass without a word
 * (an unknown or misspelt key is only a warning to systemd, and would silently drop a hardening
 * option, so any output fails the test).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const UNITS = join(ROOT, 'contrib/systemd');
const CLI = join(ROOT, 'dist/cli/main.js');

describe('shipped systemd units', () => {
  const units = readdirSync(UNITS).filter((f) => /\.(service|timer)$/.test(f));

  it('are the delta and full-cycle services with their timers', () => {
    expect(units.sort()).toEqual(['dirbridge-delta.service', 'dirbridge-delta.timer', 'dirbridge-full.service', 'dirbridge-full.timer']);
    expect(readFileSync(join(UNITS, 'dirbridge-delta.service'), 'utf8')).toMatch(
      /\nExecStart=\/usr\/local\/bin\/dirbridge --config \/etc\/dirbridge\/dirbridge\.yaml run delta-cycle\n/,
    );
    expect(readFileSync(join(UNITS, 'dirbridge-full.service'), 'utf8')).toMatch(
      /\nExecStart=\/usr\/local\/bin\/dirbridge --config \/etc\/dirbridge\/dirbridge\.yaml run full-cycle\n/,
    );
  });

  it('pass systemd-analyze verify without a warning', () => {
    const which = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    expect(which.error, 'systemd-analyze is needed (package systemd; npm test installs it)').toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'dirbridge-units-'));
    for (const u of units) {
      copyFileSync(join(UNITS, u), join(dir, u));
      if (u.endsWith('.service')) writeFileSync(join(dir, u), readFileSync(join(dir, u), 'utf8').replace('/usr/local/bin/dirbridge', CLI));
    }
    const r = spawnSync('systemd-analyze', ['verify', ...units.map((u) => join(dir, u))], { encoding: 'utf8' });
    expect({ code: r.status, output: (r.stdout + r.stderr).trim() }).toEqual({ code: 0, output: '' });
  });

  it('hold the hardening the README describes', () => {
    for (const u of units.filter((x) => x.endsWith('.service'))) {
      const text = readFileSync(join(UNITS, u), 'utf8');
      for (const key of [
        'User=dirbridge',
        'ProtectSystem=strict',
        'ProtectHome=true',
        'PrivateTmp=true',
        'NoNewPrivileges=true',
        'StateDirectory=dirbridge',
        'UMask=0077',
        'SuccessExitStatus=1 2 75',
      ])
        expect(text, `${u}: ${key}`).toContain(`\n${key}\n`);
    }
  });
});
