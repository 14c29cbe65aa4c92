import type { Probot } from 'probot';
import { getAppBotLogin } from './github.js';

/**
 * Who the app is on GitHub: the login of its bot account, asked once (`GET /app` as the app) and
 * remembered; a failed question is asked again next time. The plan comment is the one this account
 * wrote: another app's comment that happens to carry the same marker is not ours to edit.
 */
export class AppIdentity {
  readonly #app: Probot;
  #botLogin: Promise<string> | undefined;

  constructor(app: Probot) {
    this.#app = app;
  }

  botLogin(): Promise<string> {
    this.#botLogin ??= this.#app
      .auth()
      .then((octokit) => getAppBotLogin(octokit))
      .catch((error: unknown) => {
        this.#botLogin = undefined;
        throw error;
      });
    return this.#botLogin;
  }
}
