import { CairnError } from '../core/index.js';

/** A request names a service, environment, file or deployment ZooKeeper does not hold (HTTP 404). */
export class DashboardNotFoundError extends CairnError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** A request's parameters are missing or malformed (HTTP 400); the message says what to send. */
export class DashboardRequestError extends CairnError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
  }
}
