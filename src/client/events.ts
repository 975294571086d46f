/** A small typed event emitter (the SDK avoids node:events so it can run in a browser). */
export type Listener = (...args: never[]) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: Listener }> {
  private readonly listeners = new Map<keyof Events, Set<Listener>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs once. */
  once<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    const wrapper = ((...args: Parameters<Events[K]>) => {
      off();
      (listener as (...a: Parameters<Events[K]>) => void)(...args);
    }) as Events[K];
    const off = this.on(event, wrapper);
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): void {
    this.listeners.get(event)?.delete(listener);
  }

  /**
   * Calls every listener of `event`. A listener that throws does not stop the others, nor the
   * emitter's caller (the client's own bookkeeping, such as a status change inside close()): what
   * it threw goes to listenerThrew.
   */
  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as (...a: Parameters<Events[K]>) => void)(...args);
      } catch (error) {
        this.listenerThrew(event, error);
      }
    }
  }

  /** Whether `event` has a listener. */
  protected listens(event: keyof Events): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  /** A listener of `event` threw `error`. By default it is logged (console.error); subclasses say where it goes. */
  protected listenerThrew(event: keyof Events, error: unknown): void {
    console.error(`a '${String(event)}' listener threw:`, error);
  }
}
