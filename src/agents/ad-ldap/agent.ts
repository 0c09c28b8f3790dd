/**
 * Active Directory over LDAP. Imports users (mailbox recognition is a scoping rule) and writes
 * mail-enabled contacts: objectClass contact with mail, mailNickname, targetAddress and proxyAddresses.
 */
import type { DeltaStrategyName, LdapAgentConfig } from '../ldap/config.js';
import type { ConnectionSettings } from '../ldap/connection.js';
import type { DeltaStrategy } from '../ldap/delta/types.js';
import { LdapAgent } from '../ldap/ldap-agent.js';
import { type AttributeMap } from '../../model/objects.js';
import { ObjectError } from '../types.js';
import { DirSyncStrategy } from './dirsync.js';
import { UsnStrategy } from './usn.js';

export class AdLdapAgent extends LdapAgent {
  constructor(name: string, config: Extract<LdapAgentConfig, { type: 'ad-ldap' }>, settings: ConnectionSettings) {
    super(name, config, settings);
  }

  protected override deltaStrategy(name: DeltaStrategyName): DeltaStrategy | undefined {
    if (name === 'dirsync') return new DirSyncStrategy(this);
    if (name === 'usn') return new UsnStrategy(this);
    return super.deltaStrategy(name);
  }

  protected defaultObjectClasses(): string[] {
    return ['top', 'person', 'organizationalPerson', 'contact'];
  }

  protected prepareAdd(dn: string, _objectClasses: readonly string[], attributes: AttributeMap): AttributeMap {
    const target = attributes['targetaddress']?.[0];
    if (target !== undefined && !/^smtp:/i.test(target)) {
      throw new ObjectError(dn, 'targetAddress', `"${target}" must start with SMTP: (the external delivery address)`, 'invalid-value');
    }
    const proxies = attributes['proxyaddresses'] ?? [];
    const primaries = proxies.filter((p) => p.startsWith('SMTP:'));
    if (proxies.length && primaries.length !== 1) {
      throw new ObjectError(dn, 'proxyAddresses', `needs exactly one primary SMTP: address, has ${primaries.length}`, 'invalid-value');
    }
    return attributes;
  }
}
