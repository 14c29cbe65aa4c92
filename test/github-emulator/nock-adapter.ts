import nock from 'nock';
import type { GitHubEmulator } from './emulator.js';

/**
 * Routes every request to `baseUrl` (GitHub's API by default) into the emulator through nock, for
 * tests that drive an app with `probot.receive()` instead of over HTTP. Returns a function that
 * removes the interception.
 */
export function interceptGitHub(github: GitHubEmulator, baseUrl = 'https://api.github.com'): () => void {
  const scope = nock(baseUrl).persist();
  for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
    scope.intercept(/.*/, method).reply(function reply(uri, requestBody) {
      let body: unknown = requestBody;
      if (typeof requestBody === 'string') body = requestBody === '' ? undefined : JSON.parse(requestBody);
      const response = github.handle({ method, url: `${baseUrl}${uri}`, headers: this.req.headers, body });
      return [
        response.status,
        response.body === undefined ? '' : JSON.stringify(response.body),
        response.headers,
      ];
    });
  }
  return () => {
    scope.persist(false);
    nock.cleanAll();
  };
}
