/**
 * Active Directory GUIDs (objectGUID, msExchMailboxGuid) arrive as 16 bytes. dirbridge stores them in
 * the text form Windows tools show (Get-ADUser, ldp.exe), whose first three fields are little-endian,
 * so an administrator can paste an anchor from PowerShell into `dirbridge` and find the object.
 */

export function guidToString(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new Error(`a GUID has 16 bytes, got ${bytes.length}`);
  const hex = (i: number): string => bytes[i]!.toString(16).padStart(2, '0');
  const part = (idx: number[]): string => idx.map(hex).join('');
  return [part([3, 2, 1, 0]), part([5, 4]), part([7, 6]), part([8, 9]), part([10, 11, 12, 13, 14, 15])].join('-');
}

export function guidFromString(text: string): Buffer {
  const m = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a GUID`);
  const le = (h: string): string => h.match(/../g)!.reverse().join('');
  return Buffer.from(le(m[1]!) + le(m[2]!) + le(m[3]!) + m[4]! + m[5]!, 'hex');
}
