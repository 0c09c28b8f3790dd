/**
 * Which Graph users have an Exchange Online mailbox. Graph has no recipient type, and mail or
 * proxyAddresses do not prove a mailbox. mailboxSettings is exact: it answers with the mailbox's
 * userPurpose (user, shared, room, equipment, linked, others) and with 404 MailboxNotEnabledForRESTAPI
 * for users without one (guests, on-premises mailboxes in hybrid, inactive or soft-deleted mailboxes).
 * assignedPlans (an enabled Exchange plan) costs no request, but a licence is not a mailbox.
 */
import { HttpError, requestWithRetries, type RetryContext } from '../entra/retry.js';
import { ServerDownError } from '../types.js';
import type { GraphClient } from './client.js';

export async function mailboxPurpose(
  graph: GraphClient,
  rc: RetryContext,
  detection: 'mailboxSettings' | 'assignedPlans',
  user: Record<string, unknown> & { id: string },
): Promise<string | undefined> {
  if (detection === 'assignedPlans') {
    const plans = Array.isArray(user.assignedPlans) ? (user.assignedPlans as { service?: string; capabilityStatus?: string }[]) : [];
    return plans.some((p) => p.service?.toLowerCase() === 'exchange' && p.capabilityStatus === 'Enabled') ? 'user' : undefined;
  }
  const who = typeof user.userPrincipalName === 'string' ? user.userPrincipalName : user.id;
  try {
    const settings = await requestWithRetries(rc, who, `GET /users/${user.id}/mailboxSettings`, () =>
      graph.get<{ userPurpose?: string | { value?: string } }>(`${graph.origin}/v1.0/users/${encodeURIComponent(user.id)}/mailboxSettings?$select=userPurpose`),
    );
    const purpose = typeof settings.userPurpose === 'string' ? settings.userPurpose : settings.userPurpose?.value;
    return purpose || 'user';
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    if (e.failure.status === 404) return undefined; // no Exchange Online mailbox (or the user went meanwhile)
    if (e.failure.status === 403) {
      throw new ServerDownError(
        rc.agent,
        `reading the mailbox of ${who} was refused (${e.message}); the app needs the MailboxSettings.Read application permission, or set mailboxDetection: assignedPlans`,
        true,
      );
    }
    throw e;
  }
}
