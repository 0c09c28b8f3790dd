/**
 * SMTP address checks. Deliberately stricter than RFC 5321 allows (no quoted local parts, no address
 * literals): an address-book contact with such an address would not route through Exchange anyway.
 */
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Returns why the address is not usable, or undefined when it is. */
export function smtpAddressProblem(address: string): string | undefined {
  if (address.length === 0) return 'is empty';
  if (address.length > 254) return `is ${address.length} characters long; SMTP allows 254`;
  if (/[\s\x00-\x1f\x7f]/.test(address)) return 'contains white space or control characters';
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return 'is not of the form local@domain';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64) return `has a local part of ${local.length} characters; SMTP allows 64`;
  if (!LOCAL.test(local)) return `has an invalid local part "${local}"`;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return `has an invalid domain "${domain}"`;
  return undefined;
}
