/** LDAP filter values (RFC 4515): every filter dirbridge sends is built from escaped parts. */

export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Bytes as a filter value (every byte escaped): binary attributes such as objectGUID. */
export function escapeFilterBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
}
