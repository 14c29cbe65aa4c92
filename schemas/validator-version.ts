import { createHash } from 'node:crypto';
import { PARSE_RULES_VERSION } from '../core/index.js';
import { MANIFEST_SCHEMAS } from './manifest-checker.js';

/**
 * Names what a file's verdict depends on besides its bytes: the parsing rules and every manifest
 * schema. Verdicts kept under another version (an upgrade changed a schema) are dropped.
 */
export const VALIDATOR_VERSION = createHash('sha1')
  .update(JSON.stringify({ parse: PARSE_RULES_VERSION, schemas: MANIFEST_SCHEMAS }))
  .digest('hex')
  .slice(0, 16);
