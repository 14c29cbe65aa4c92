import type { Host, Service, ServiceEnvironment } from '../config-repo.js';
import { type SteeringGrant, type SteeringGrants, steeringGrantsOf } from '../deployments/steering-policy.js';
import {
  DEFAULT_FILE_MODE,
  DEFAULT_HOST_WEIGHT,
  DEFAULT_LOAD_BALANCING,
  type PolicyManifest,
} from '../manifests.js';
import { CONTROL_ACTIONS, type ControlAction } from './deployment-control-record.js';
import { encodeJson, RecordFields } from './record-fields.js';

/** `/services/<service>`: the service tree node, service.yaml with every default filled in. */
export interface ServiceRecord {
  readonly name: string;
  readonly description: string;
  readonly owners: readonly string[];
  readonly port?: number;
  readonly files?: {
    readonly directory: string;
    readonly mode: string;
    readonly owner?: string;
    /** Delete the written files when a host stops running the service. */
    readonly prune: boolean;
  };
  readonly dependsOn: readonly string[];
  readonly environments: Readonly<Record<string, ServiceEnvironment>>;
  /**
   * Who may steer its deployments, from policy.yaml's `deployments` section; absent when the
   * policy has none (anyone may).
   */
  readonly steering?: SteeringGrants;
}

/** What ZooKeeper records of a service of the model, with the steering grants of the branch's policy. */
export function serviceRecordOf(service: Service, policy?: PolicyManifest): ServiceRecord {
  const { manifest } = service;
  const steering = steeringGrantsOf(policy, { name: service.name, owners: manifest.owners }, [
    ...service.environments.keys(),
    ...service.releases.keys(),
  ]);
  return {
    name: service.name,
    description: manifest.description,
    owners: manifest.owners,
    ...(manifest.port !== undefined ? { port: manifest.port } : {}),
    ...(manifest.files ? { files: { mode: DEFAULT_FILE_MODE, prune: false, ...manifest.files } } : {}),
    dependsOn: manifest.dependsOn ?? [],
    environments: Object.fromEntries(service.environments),
    ...(steering ? { steering } : {}),
  };
}

export function encodeServiceRecord(record: ServiceRecord): Uint8Array {
  return encodeJson(record);
}

export function decodeServiceRecord(data: Uint8Array, path?: string): ServiceRecord {
  const fields = RecordFields.parse('service', data, path);
  const port = fields.optionalInteger('port', 1);
  const files = fields.optionalObject('files');
  const owner = files?.optionalString('owner');
  return {
    name: fields.string('name'),
    description: fields.optionalString('description') ?? '',
    owners: fields.stringArray('owners'),
    ...(port !== undefined ? { port } : {}),
    ...(files
      ? {
          files: {
            directory: files.string('directory'),
            mode: files.optionalString('mode', /^0?[0-7]{3}$/) ?? DEFAULT_FILE_MODE,
            ...(owner !== undefined ? { owner } : {}),
            prune: files.optionalBoolean('prune') ?? false,
          },
        }
      : {}),
    dependsOn: fields.has('dependsOn') ? fields.stringArray('dependsOn') : [],
    environments: fields.map('environments', (env, name) => decodeEnvironment(env, name)),
    ...(fields.has('steering') ? { steering: fields.array('steering', decodeSteeringGrant) } : {}),
  };
}

function decodeSteeringGrant(fields: RecordFields): SteeringGrant {
  const actions = fields.stringArray('actions');
  const unknown = actions.find((action) => !CONTROL_ACTIONS.includes(action as ControlAction));
  if (unknown !== undefined)
    throw fields.fail('actions', `names "${unknown}": must be among ${CONTROL_ACTIONS.join(', ')}`);
  return {
    env: fields.string('env'),
    rule: fields.string('rule'),
    actions: actions as ControlAction[],
    from: fields.stringArray('from', /^user:/),
  };
}

function decodeEnvironment(fields: RecordFields, name: string): ServiceEnvironment {
  const loadBalancing = fields.optionalString('loadBalancing') ?? DEFAULT_LOAD_BALANCING;
  if (loadBalancing !== 'weighted-round-robin' && loadBalancing !== 'consistent-hash')
    throw fields.fail('loadBalancing', 'must be weighted-round-robin or consistent-hash');
  const reload = fields.optionalString('reload');
  const check = fields.optionalString('check');
  const configRollout = fields.optionalString('configRollout');
  if (configRollout !== undefined && configRollout !== 'with-release')
    throw fields.fail('configRollout', 'must be with-release when present');
  const drainDuringDeploys = fields.optionalBoolean('drainDuringDeploys');
  if (drainDuringDeploys === false) throw fields.fail('drainDuringDeploys', 'must be true when present');
  return {
    name,
    loadBalancing,
    ...(reload !== undefined ? { reload } : {}),
    ...(check !== undefined ? { check } : {}),
    hosts: fields.has('hosts') ? fields.array('hosts', decodeHost) : [],
    ...(configRollout !== undefined ? { configRollout } : {}),
    ...(drainDuringDeploys ? { drainDuringDeploys } : {}),
  };
}

function decodeHost(fields: RecordFields): Host {
  const weight = fields.optionalNumber('weight') ?? DEFAULT_HOST_WEIGHT;
  if (weight < 0) throw fields.fail('weight', 'must not be negative');
  return {
    host: fields.string('host'),
    weight,
    labels: fields.has('labels') ? fields.stringMap('labels') : {},
  };
}
