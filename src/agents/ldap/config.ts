/** The configuration every LDAP agent type shares: connection, search, paging, delta strategies. */
import { z } from 'zod';
import { attributeName, secretRef, tlsOptions } from '../../util/config-fields.js';
import type { AdLdapAgentConfig } from '../ad-ldap/descriptor.js';
import type { DominoLdapAgentConfig } from '../domino-ldap/descriptor.js';

export const ldapAgentFields = {
  url: z.string().regex(/^ldaps?:\/\/[^/]+\/?$/, 'ldap://host:port or ldaps://host:port'),
  bindDn: z.string().optional(),
  password: secretRef.optional(),
  tls: tlsOptions,
  baseDn: z.string(),
  searchScope: z.enum(['sub', 'one']).default('sub'),
  filter: z.string().default('(objectClass=*)'),
  objectClasses: z.array(z.string()).min(1),
  attributes: z.array(attributeName).min(1),
  pageSize: z.number().int().min(1).max(10_000).default(500),
  exportConcurrency: z.number().int().min(1).max(64).default(4),
  timeoutMs: z.number().int().min(1000).default(60_000),
  /**
   * Attributes read with ranged retrieval (`member;range=0-1499`, then on until `*`): Active
   * Directory returns at most MaxValRange values of one at a time, so a group read without it looks
   * smaller than it is. Default: member on ad-ldap agents, none on domino-ldap agents.
   */
  rangedAttributes: z.array(attributeName).optional(),
  /** How many values each ranged read asks for: AD's MaxValRange (1,500 unless the domain's LDAP policy says otherwise). */
  rangeSize: z.number().int().min(1).max(100_000).default(1500),
  /**
   * How many values of one attribute go in one write: membership is written as values added and
   * removed in batches of this size, never as a replace of the whole list (AD refuses a write of more
   * than 5,000 values in one operation with adminLimitExceeded).
   */
  valueBatchSize: z.number().int().min(1).max(5000).default(1000),
};

export const DELTA_STRATEGIES = ['dirsync', 'usn', 'accesslog', 'timestamp'] as const;
export type DeltaStrategyName = (typeof DELTA_STRATEGIES)[number];

/** How a delta import finds what changed; the default depends on the agent type. */
export const deltaSettings = <const S extends readonly [DeltaStrategyName, ...DeltaStrategyName[]]>(strategies: S, defaultStrategy: S[number]) =>
  z
    .object({
      /** Only the strategies this agent type's directory offers: another is a config error, not a run-time one. */
      strategy: z.enum(strategies).default(defaultStrategy),
      /** timestamp: how far each window reaches back before the last change seen, to absorb clock skew and same-second writes. */
      overlapSeconds: z.number().int().min(0).max(86_400).default(600),
      /** timestamp: the attribute holding the server's modification time. */
      timestampAttribute: attributeName.default('modifyTimestamp'),
      /** accesslog: the suffix of slapo-accesslog's log database. */
      accesslogBase: z.string().default('cn=accesslog'),
      /**
       * How a delta import finds deletions and objects that left the view when its strategy cannot
       * (timestamp): "sweep" reads the anchors alone under the base and filter and compares them with
       * the connector space; "off" leaves them to the next full import. Default: sweep for the
       * timestamp strategy, off for the strategies that see deletions themselves.
       */
      deletions: z.enum(['sweep', 'off']).optional(),
      /** sweep: at most once every this many minutes (0: in every delta import). */
      sweepEveryMinutes: z.number().int().min(0).max(10_080).default(0),
      /** dirsync: set when the bind account lacks "Replicating Directory Changes" (results are then limited to what it may read). */
      objectSecurity: z.boolean().default(false),
    })
    .strict()
    .prefault({});

export type LdapAgentConfig = DominoLdapAgentConfig | AdLdapAgentConfig;
