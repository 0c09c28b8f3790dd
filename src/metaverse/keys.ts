/** The keys the store finds objects by, derived here and nowhere else. */

/** A DN's lookup key (util/dn.ts): the rules compare DNs by it too. */
export { dnKeyOf } from '../util/dn.js';
