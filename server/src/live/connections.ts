/**
 * How many live (WebSocket) connections this replica holds. The live transport calls
 * `opened()` on connect and the function it returns on close; monitoring reads `count`.
 */
export interface LiveConnections {
  readonly count: number;
  opened(): () => void;
}

export function createLiveConnections(): LiveConnections {
  let count = 0;
  return {
    get count() {
      return count;
    },
    opened() {
      count++;
      let closed = false;
      return () => {
        if (!closed) count--;
        closed = true;
      };
    },
  };
}
