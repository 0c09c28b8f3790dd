/** `dirbridge preview OBJECT`: what a sync would do to one object and why; reads only. */
import type { Command } from 'commander';
import type { LoadedConfig } from '../../config/load.js';
import { preview, PreviewNotFoundError } from '../../engine/preview.js';
import { previewText } from '../preview.js';
import { NotFoundError, openReadOnly } from '../shared.js';

export function registerPreview(program: Command, config: () => LoadedConfig): void {
  program
    .command('preview')
    .description('what a sync would do to one object and why, rule by rule; writes nothing')
    .argument('<object>', 'a DN, an anchor (objectGUID, UNID, entryUUID) or a mail address')
    .option('--json', 'as JSON')
    .action((query: string, opts: { json?: boolean }) => {
      const loaded = config();
      const store = openReadOnly(loaded, 'there is nothing to preview');
      try {
        const result = preview(loaded, store, query);
        process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + '\n' : previewText(result));
      } catch (e) {
        if (e instanceof PreviewNotFoundError) throw new NotFoundError(e.message);
        throw e;
      } finally {
        store.close();
      }
    });
}
