/** A private copy of the embedded LDIF deployment (the quickstart's files), for tests that need no server. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Copies the quickstart into a new folder, with `extra` merged into its config; returns the config file and the folder. */
export function quickstartCopy(extra: Record<string, unknown> = {}): { config: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dirbridge-quickstart-'));
  const example = join(ROOT, 'examples/quickstart');
  for (const f of ['domino-names.ldif', 'ad-mailboxes.ldif']) copyFileSync(join(example, f), join(dir, f));
  mkdirSync(join(dir, 'work'));
  copyFileSync(join(example, 'ad-contacts.seed.ldif'), join(dir, 'work/ad-contacts.ldif'));
  const config = parse(readFileSync(join(example, 'dirbridge.yaml'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'dirbridge.yaml'), stringify({ ...config, runProfiles: join(ROOT, 'run-profiles'), ...extra }));
  return { config: join(dir, 'dirbridge.yaml'), dir };
}
