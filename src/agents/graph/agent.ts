/**
 * Exchange Online mailbox users, or groups, through Microsoft Graph. Full and delta imports both walk
 * /users/delta: a full import is a round from the start, whose final deltaLink becomes the watermark;
 * a delta import follows the stored link, and each page is committed with the link to the next one,
 * so an interrupted round resumes where it stopped instead of losing or repeating changes. `@removed`
 * entries are deletions; 410 Gone (or an expired sync state) means a full round, said out loud.
 *
 * Graph has no DNs: a user appears in the connector space as CN=<userPrincipalName>,OU=Users,DC=...,
 * its anchor is its object id. Whether a user has an Exchange Online mailbox is read for each user a
 * round returns (see mailbox.ts) and kept as the attribute `mailboxpurpose`, which the exchangeMailbox
 * scope condition reads. With `objects: groups` it walks /groups/delta the same way: a group appears
 * as CN=<mailNickname>,OU=Groups,DC=exchange-online, and its mailEnabled says whether it takes mail.
 */
import PQueue from 'p-queue';
import { GRAPH_GROUP_SELECT, GRAPH_USER_SELECT, type GraphAgentConfig } from './descriptor.js';
import { escapeDnValue } from '../../util/dn.js';
import { controlCharacterProblem } from '../../util/text.js';
import { EntraTokens } from '../entra/auth.js';
import { HttpError, requestWithRetries, type RetryContext, type RetrySettings } from '../entra/retry.js';
import { type Agent, type AgentHooks, DeltaUnavailableError, type GoneObject, type ImportPage, ObjectError } from '../types.js';
import { type AttributeMap, type ConnectorObject } from '../../model/objects.js';
import { GraphClient } from './client.js';
import { mailboxPurpose } from './mailbox.js';

interface DeltaPage {
  value: (Record<string, unknown> & { id: string; '@removed'?: { reason?: string } })[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/** Where a delta import starts: the deltaLink of a finished round, or the nextLink of an interrupted one. */
interface GraphWatermark {
  strategy: 'graph-delta';
  link: string;
  /** The $select the link was made with: the token encodes it, so another list needs a new round. */
  select: string;
}

export const GRAPH_USERS_BASE = 'OU=Users,DC=exchange-online';
export const GRAPH_GROUPS_BASE = 'OU=Groups,DC=exchange-online';

export class GraphAgent implements Agent {
  readonly anchorAttribute = 'id';
  private readonly graph: GraphClient;
  private readonly retry: RetryContext;
  private readonly select: string[];

  constructor(
    readonly name: string,
    private readonly config: GraphAgentConfig,
    secret: string,
    settings: RetrySettings,
    hooks: AgentHooks = {},
  ) {
    const tokens = new EntraTokens(name, config, secret, `${new URL(config.graphUrl).origin}/.default`);
    this.graph = new GraphClient(config.graphUrl, tokens, config.timeoutMs);
    this.retry = { agent: name, settings, renewToken: () => tokens.renew(), ...(hooks.onRetry ? { onRetry: hooks.onRetry } : {}) };
    const select = new Set(['id', ...(config.select ?? (this.groups ? GRAPH_GROUP_SELECT : GRAPH_USER_SELECT))]);
    if (!this.groups && config.mailboxDetection === 'assignedPlans') select.add('assignedPlans');
    this.select = [...select];
  }

  private get groups(): boolean {
    return this.config.objects === 'groups';
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  private get selectKey(): string {
    return [...this.select].sort().join(',');
  }

  private get startUrl(): string {
    return `${this.graph.origin}/v1.0/${this.config.objects}/delta?$select=${this.select.join(',')}`;
  }

  private watermarkFor(link: string): string {
    return JSON.stringify({ strategy: 'graph-delta', link, select: this.selectKey } satisfies GraphWatermark);
  }

  async *fullImport(): AsyncIterable<ImportPage> {
    for await (const { page, delta } of this.round(this.startUrl, false)) {
      // A full import's watermark is committed with its deletion pass: only the final deltaLink counts.
      yield delta ? { ...page, watermark: this.watermarkFor(delta) } : page;
    }
  }

  async *deltaImport(watermark: string): AsyncIterable<ImportPage> {
    const from = this.readWatermark(watermark);
    for await (const { page, next, delta } of this.round(from, true)) {
      yield { ...page, watermark: this.watermarkFor((delta ?? next)!) };
    }
  }

  private readWatermark(text: string): string {
    let w: Partial<GraphWatermark>;
    try {
      w = JSON.parse(text) as Partial<GraphWatermark>;
    } catch {
      throw new DeltaUnavailableError(this.name, 'the stored watermark is not readable');
    }
    if (w.strategy !== 'graph-delta' || typeof w.link !== 'string')
      throw new DeltaUnavailableError(this.name, `the stored watermark was not written by the Graph agent (${String(w.strategy)})`);
    if (w.select !== this.selectKey)
      throw new DeltaUnavailableError(this.name, 'the select list changed since the last round; Graph delta tokens are bound to it');
    if (new URL(w.link).origin !== this.graph.origin)
      throw new DeltaUnavailableError(this.name, `the stored link points to ${new URL(w.link).origin}, not to the configured graphUrl`);
    return w.link;
  }

  /** The pages of one round from `url`, each with the link that follows it. */
  private async *round(url: string, delta: boolean): AsyncIterable<{ page: ImportPage; next?: string; delta?: string }> {
    let link: string | undefined = url;
    while (link) {
      const at = link;
      let body: DeltaPage;
      try {
        body = await requestWithRetries(this.retry, this.name, `GET /${this.config.objects}/delta`, () => this.graph.get<DeltaPage>(at));
      } catch (e) {
        if (delta && e instanceof HttpError && isExpiredToken(e)) {
          throw new DeltaUnavailableError(
            this.name,
            `Graph no longer accepts the stored delta link (${e.message}); delta tokens expire after about 7 days without use`,
          );
        }
        throw e;
      }
      const page = await this.toPage(body.value ?? [], delta);
      const next = body['@odata.nextLink'];
      const deltaLink = body['@odata.deltaLink'];
      if (!next && !deltaLink)
        throw new HttpError({ status: 502, code: 'noLink', message: `a /${this.config.objects}/delta page had neither @odata.nextLink nor @odata.deltaLink` });
      yield { page, ...(next ? { next } : {}), ...(deltaLink ? { delta: deltaLink } : {}) };
      link = next;
    }
  }

  private async toPage(values: DeltaPage['value'], delta: boolean): Promise<ImportPage> {
    const page: ImportPage = { objects: [], errors: [], ...(delta ? { gone: [] as GoneObject[] } : {}) };
    const queue = new PQueue({ concurrency: this.config.concurrency });
    type Converted = { gone: GoneObject } | { object: ConnectorObject } | { error: ObjectError };
    const converted = await Promise.all(
      values.map((v) =>
        queue.add(async (): Promise<Converted> => {
          if (v['@removed']) return { gone: { anchor: v.id } };
          try {
            if (this.groups) return { object: this.toGroup(v) };
            const purpose = await mailboxPurpose(this.graph, this.retry, this.config.mailboxDetection, v);
            return { object: this.toObject(v, purpose) };
          } catch (e) {
            if (e instanceof ObjectError) return { error: e };
            throw e;
          }
        }),
      ),
    );
    for (const c of converted as Converted[]) {
      if ('gone' in c) page.gone?.push(c.gone);
      else if ('error' in c) page.errors.push(c.error);
      else page.objects.push(c.object);
    }
    return page;
  }

  private toObject(v: Record<string, unknown> & { id: string }, purpose: string | undefined): ConnectorObject {
    const upn = typeof v.userPrincipalName === 'string' && v.userPrincipalName ? v.userPrincipalName : v.id;
    const dn = `CN=${escapeDnValue(upn)},${GRAPH_USERS_BASE}`;
    const attributes = this.attributesOf(v, dn);
    if (purpose) attributes['mailboxpurpose'] = [purpose];
    return { anchor: v.id, dn, objectClasses: ['user'], attributes };
  }

  private toGroup(v: Record<string, unknown> & { id: string }): ConnectorObject {
    const name = [v.mailNickname, v.displayName].find((x): x is string => typeof x === 'string' && x !== '') ?? v.id;
    const dn = `CN=${escapeDnValue(name)},${GRAPH_GROUPS_BASE}`;
    return { anchor: v.id, dn, objectClasses: ['group'], attributes: this.attributesOf(v, dn) };
  }

  /** Graph's properties as connector attributes (lower case), scalar values only; control characters refused. */
  private attributesOf(v: Record<string, unknown> & { id: string }, dn: string): AttributeMap {
    const attributes: AttributeMap = {};
    for (const [key, raw] of Object.entries(v)) {
      if (key.startsWith('@') || key === 'assignedPlans' || raw === null || raw === undefined) continue;
      const values = (Array.isArray(raw) ? raw : [raw]).filter((x) => x !== null && typeof x !== 'object').map(String);
      for (const value of values) {
        const problem = controlCharacterProblem(value);
        if (problem) throw new ObjectError(dn, key, problem, 'control-characters', v.id);
      }
      if (values.length) attributes[key.toLowerCase()] = values;
    }
    return attributes;
  }
}

/** 410 Gone, or the sync-state codes Graph gives for an expired or reset token. */
function isExpiredToken(e: HttpError): boolean {
  return e.failure.status === 410 || /syncStateNotFound|resyncRequired|syncStateInvalid/i.test(e.failure.code ?? '');
}
