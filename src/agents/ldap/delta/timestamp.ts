/**
 * Delta by modification time, for directories without a change log (Domino). Each window starts a
 * configurable overlap before the newest modification time seen so far, read from the server's own
 * timestamps so the client's clock never matters; what the overlap reads twice comes back unchanged.
 * A modification time cannot show a deletion: the engine's deletion check (the anchors in view,
 * compared with the connector space) finds them.
 */
import { escapeFilterValue } from '../../../util/filter.js';
import type { Entry } from 'ldapts';
import type { GoneObject, ImportPage } from '../../types.js';
import { firstText } from '../entry.js';
import type { DeltaStrategy, LdapView } from './types.js';
import { decodeWatermark, encodeWatermark, formatGeneralizedTime, parseGeneralizedTime } from './watermark.js';

interface TimestampWatermark {
  /** The newest modification time seen, as the server wrote it; null when nothing was seen yet. */
  newest: string | null;
}

export class TimestampStrategy implements DeltaStrategy {
  readonly seesDeletions = false;
  constructor(private readonly view: LdapView) {}

  private get attr(): string {
    return this.view.config.delta.timestampAttribute;
  }

  async *fullImport(): AsyncIterable<ImportPage> {
    const { view } = this;
    let newest: Newest = { text: null, ms: -Infinity };
    for await (const entries of view.search(view.config.baseDn, view.config.filter, [...view.importAttributes(), this.attr], {
      scope: view.config.searchScope,
    })) {
      newest = this.takeTimestamps(entries, newest);
      yield view.toPage(entries);
    }
    yield { objects: [], errors: [], watermark: encodeWatermark('timestamp', { newest: newest.text }) };
  }

  async *deltaImport(watermark: string): AsyncIterable<ImportPage> {
    const { view } = this;
    const wm = decodeWatermark<TimestampWatermark>(view.name, 'timestamp', watermark);
    const from = wm.newest === null ? undefined : parseGeneralizedTime(wm.newest);
    if (wm.newest !== null && from === undefined) throw new Error(`agent "${view.name}": unreadable timestamp watermark ${wm.newest}`);
    const since =
      from === undefined ? `(${this.attr}=*)` : `(${this.attr}>=${escapeFilterValue(formatGeneralizedTime(from - view.config.delta.overlapSeconds * 1000))})`;
    let newest: Newest = { text: wm.newest, ms: from ?? -Infinity };

    // Searched from the naming context, so an object moved out of the base is seen (and leaves the view).
    const root = await view.namingContext();
    for await (const entries of view.search(root, `(&${view.config.filter}${since})`, [...view.importAttributes(), this.attr])) {
      newest = this.takeTimestamps(entries, newest);
      const inside = entries.filter((e) => view.inView(e.dn));
      const page = view.toPage(inside);
      page.gone = this.goneOf(entries.filter((e) => !view.inView(e.dn)));
      yield page;
    }
    // Objects in the base that no longer match the filter changed too, and left the view.
    for await (const entries of view.search(view.config.baseDn, `(&(!${view.config.filter})${since})`, [view.config.anchor], {
      scope: view.config.searchScope,
    })) {
      yield { objects: [], errors: [], gone: this.goneOf(entries) };
    }
    yield { objects: [], errors: [], watermark: encodeWatermark('timestamp', { newest: newest.text }) };
  }

  private goneOf(entries: Entry[]): GoneObject[] {
    return this.view.toPage(entries).objects.map((o) => ({ anchor: o.anchor }));
  }

  /** Notes the newest timestamp and removes the attribute unless the rules read it. */
  private takeTimestamps(entries: Entry[], newest: Newest): Newest {
    const keep = this.view.config.attributes.some((a) => a.toLowerCase() === this.attr.toLowerCase());
    let best = newest;
    for (const e of entries) {
      const key = Object.keys(e).find((k) => k.toLowerCase() === this.attr.toLowerCase());
      if (!key) continue;
      const text = firstText(e[key]);
      const ms = text === undefined ? undefined : parseGeneralizedTime(text);
      if (text !== undefined && ms !== undefined && ms > best.ms) best = { text, ms };
      if (!keep) delete e[key];
    }
    return best;
  }
}

interface Newest {
  text: string | null;
  ms: number;
}
