/**
 * Templates with placeholders: `{mail}` is an attribute's first value; `{mail.local}` and
 * `{mail.domain}` are the parts of an address before and after its last "@", so that a rule can
 * write a routing address (`SMTP:{mail.local}@notes.acme.com`) from a person's primary one. One
 * grammar for flow templates and DN templates, and for the config check that reads them.
 */

/** The parts of an address a placeholder can take. */
export const ADDRESS_PARTS = ['local', 'domain'] as const;
export type AddressPart = (typeof ADDRESS_PARTS)[number];

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9-]*)(?:\.([A-Za-z]+))?\}/g;

export interface Placeholder {
  /** The whole placeholder as written, braces included. */
  text: string;
  attribute: string;
  part?: AddressPart;
  /** A part that is not one of ADDRESS_PARTS (a config error). */
  unknownPart?: string;
}

export function placeholdersOf(template: string): Placeholder[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => {
    const part = m[2];
    if (part === undefined) return { text: m[0], attribute: m[1]! };
    const lower = part.toLowerCase();
    return (ADDRESS_PARTS as readonly string[]).includes(lower)
      ? { text: m[0], attribute: m[1]!, part: lower as AddressPart }
      : { text: m[0], attribute: m[1]!, unknownPart: part };
  });
}

/** A template with every placeholder replaced by `x`: what is left must be the template's fixed text. */
export function withoutPlaceholders(template: string): string {
  return template.replace(PLACEHOLDER, 'x');
}

/**
 * The part of an address; undefined when the value is not an address with both parts (a routing
 * address built from half an address would send mail somewhere else).
 */
export function addressPart(value: string, part: AddressPart): string | undefined {
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return undefined;
  return part === 'local' ? value.slice(0, at) : value.slice(at + 1);
}

/**
 * Fills a template: each placeholder from the first value of its attribute (through `escape` when
 * given, for DNs). `missing` names the first placeholder that had no value, or whose value has no
 * such address part; the text is then not to be used.
 */
export function fillTemplate(
  template: string,
  firstValue: (attribute: string) => string | undefined,
  escape: (value: string) => string = (v) => v,
): { text: string; missing?: Placeholder } {
  let missing: Placeholder | undefined;
  const text = template.replace(PLACEHOLDER, (whole: string, attribute: string, part?: string) => {
    const value = firstValue(attribute);
    const wanted = part?.toLowerCase() as AddressPart | undefined;
    const filled = value === undefined || value.trim() === '' ? undefined : wanted ? addressPart(value, wanted) : value;
    if (filled === undefined) {
      missing ??= { text: whole, attribute, ...(wanted ? { part: wanted } : {}) };
      return '';
    }
    return escape(filled);
  });
  return missing ? { text, missing } : { text };
}
