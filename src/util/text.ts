/** Checks on text values that came from a directory. */
const CONTROL_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/** Why a value cannot be taken (a control character, with its code point and position), if it cannot. */
export function controlCharacterProblem(value: string): string | undefined {
  const m = CONTROL_CHARS.exec(value);
  return m ? `holds a control character (U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at position ${m.index + 1})` : undefined;
}
