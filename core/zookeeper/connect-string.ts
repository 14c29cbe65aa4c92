import { ZkError } from './zk-error.js';

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

/** A parsed connect string: `host:port,host:port/chroot`. */
export interface ConnectString {
  readonly servers: readonly ServerAddress[];
  /** The chroot every path is relative to, without a trailing slash; '' for none. */
  readonly chroot: string;
}

const DEFAULT_PORT = 2181;

/** Parses a connect string as ZooKeeper's ConnectStringParser does (IPv6 hosts in brackets). */
export function parseConnectString(connectString: string): ConnectString {
  const slash = connectString.indexOf('/');
  const hostList = slash >= 0 ? connectString.slice(0, slash) : connectString;
  let chroot = slash >= 0 ? connectString.slice(slash) : '';
  if (chroot === '/') chroot = '';
  if (chroot.endsWith('/') || chroot.includes('//'))
    throw invalid(connectString, `the chroot ${chroot} must be a path like /cairn`);
  const servers = hostList
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => parseServer(entry, connectString));
  if (servers.length === 0) throw invalid(connectString, 'it names no server');
  return { servers, chroot };
}

function parseServer(entry: string, connectString: string): ServerAddress {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: port(bracketed[2], connectString) };
  const colon = entry.lastIndexOf(':');
  if (colon < 0) return { host: entry, port: DEFAULT_PORT };
  return { host: entry.slice(0, colon), port: port(entry.slice(colon + 1), connectString) };
}

function port(text: string | undefined, connectString: string): number {
  if (text === undefined) return DEFAULT_PORT;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw invalid(connectString, `${text} is not a port number`);
  return value;
}

function invalid(connectString: string, reason: string): ZkError {
  return new ZkError(
    'BAD_ARGUMENTS',
    `invalid ZooKeeper connect string ${JSON.stringify(connectString)}: ${reason} (expected host:port,host:port/chroot)`,
  );
}

/** The server's path for a client path under `chroot`. */
export function toServerPath(chroot: string, path: string): string {
  if (!chroot) return path;
  return path === '/' ? chroot : chroot + path;
}

/** The client's path for a server path under `chroot`; undefined for a path outside it. */
export function toClientPath(chroot: string, serverPath: string): string | undefined {
  if (!chroot) return serverPath;
  if (serverPath === chroot) return '/';
  if (serverPath.startsWith(`${chroot}/`)) return serverPath.slice(chroot.length);
  return undefined;
}
