/** The keys the store finds objects by, derived here and nowhere else. */
import { normalizeDn } from '../util/dn.js';

/** A DN's lookup key: its normalized form, or, for a DN that does not parse, the text as it came, case-folded. */
export function dnKeyOf(dn: string): string {
  try {
    return normalizeDn(dn);
  } catch {
    return dn.toLowerCase();
  }
}
