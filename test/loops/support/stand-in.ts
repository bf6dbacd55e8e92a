/** What the host's tests tell the stand-in loop (stand-in-loop.ts), and what it answers. */
export interface StandInBehaviour {
  notReady?: number;
  exitsAfterStart?: number;
  stopsDirectory: string;
}

export const NOT_READY_REASON = 'consumer has not joined the group';
export const stoppedFile = (index: number) => `stopped-${index}`;
