/**
 * Mail contacts in Exchange Online for cloud-only organisations. Graph cannot create them (orgContact
 * is read-only), so this agent drives the cmdlets New-MailContact, Set-MailContact, Remove-MailContact
 * and Get-MailContact through Exchange Online's admin REST endpoint (InvokeCommand), which the
 * Exchange Online PowerShell module itself uses. Microsoft labels that endpoint beta and does not
 * document it: it is isolated here, behind the Agent interface, so a change on Microsoft's side
 * touches this file only. Hybrid organisations should write contacts to on-premises AD instead and
 * let Entra Connect carry them up.
 *
 * Exchange Online has no DNs: a contact appears as CN=<Name>,<baseDn>; its anchor is its Guid. The
 * attributes it manages are the cmdlets' parameters: cn (Name), displayName, alias,
 * externalEmailAddress (SMTP:...), and customAttribute1-15 (one of them carries the ownership stamp).
 * It also reads, never writes, legacyExchangeDN: Exchange Online assigns every contact its own, which
 * Outlook caches, and a person who moves to a cloud mailbox needs it as an X500 address there.
 */
import type { ExoContactsAgentConfig } from './descriptor.js';
import { escapeDnValue, parseDn } from '../../util/dn.js';
import { controlCharacterProblem } from '../../util/text.js';
import { EntraTokens } from '../entra/auth.js';
import { HttpError, requestWithRetries, type RetryContext, type RetrySettings } from '../entra/retry.js';
import { type Agent, type AgentHooks, type ExportOperation, type ExportResult, type ImportPage, ObjectError } from '../types.js';
import { type AttributeMap, type ConnectorObject } from '../../model/objects.js';

/** Connector attribute (lower case) to cmdlet parameter. */
const PARAMETERS: Record<string, string> = {
  cn: 'Name',
  displayname: 'DisplayName',
  alias: 'Alias',
  externalemailaddress: 'ExternalEmailAddress',
  ...Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`customattribute${i + 1}`, `CustomAttribute${i + 1}`])),
};
/** Properties Get-MailContact returns that Exchange assigns itself: imported, never written. */
const READ_ONLY: Record<string, string> = { legacyexchangedn: 'LegacyExchangeDN' };
/** Everything an import reads: the managed parameters and the read-only properties. */
const IMPORTED = Object.entries({ ...PARAMETERS, ...READ_ONLY });
/** Parameters every mail contact has: Exchange refuses to clear them. */
const REQUIRED = new Set(['Name', 'Alias', 'DisplayName', 'ExternalEmailAddress']);
/** What New-MailContact takes; the rest of an add follows with Set-MailContact. */
const NEW_PARAMETERS = new Set(['Name', 'DisplayName', 'Alias', 'ExternalEmailAddress']);

interface CmdletPage {
  value?: Record<string, unknown>[];
  '@odata.nextLink'?: string;
}

export class ExoContactsAgent implements Agent {
  readonly anchorAttribute = 'guid';
  private readonly tokens: EntraTokens;
  private readonly retry: RetryContext;
  private readonly endpoint: string;

  constructor(
    readonly name: string,
    private readonly config: ExoContactsAgentConfig,
    secret: string,
    settings: RetrySettings,
    hooks: AgentHooks = {},
  ) {
    const origin = new URL(config.adminUrl).origin;
    this.tokens = new EntraTokens(name, config, secret, `${origin}/.default`);
    this.retry = { agent: name, settings, renewToken: () => this.tokens.renew(), ...(hooks.onRetry ? { onRetry: hooks.onRetry } : {}) };
    this.endpoint = `${origin}/adminapi/beta/${encodeURIComponent(config.tenantId)}/InvokeCommand`;
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async *fullImport(): AsyncIterable<ImportPage> {
    let url: string | undefined = this.endpoint;
    const body = { CmdletInput: { CmdletName: 'Get-MailContact', Parameters: { ResultSize: 'Unlimited' } } };
    while (url) {
      const at: string = url;
      const page = await requestWithRetries(this.retry, this.name, 'Get-MailContact', () => this.post<CmdletPage>(at, body));
      const out: ImportPage = { objects: [], errors: [] };
      for (const v of page.value ?? []) {
        try {
          out.objects.push(this.toObject(v));
        } catch (e) {
          if (e instanceof ObjectError) out.errors.push(e);
          else throw e;
        }
      }
      yield out;
      url = page['@odata.nextLink'];
      if (url && new URL(url).origin !== new URL(this.endpoint).origin)
        throw new HttpError({ status: 400, code: 'foreignLink', message: `refusing to follow ${new URL(url).origin}` });
    }
  }

  async readObject(dn: string): Promise<ConnectorObject | undefined> {
    const name = this.nameOf(dn);
    try {
      const page = await this.cmdlet(dn, 'Get-MailContact', { Identity: name });
      const v = page.value?.[0];
      return v ? this.toObject(v) : undefined;
    } catch (e) {
      if (e instanceof ObjectError && e.code === 'no-such-object') return undefined;
      throw e;
    }
  }

  async exportObject(op: ExportOperation): Promise<ExportResult> {
    if (op.kind === 'delete') {
      try {
        await this.cmdlet(op.dn, 'Remove-MailContact', { Identity: this.nameOf(op.dn), Confirm: false });
      } catch (e) {
        if (!(e instanceof ObjectError && e.code === 'no-such-object')) throw e; // already gone is what we wanted
      }
      return { dn: op.dn };
    }
    if (op.kind === 'add') {
      const params = this.parameters(op.dn, { ...op.attributes, cn: [this.nameOf(op.dn)] });
      const first = Object.fromEntries(Object.entries(params).filter(([k]) => NEW_PARAMETERS.has(k)));
      const rest = Object.fromEntries(Object.entries(params).filter(([k]) => !NEW_PARAMETERS.has(k)));
      if (!first.ExternalEmailAddress)
        throw new ObjectError(op.dn, 'externalEmailAddress', 'a mail contact needs an external address (SMTP:...); none flowed to it', 'missing-attribute');
      const created = (await this.cmdlet(op.dn, 'New-MailContact', first)).value?.[0];
      const anchor = typeof created?.Guid === 'string' ? created.Guid : undefined;
      // The stamp and the custom attributes follow at once; an add whose stamp did not arrive is
      // found unstamped by the next import and left alone rather than deleted.
      if (Object.keys(rest).length) await this.cmdlet(op.dn, 'Set-MailContact', { Identity: anchor ?? first.Name, ...rest });
      return { dn: op.dn, ...(anchor ? { anchor } : {}) };
    }
    const changes = this.parameters(op.dn, op.changes);
    let dn = op.dn;
    if (op.newDn) {
      changes.Name = this.nameOf(op.newDn);
      dn = op.newDn;
    }
    if (Object.keys(changes).length) await this.cmdlet(op.dn, 'Set-MailContact', { Identity: this.nameOf(op.dn), ...changes });
    return { dn };
  }

  private nameOf(dn: string): string {
    const rdn = parseDn(dn)[0];
    if (!rdn) throw new ObjectError(dn, undefined, 'empty DN', 'invalid-dn');
    return rdn.value;
  }

  private parameters(dn: string, attributes: AttributeMap): Record<string, string | null> {
    const out: Record<string, string | null> = {};
    for (const [attr, values] of Object.entries(attributes)) {
      const param = PARAMETERS[attr.toLowerCase()];
      if (!param)
        throw new ObjectError(
          dn,
          attr,
          `is not an attribute an Exchange Online mail contact takes through this agent (${Object.values(PARAMETERS).slice(0, 4).join(', ')}, CustomAttribute1-15)`,
          'not-supported',
        );
      if (values.length > 1) throw new ObjectError(dn, attr, `has ${values.length} values; ${param} takes one`, 'invalid-value');
      if (values.length === 0 && REQUIRED.has(param))
        throw new ObjectError(
          dn,
          attr,
          `${param} cannot be cleared on an Exchange Online mail contact; its source has no value for it (for Alias: give the person a short name, or flow another attribute into alias)`,
          'missing-attribute',
        );
      out[param] = values[0] ?? null; // null clears the attribute
    }
    return out;
  }

  private toObject(v: Record<string, unknown>): ConnectorObject {
    const name = typeof v.Name === 'string' ? v.Name : '';
    const dn = `CN=${escapeDnValue(name)},${this.config.baseDn}`;
    const anchor = typeof v.Guid === 'string' ? v.Guid : undefined;
    if (!anchor) throw new ObjectError(dn, 'Guid', 'Get-MailContact returned a contact without a Guid', 'missing-anchor');
    const attributes: AttributeMap = { guid: [anchor] };
    for (const [attr, param] of IMPORTED) {
      const value = v[param];
      if (typeof value !== 'string' || value === '') continue;
      const problem = controlCharacterProblem(value);
      if (problem) throw new ObjectError(dn, param, problem, 'control-characters', anchor);
      attributes[attr] = [value];
    }
    return { anchor, dn, objectClasses: ['mailContact'], attributes };
  }

  private cmdlet(object: string, name: string, parameters: Record<string, unknown>): Promise<CmdletPage> {
    return requestWithRetries(this.retry, object, name, () =>
      this.post<CmdletPage>(this.endpoint, { CmdletInput: { CmdletName: name, Parameters: parameters } }),
    ).catch((e: unknown) => {
      throw e instanceof HttpError ? this.refused(object, name, e) : e;
    });
  }

  /** A cmdlet error is about the object: say which cmdlet, and what Exchange said. */
  private refused(object: string, cmdlet: string, e: HttpError): Error {
    const text = `${e.failure.code ?? ''} ${e.failure.message}`;
    if (e.failure.status === 403)
      return new ObjectError(
        object,
        undefined,
        `${cmdlet} was refused (${e.message}); the app needs the Exchange.ManageAsApp permission and an Exchange administrator role`,
        'insufficient-access',
      );
    if (/ManagementObjectNotFound|couldn't be found|could not be found/i.test(text))
      return new ObjectError(object, undefined, `${cmdlet}: ${e.failure.message}`, 'no-such-object');
    if (/already exists|already being used|ProxyAddressExists|NameNotUnique/i.test(text))
      return new ObjectError(object, undefined, `${cmdlet} refused: ${e.failure.message}`, 'already-exists');
    return new ObjectError(object, undefined, `${cmdlet} refused by Exchange Online: ${e.message}`, 'export-refused');
  }

  private async post<T>(url: string, body: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${await this.tokens.token()}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
    } catch (e) {
      throw new HttpError({ status: 0, message: (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message });
    }
    const text = await res.text();
    if (!res.ok) {
      let error: { code?: string; message?: string } = {};
      try {
        error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
      } catch {
        /* not JSON: the status says enough */
      }
      throw new HttpError({
        status: res.status,
        ...(error.code ? { code: error.code } : {}),
        message: error.message ?? res.statusText,
        retryAfter: res.headers.get('Retry-After'),
      });
    }
    return (text ? JSON.parse(text) : {}) as T;
  }
}
