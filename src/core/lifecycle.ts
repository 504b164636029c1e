// Disposal without the editor: VS Code's Disposable and ours share this shape.
export interface Disposable {
  dispose(): unknown;
}

/** Owns disposables and releases them in reverse order, so later ones can depend on earlier ones. */
export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  add<T extends Disposable>(item: T): T {
    if (this.disposed) {
      // Something registered after shutdown must not leak: release it at once.
      item.dispose();
    } else {
      this.items.push(item);
    }
    return item;
  }

  /** Disposes everything even if some throw; then throws the first error. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const errors: unknown[] = [];
    for (const item of this.items.splice(0).reverse()) {
      try {
        item.dispose();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

export function toDisposable(dispose: () => void): Disposable {
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      dispose();
    },
  };
}

/** A typed event: listeners subscribe with `event` and get a Disposable; `fire` calls each once. */
export class Emitter<T> {
  private readonly listeners = new Set<(value: T) => void>();

  readonly event = (listener: (value: T) => void): Disposable => {
    this.listeners.add(listener);
    return toDisposable(() => this.listeners.delete(listener));
  };

  fire(value: T): void {
    // A copy: a listener may unsubscribe while it runs.
    for (const listener of [...this.listeners]) listener(value);
  }

  dispose(): void {
    this.listeners.clear();
  }
}
