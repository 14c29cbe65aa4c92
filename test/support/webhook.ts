import { createHmac, randomUUID } from 'node:crypto';

/** Posts a GitHub-shaped push webhook, signed with `secret` (or with a forged signature). */
export async function postPushWebhook(
  url: string,
  secret: string,
  push: { ref?: string; after: string },
  options: { forge?: boolean; unsigned?: boolean; deliveryId?: string; event?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const body = JSON.stringify({
    ref: push.ref ?? 'refs/heads/main',
    after: push.after,
    repository: { full_name: 'northwind/config' },
  });
  const signature = `sha256=${createHmac('sha256', options.forge ? `${secret}-forged` : secret)
    .update(body)
    .digest('hex')}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': options.event ?? 'push',
      'x-github-delivery': options.deliveryId ?? randomUUID(),
      ...(options.unsigned ? {} : { 'x-hub-signature-256': signature }),
    },
    body,
  });
  return { status: response.status, body: await response.json() };
}
