/** Messages between the process (host) and its loop threads. */
import type { AdminRequest, AdminResponse } from '../admin/index.js';
import type { Config } from '../config/index.js';
import type { ProcessMembership } from '../kafka/index.js';

export interface LoopData {
  readonly config: Config;
  readonly index: number;
  readonly version: string;
  /** The process's admin server, which answers for every loop. */
  readonly adminUrl: string;
  /** The process this loop is one of, as the group's members tell each other. */
  readonly process: ProcessMembership;
}

export type HostMessage =
  | { readonly type: 'request'; readonly id: number; readonly request: AdminRequest }
  /** Every loop is ready to join the group: join now. */
  | { readonly type: 'join' }
  | { readonly type: 'stop' };

export type LoopMessage =
  /** Loaded and ready to join the group; waits for the process's `join`. */
  | { readonly type: 'prepared' }
  | { readonly type: 'started' }
  /** The start failed: the error as code and message, so the process can report it as one loop would. */
  | { readonly type: 'failed'; readonly code: string | undefined; readonly message: string }
  | { readonly type: 'response'; readonly id: number; readonly response: AdminResponse };
