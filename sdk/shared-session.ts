import type { SessionKeeper } from '../core/index.js';

/** What a use of a CairnClient (a config, a discovery, an election) can be closed by. */
export interface SessionUse {
  close(): Promise<void>;
}

/**
 * One ZooKeeper session several uses share (CairnClient's): each use watches and registers over it,
 * and closing a use leaves the session to the others.
 */
export interface SharedSession {
  readonly keeper: SessionKeeper;
  /** Hears failed connection attempts of the shared keeper; returns the function that stops. */
  onAttemptFailed(listener: (error: unknown, failures: number) => void): () => void;
  /** Records a use, closed with the client; returns the function that forgets it (on its own close). */
  attach(use: SessionUse): () => void;
}
