/**
 * The package an administrator installs: `npm pack` builds it, `npm install -g` into a scratch prefix
 * installs it with nothing but Node (better-sqlite3 compiles, as on any machine without a prebuilt
 * binary), and the installed `dirbridge` command runs the quickstart with its shipped run profiles.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Runs a command without blocking the test worker (a blocked worker misses vitest's own calls). */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

describe('the npm package', () => {
  it('packs, installs with npm install -g, and its dirbridge command runs the quickstart', { timeout: 600_000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'dirbridge-package-'));
    const packed = await run('npm', ['pack', '--pack-destination', work], ROOT);
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = readdirSync(work).find((f) => /^dirbridge-.*\.tgz$/.test(f))!;
    const listed = (await run('tar', ['tzf', join(work, tarball)], work)).stdout.split('\n');
    // Only what it needs: the build (no source maps or declarations), profiles, example, units.
    expect(listed).toEqual(
      expect.arrayContaining([
        'package/dist/cli/main.js',
        'package/run-profiles/delta-cycle.yaml',
        'package/examples/quickstart/domino-names.ldif',
        'package/contrib/systemd/dirbridge-delta.service',
        'package/README.md',
      ]),
    );
    expect(listed.filter((f) => /^package\/(src|test|bench|node_modules)\/|\.map$|\.d\.ts$/.test(f))).toEqual([]);

    const prefix = join(work, 'prefix');
    const installed = await run('npm', ['install', '-g', '--prefix', prefix, join(work, tarball)], work);
    expect(installed.code, installed.stderr).toBe(0);
    const bin = join(prefix, 'bin', 'dirbridge');
    // The first line keeps the Node options the engine is tuned for.
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env -S node --max-semi-space-size=64');

    const example = join(prefix, 'lib/node_modules/dirbridge/examples/quickstart');
    const site = join(work, 'site');
    mkdirSync(join(site, 'work'), { recursive: true });
    for (const f of ['domino-names.ldif', 'ad-mailboxes.ldif']) copyFileSync(join(example, f), join(site, f));
    copyFileSync(join(example, 'ad-contacts.seed.ldif'), join(site, 'work/ad-contacts.ldif'));
    // Away from the package, the config finds the profiles shipped with the command.
    writeFileSync(join(site, 'dirbridge.yaml'), readFileSync(join(example, 'dirbridge.yaml'), 'utf8').replace(/^runProfiles:.*\n/m, ''));
    const env = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, DIRBRIDGE_LOG_LEVEL: 'silent' };
    const initial = await run('dirbridge', ['--config', 'dirbridge.yaml', 'run', 'initial'], site, env);
    expect({ code: initial.code, stderr: initial.stderr }).toEqual({ code: 2, stderr: '' }); // the example's deliberate bad entries
    expect(initial.stdout).toMatch(/^run 1 \(initial\): completed-errors/);
    const cycle = await run('dirbridge', ['--config', 'dirbridge.yaml', 'run', 'delta-cycle'], site, env);
    expect(cycle.code).toBe(0);
    expect((readFileSync(join(site, 'work/ad-contacts.changes.ldif'), 'utf8').match(/^changetype: add$/gm) ?? []).length).toBe(23);
    const version = await run('dirbridge', ['--version'], site, env);
    expect({ code: version.code, out: version.stdout.trim() }).toEqual({
      code: 0,
      out: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    });
  });
});
