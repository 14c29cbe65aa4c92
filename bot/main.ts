/**
 * Starts the Cairn GitHub App with Probot's usual set-up: APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH)
 * and WEBHOOK_SECRET from the environment or a `.env` file in the working directory. Without them
 * Probot starts its set-up page, which registers the app from `app.yml` (see bot/README.md).
 */
import { run } from 'probot';
import { cairnApp } from './app.js';

await run(cairnApp);
