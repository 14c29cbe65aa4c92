import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { type Account, account } from './rest-objects.js';

/** A webhook delivery as GitHub sends it: the event name, the delivery id and the JSON payload. */
export interface WebhookEvent {
  readonly id: string;
  readonly name: string;
  readonly payload: Record<string, unknown>;
}

interface ExampleSet {
  readonly name: string;
  readonly examples: readonly Record<string, unknown>[];
}

let examples: readonly ExampleSet[] | undefined;

/** GitHub's own example payloads (`@octokit/webhooks-examples`), the envelope every event starts from. */
function exampleOf(name: string, action: string | undefined): Record<string, unknown> {
  if (!examples) {
    const require = createRequire(import.meta.url);
    examples = require('@octokit/webhooks-examples') as readonly ExampleSet[];
  }
  const set = examples.find((e) => e.name === name);
  const candidates = set?.examples.filter((e) => action === undefined || e.action === action) ?? [];
  const example = candidates.find((e) => 'installation' in e) ?? candidates[0] ?? set?.examples[0];
  if (!example) throw new Error(`@octokit/webhooks-examples has no "${name}" payload`);
  return structuredClone(example);
}

export interface EventContext {
  readonly repository: Record<string, unknown>;
  readonly sender: Account;
  readonly installationId: number | undefined;
  readonly organization: Account | undefined;
}

/**
 * A payload shaped like GitHub's: the documented example of the event, with the objects that matter
 * (pull request, review, repository, sender, installation) replaced by the emulator's own.
 */
export function webhookEvent(
  name: string,
  action: string | undefined,
  context: EventContext,
  fields: Record<string, unknown>,
): WebhookEvent {
  const payload = exampleOf(name, action);
  if (action !== undefined) payload.action = action;
  payload.repository = context.repository;
  payload.sender = account(context.sender);
  if (context.installationId === undefined) delete payload.installation;
  else
    payload.installation = {
      id: context.installationId,
      node_id: Buffer.from(`0:Installation${context.installationId}`).toString('base64'),
    };
  if (context.organization) {
    const org = context.organization;
    payload.organization = {
      login: org.login,
      id: org.id,
      node_id: Buffer.from(`0:Organization${org.id}`).toString('base64'),
      url: `https://api.github.com/orgs/${org.login}`,
      repos_url: `https://api.github.com/orgs/${org.login}/repos`,
      events_url: `https://api.github.com/orgs/${org.login}/events`,
      hooks_url: `https://api.github.com/orgs/${org.login}/hooks`,
      issues_url: `https://api.github.com/orgs/${org.login}/issues`,
      members_url: `https://api.github.com/orgs/${org.login}/members{/member}`,
      public_members_url: `https://api.github.com/orgs/${org.login}/public_members{/member}`,
      avatar_url: `https://avatars.githubusercontent.com/u/${org.id}?v=4`,
      description: null,
    };
  } else delete payload.organization;
  // Only `synchronize` carries the commits before and after the push.
  if (!('after' in fields)) {
    delete payload.before;
    delete payload.after;
  }
  Object.assign(payload, fields);
  return { id: randomUUID(), name, payload };
}
