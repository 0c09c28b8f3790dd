// Marks built entry points executable (tsc writes plain files): `dirbridge` runs through the file's
// first line, which carries the Node options the engine is tuned for.
import { chmodSync } from 'node:fs';
for (const file of process.argv.slice(2)) chmodSync(file, 0o755);
