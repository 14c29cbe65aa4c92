import type { ReleaseManifest, ReleaseStrategy } from '../manifests.js';
import { encodeJson, RecordFields } from './record-fields.js';

/** `/releases/<service>/<env>`: the release manifest the environment serves, as validated. */
export type ReleaseRecord = ReleaseManifest;

export function encodeReleaseRecord(record: ReleaseRecord): Uint8Array {
  return encodeJson(record);
}

export function decodeReleaseRecord(data: Uint8Array, path?: string): ReleaseRecord {
  return decodeReleaseFields(RecordFields.parse('release', data, path));
}

/** A release manifest held in a record's field (a deployment keeps the one it rolls out). */
export function decodeReleaseFields(fields: RecordFields): ReleaseRecord {
  const deploy = fields.object('deploy');
  const health = deploy.optionalObject('healthCheck');
  const notes = fields.optionalString('notes');
  const timeoutSeconds = deploy.optionalInteger('timeoutSeconds', 1);
  const healthTimeout = health?.optionalInteger('timeoutSeconds', 1);
  const apiVersion = fields.string('apiVersion');
  if (apiVersion !== 'cairn/v1') throw fields.fail('apiVersion', 'must be cairn/v1');
  return {
    apiVersion,
    version: fields.string('version'),
    ...(notes !== undefined ? { notes } : {}),
    deploy: {
      command: deploy.string('command'),
      ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      ...(health
        ? {
            healthCheck: {
              command: health.string('command'),
              ...(healthTimeout !== undefined ? { timeoutSeconds: healthTimeout } : {}),
            },
          }
        : {}),
    },
    strategy: decodeStrategy(fields.object('strategy')),
  };
}

function decodeStrategy(fields: RecordFields): ReleaseStrategy {
  const raw = fields.raw('batchSize');
  let batchSize: ReleaseStrategy['batchSize'];
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 1) batchSize = raw;
  else if (typeof raw === 'string' && /^\d+(\.\d+)?%$/.test(raw)) batchSize = raw as `${number}%`;
  else throw fields.fail('batchSize', 'must be a number of hosts or a percentage like "25%"');
  const canary = fields.optionalObject('canary');
  const bakeSeconds = canary?.optionalInteger('bakeSeconds', 0);
  const pause = canary?.optionalBoolean('pause');
  const pauseBetween = fields.optionalInteger('pauseBetweenBatchesSeconds', 0);
  const maxFailed = fields.optionalInteger('maxFailedHosts', 0);
  const deadline = fields.optionalInteger('progressDeadlineSeconds', 1);
  const rollback = fields.optionalBoolean('rollback');
  return {
    ...(canary
      ? {
          canary: {
            hosts: canary.integer('hosts', 1),
            ...(bakeSeconds !== undefined ? { bakeSeconds } : {}),
            ...(pause !== undefined ? { pause } : {}),
          },
        }
      : {}),
    batchSize,
    ...(pauseBetween !== undefined ? { pauseBetweenBatchesSeconds: pauseBetween } : {}),
    ...(maxFailed !== undefined ? { maxFailedHosts: maxFailed } : {}),
    ...(deadline !== undefined ? { progressDeadlineSeconds: deadline } : {}),
    ...(rollback !== undefined ? { rollback } : {}),
  };
}
