/**
 * HCL Domino Directory over its LDAP service. A contact for an Exchange user is a Person document with
 * no Notes ID: MailSystem "Other Internet Mail" and the SMTP address as forwarding address (MailAddress).
 */
import type { LdapAgentConfig } from '../ldap/config.js';
import type { ConnectionSettings } from '../ldap/connection.js';
import { LdapAgent } from '../ldap/ldap-agent.js';
import { type AttributeMap } from '../../model/objects.js';
import { ObjectError } from '../types.js';

export class DominoLdapAgent extends LdapAgent {
  private readonly mailSystem: string;

  constructor(name: string, config: Extract<LdapAgentConfig, { type: 'domino-ldap' }>, settings: ConnectionSettings) {
    super(name, config, settings);
    this.mailSystem = config.contactMailSystem;
  }

  protected defaultObjectClasses(): string[] {
    return ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'dominoPerson'];
  }

  protected prepareAdd(dn: string, objectClasses: readonly string[], attributes: AttributeMap): AttributeMap {
    const out = { ...attributes };
    // A Group document (a mirrored distribution list) is named and has members; it has no mail system.
    if (objectClasses.some((c) => c.toLowerCase() === 'dominogroup')) return out;
    if (!out['sn']?.length) throw new ObjectError(dn, 'sn', 'a Domino Person needs a last name (sn); none flowed to it', 'missing-attribute');
    const forward = out['mailaddress']?.[0];
    if (!forward) throw new ObjectError(dn, 'mailaddress', 'a Domino contact needs the SMTP forwarding address (mailaddress)', 'missing-attribute');
    if (!out['mailsystem']?.length) out['mailsystem'] = [this.mailSystem];
    return out;
  }

  protected override writeRefusedHint(): string {
    return "Domino refuses LDAP writes unless 'Allow LDAP users write access' is enabled in the Configuration Settings document (LDAP tab) and the server restarted; the bind account also needs Author/Editor rights in the directory ACL";
  }
}
