import { describe, expect, it } from 'vitest';
import { decodeInstanceRecord, encodeInstanceRecord, type InstanceRecord } from './instance-record.js';

describe('the instance record', () => {
  const record: InstanceRecord = {
    id: 'rec-prod-01-4242-a1b2c3',
    service: 'recommender',
    env: 'prod',
    host: 'rec-prod-01.dc1.northwind.internal',
    port: 8080,
    pid: 4242,
    startedAt: '2025-01-01T00:00:00.000Z',
    commit: 'c'.repeat(40),
    appliedAt: '2025-01-01T00:00:01.000Z',
    source: 'zookeeper',
    files: { 'application.yaml': 'f'.repeat(40) },
    rejected: { commit: 'd'.repeat(40), reason: 'application.yaml: bad' },
  };

  it('round-trips', () => {
    expect(decodeInstanceRecord(encodeInstanceRecord(record))).toEqual(record);
  });

  it('refuses what is not a record, rather than guessing', () => {
    for (const data of ['', 'null', '[]', '{"id":"x"}', '{"id":"x","host":"h","pid":"1","startedAt":"t"}'])
      expect(decodeInstanceRecord(Buffer.from(data)), data).toBeUndefined();
    expect(
      decodeInstanceRecord(Buffer.from('{"id":"x","host":"h","pid":1,"startedAt":"t","port":"80"}')),
    ).toBeUndefined();
  });
});
