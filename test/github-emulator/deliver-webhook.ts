import { signWebhook } from './app-credentials.js';
import type { WebhookEvent } from './webhook-events.js';

export interface Delivery {
  readonly status: number;
  readonly body: string;
}

/**
 * POSTs an event to an app's webhook URL as GitHub does: the JSON body signed with the webhook secret
 * (HMAC-SHA256 in `X-Hub-Signature-256`), the event name and a delivery id in headers.
 */
export async function deliverWebhook(
  event: WebhookEvent,
  target: { readonly url: string; readonly secret: string; readonly signature?: string | null },
): Promise<Delivery> {
  const body = JSON.stringify(event.payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/cairn-emulator',
    'x-github-event': event.name,
    'x-github-delivery': event.id,
    'x-github-hook-id': '1',
    'x-github-hook-installation-target-type': 'integration',
    'x-github-hook-installation-target-id': '1',
  };
  // `signature: null` sends none; a string sends that one instead of the right one.
  const signature = target.signature === undefined ? signWebhook(body, target.secret) : target.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  const response = await fetch(target.url, { method: 'POST', headers, body });
  return { status: response.status, body: await response.text() };
}
