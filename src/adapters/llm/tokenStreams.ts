// The replies being streamed over one channel to a model host: each call that wants tokens gets an
// id, sent with its request; the pieces that come back with that id go to its listener until the
// call ends. The host's own process and the engine's socket both carry them this way.
export class TokenStreams {
  private readonly listeners = new Map<string, (text: string) => void>();
  private next = 1;

  /** A new stream's id for `onToken`, or undefined when the call wants no tokens. */
  open(onToken: ((text: string) => void) | undefined): string | undefined {
    if (!onToken) return undefined;
    const id = `${this.next++}`;
    this.listeners.set(id, onToken);
    return id;
  }

  deliver(id: string, text: string): void {
    this.listeners.get(id)?.(text);
  }

  close(id: string | undefined): void {
    if (id) this.listeners.delete(id);
  }
}
