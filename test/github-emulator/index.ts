/**
 * A GitHub emulator for the Cairn bot's tests: the REST endpoints the bot calls, in memory, every
 * request and response checked against GitHub's OpenAPI description, and webhooks shaped and signed as
 * GitHub sends them. See README.md.
 */
export {
  type AppCredentials,
  createAppCredentials,
  signWebhook,
  verifyAppJwt,
} from './app-credentials.js';
export { type Delivery, deliverWebhook } from './deliver-webhook.js';
export {
  EmulatedRepository,
  type EmulatedRequest,
  type EmulatedResponse,
  type Fault,
  GitHubEmulator,
  type RecordedRequest,
  type Violation,
} from './emulator.js';
export { type FileContent, GitObjectStore } from './git-objects.js';
export { type ServedEmulator, serveGitHubEmulator } from './http-server.js';
export { interceptGitHub } from './nock-adapter.js';
export { loadGitHubOpenApi, OpenApiDescription, toJsonSchema } from './openapi.js';
export type {
  CheckRunRecord,
  CommentRecord,
  DeploymentRecord as EmulatedDeployment,
  DeploymentStatusRecord as EmulatedDeploymentStatus,
} from './rest-objects.js';
export type { WebhookEvent } from './webhook-events.js';
