import { CairnError } from '../core/index.js';

/** The command line itself is wrong: reported with its message and exit status 2, never a stack. */
export class UsageError extends CairnError {
  constructor(message: string) {
    super('USAGE', message);
  }
}
