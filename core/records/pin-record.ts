import { CONTENT_ID } from '../zk-layout.js';
import { encodeJson, RecordFields } from './record-fields.js';

/**
 * `/pins/<name>`: snapshots someone still needs, kept from content collection whatever their age —
 * a rollout pins the previous snapshot of an environment for the hosts it has not upgraded yet, and
 * removes the pin when done.
 */
export interface PinRecord {
  /** Who holds the pin, e.g. `deployment recommender/prod/d-0000000007`. */
  readonly owner: string;
  readonly reason?: string;
  /** When it was created, ISO 8601. */
  readonly createdAt: string;
  /** Manifest content ids of the pinned snapshots: their files are kept too. */
  readonly snapshots: readonly string[];
}

export function encodePinRecord(record: PinRecord): Uint8Array {
  return encodeJson(record);
}

export function decodePinRecord(data: Uint8Array, path?: string): PinRecord {
  const fields = RecordFields.parse('pin', data, path);
  const reason = fields.optionalString('reason');
  return {
    owner: fields.string('owner'),
    ...(reason !== undefined ? { reason } : {}),
    createdAt: fields.string('createdAt'),
    snapshots: fields.stringArray('snapshots', CONTENT_ID),
  };
}
