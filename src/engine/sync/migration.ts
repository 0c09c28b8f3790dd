/**
 * The move of a person (midPoint would call it a situation of its own): a Domino person whose
 * document says they moved to Exchange, and whose mailbox is known, is in one step
 * - no longer a person of the side they left: that metaverse object goes, and with it the contacts
 *   dirbridge made for them (deletions like any other, counted by the deletion threshold), so one
 *   address never has two recipients;
 * - represented on the side they left by their own document, joined to the mailbox's metaverse
 *   object, instead of by a second contact dirbridge would create (dirbridge never deletes a document
 *   it did not create, and Notes replies to the person's old mail still find it);
 * - reachable at the contacts' X500 addresses, added to the mailbox where migration.writeX500 allows
 *   it, so replies to old mail from Outlook do not bounce;
 * - one recorded event (person_move, lineage "migrated", the change log).
 * Decides; the sink writes.
 */
import type { MigrationConfig } from '../../config/schema.js';
import type { CsRow, MvRow } from '../../model/objects.js';
import { carriedX500, hasMoved, matchLookups, missingX500, movedBecause } from '../../rules/migration.js';
import type { Deciding } from './deciding.js';

export class Moves {
  readonly migration: MigrationConfig | undefined;
  /** Deletes a person's metaverse object and deprovisions what stood for it (the inbound deletion rules). */
  removePerson: (mv: MvRow, reason: string) => void = () => {
    throw new Error('Moves.removePerson is not set');
  };

  constructor(private readonly d: Deciding) {
    this.migration = d.config.migration;
  }

  /** The agent's documents are people who may move: it projects the type people move from. */
  isSourceOfMoves(agent: string): boolean {
    const rules = this.d.config.rules[agent];
    return Boolean(this.migration && rules?.project && rules.objectType === this.migration.from);
  }

  hasMoved(doc: CsRow): boolean {
    return this.migration !== undefined && doc.pendingImport !== 'delete' && hasMoved(doc.attributes, this.migration, this.d.stamps);
  }

  because(): string {
    return this.migration ? movedBecause(this.migration) : '';
  }

  /** The document that stands for this mailbox on the side its person left, if it does. */
  entryOf(mailbox: MvRow, connectors: readonly CsRow[]): CsRow | undefined {
    if (!this.migration || mailbox.objectType !== this.migration.to) return undefined;
    return connectors.find((c) => this.isSourceOfMoves(c.agent));
  }

  /** The mailbox of a person with these attributes, by the first match rule that finds any. */
  mailboxOf(person: { attributes: MvRow['attributes'] }): { mailbox: MvRow } | { ambiguous: MvRow[] } | undefined {
    const m = this.migration;
    if (!m) return undefined;
    for (const { attribute, values } of matchLookups(person.attributes, m, 'from')) {
      const ids = new Set(values.flatMap((v) => this.d.view.findMv(attribute, v, m.to)));
      const found = [...ids].flatMap((id) => this.d.view.getMv(id) ?? []);
      if (found.length === 1) return { mailbox: found[0]! };
      if (found.length > 1) return { ambiguous: found };
    }
    return undefined;
  }

  /** A person of this mailbox whose document says they moved, by the first match rule that finds one. */
  movedPersonOf(mailbox: MvRow): { person: MvRow; doc: CsRow } | undefined {
    const m = this.migration;
    if (!m || mailbox.objectType !== m.to) return undefined;
    for (const { attribute, values } of matchLookups(mailbox.attributes, m, 'to')) {
      const found = new Map<number, { person: MvRow; doc: CsRow }>();
      for (const id of values.flatMap((v) => this.d.view.findMv(attribute, v, m.from))) {
        const person = this.d.view.getMv(id);
        const doc = person && this.d.view.connectorsOf(id).find((c) => this.isSourceOfMoves(c.agent));
        if (person && doc && this.hasMoved(doc)) found.set(id, { person, doc });
      }
      // Two moved people for one mailbox is for an administrator to sort out: the address conflict
      // (or the second contact) that follows says so; nothing is moved on a guess.
      if (found.size === 1) return [...found.values()][0];
      if (found.size > 1) return undefined;
    }
    return undefined;
  }

  /**
   * The move itself: `person` is the metaverse object the document stood for until now (none when the
   * document was linked to nothing, as after the metaverse was rebuilt).
   */
  move(doc: CsRow, person: MvRow | undefined, mailbox: MvRow): void {
    const { d } = this;
    const m = this.migration!;
    const personLabel = person ? d.label(person) : `${m.from} ${doc.dn} (${doc.agent})`;
    const mailboxLabel = d.label(mailbox);
    const contacts = person ? d.view.connectorsOf(person.id).filter((c) => c.id !== doc.id && !d.config.rules[c.agent]?.project) : [];
    const x500 = carriedX500(contacts.map((c) => c.attributes));
    const box = d.view.connectorsOf(mailbox.id).find((c) => m.writeX500.includes(c.agent));
    const contactsText = contacts.length ? contacts.map((c) => `${c.dn} (${c.agent})`).join('; ') : 'none';
    d.explain(doc.dn, doc.agent, 'migration', () => `says its person moved (${movedBecause(m)}); ${mailboxLabel} is their mailbox: the person moves`);

    if (person && doc.mvId === person.id) d.unlink(doc, 'disconnect', `its person moved to ${m.to}: it now stands for ${mailboxLabel}`);
    if (person) this.removePerson(person, `moved to ${m.to}: ${doc.dn} says so (${movedBecause(m)}), and ${mailboxLabel} is their mailbox`);
    d.decide({
      kind: 'link',
      cs: d.view.getCs(doc.id) ?? doc,
      mvId: mailbox.id,
      linkKind: 'join',
      owned: false,
      event: 'migrated',
      detail: `${personLabel} moved to ${mailboxLabel}; their contacts deleted: ${contactsText}; X500 carried: ${x500.join(', ') || 'none'}`,
      settlesImport: true,
    });

    if (x500.length && box) this.stageX500(box, x500);
    else if (x500.length) this.warnX500NotWritten(mailbox, personLabel, x500);
    d.decide({
      kind: 'record-move',
      move: {
        personMv: person?.id ?? null,
        personLabel,
        docAgent: doc.agent,
        docCs: doc.id,
        docDn: doc.dn,
        docAnchor: doc.anchor,
        mailboxMv: mailbox.id,
        mailboxLabel,
        mailboxAgent: box?.agent ?? null,
        mailboxCs: box?.id ?? null,
        contacts: contacts.map((c) => ({ agent: c.agent, dn: c.dn })),
        x500,
        x500Written: Boolean(box && x500.length),
      },
    });
    d.stats.moves++;
  }

  /**
   * The X500 addresses the mailbox lacks and dirbridge may not add, for an administrator to add by hand:
   * the words differ for a cloud mailbox, where dirbridge cannot write them at all.
   */
  private warnX500NotWritten(mailbox: MvRow, personLabel: string, x500: string[]): void {
    const { d } = this;
    const source = d.sourceOf(mailbox);
    const missing = missingX500(source?.attributes['proxyaddresses'] ?? [], x500);
    if (!missing.length) return;
    const cloud = source && d.config.agents[source.agent]?.type === 'graph';
    // PowerShell's single-quoted strings double a quote inside them.
    const quoted = missing.map((x) => `'${x.replace(/'/g, "''")}'`).join(',');
    const how = cloud
      ? `dirbridge cannot write the proxy addresses of Exchange Online mailboxes (Graph does not let them be written): add them with Set-Mailbox -Identity ${source.attributes['userprincipalname']?.[0] ?? source.anchor} -EmailAddresses @{Add=${quoted}}, or, in a hybrid organisation, on the on-premises remote mailbox`
      : "migration.writeX500 does not name the mailbox's agent, so dirbridge did not add them: add them by hand, or name the agent there";
    d.warning(
      d.label(mailbox),
      'proxyAddresses',
      'x500-not-written',
      `moved from ${personLabel}: replies to their old mail are addressed to ${missing.join(', ')}, and bounce unless the mailbox has these proxy addresses. ${how}`,
    );
  }

  /** The X500 addresses as values added to the mailbox's proxy addresses: nothing else in them is touched. */
  private stageX500(box: CsRow, x500: string[]): void {
    const { d } = this;
    const pending = d.view.getPendingExport(box.id);
    const already = pending?.operation === 'update' ? (pending.changes['proxyaddresses']?.added ?? []) : [];
    const add = missingX500([...(box.attributes['proxyaddresses'] ?? []), ...already], x500);
    if (!add.length) return;
    const before = box.attributes['proxyaddresses'] ?? [];
    const added = [...already, ...add];
    const changes = { ...(pending?.operation === 'update' ? pending.changes : {}), proxyaddresses: { before, after: [...before, ...added], added } };
    d.decide({
      kind: 'stage-export',
      export: { csId: box.id, agent: box.agent, operation: 'update', dn: box.dn, newDn: null, changes, attempts: 0, lastError: null },
    });
    d.stats.exportsStaged++;
  }
}
