// Resets the quickstart's work/ folder (the "directories" the contacts are written to), runs the
// initial profile (first setup: full imports, full syncs, exports, confirming imports), then the
// scheduled delta cycle, which shows that a cycle with nothing changed writes nothing.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const example = join(root, 'examples', 'quickstart');
const work = join(example, 'work');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
copyFileSync(join(example, 'ad-contacts.seed.ldif'), join(work, 'ad-contacts.ldif'));

const cli = join(root, 'dist', 'cli', 'main.js');
const config = join(example, 'dirbridge.yaml');
let worst = 0;
for (const [profile, pass] of [['initial', 'first setup'], ['delta-cycle', 'the scheduled cycle (nothing changed)']]) {
  console.log(`\n=== dirbridge --config examples/quickstart/dirbridge.yaml run ${profile}: ${pass}\n`);
  const r = spawnSync(process.execPath, [cli, '--config', config, 'run', profile], { stdio: 'inherit' });
  worst = Math.max(worst, r.status ?? 4);
}
const adds = (f) => (readFileSync(join(work, f), 'utf8').match(/^changetype: add$/gm) ?? []).length;
console.log(`\nContacts written: ${adds('ad-contacts.changes.ldif')} to AD (examples/quickstart/work/ad-contacts.changes.ldif),`);
console.log(`${adds('domino-contacts.changes.ldif')} to Domino (examples/quickstart/work/domino-contacts.changes.ldif);`);
console.log(
  `for groups and mail-in databases: ${adds('ad-group-contacts.changes.ldif')} and ${adds('ad-mailin-contacts.changes.ldif')} to AD, ` +
    `${adds('domino-group-contacts.changes.ldif')} to Domino (examples/quickstart/work/*group*, *mailin*).`,
);
console.log('The errors above are deliberate: people with no address, an invalid one, and one address on both sides.');
// Exit 2 (completed-errors) is the expected outcome of the sample data; anything worse is a failure.
process.exit(worst > 2 ? worst : 0);
