/**
 * The slice of undici's dispatcher API the interceptor uses: the legacy handler callbacks of
 * undici 5 and 6 (Node 20's fetch), kept local so that no undici package is needed at run time.
 */
export interface Handler {
  onConnect?(abort: (err?: Error) => void): void;
  onHeaders?(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: string[] | null): void;
  onUpgrade?(statusCode: number, headers: Buffer[] | string[] | null, socket: unknown): void;
  onError?(error: Error): void;
  onBodySent?(chunkSize: number, totalBytesSent: number): void;
}

export interface DispatchOptions {
  origin?: string | URL;
  path?: string;
  method: string;
}

export type DispatchFn = (opts: DispatchOptions, handler: Handler) => boolean;

export interface Dispatcher {
  dispatch: DispatchFn;
  compose?(...interceptors: Array<(dispatch: DispatchFn) => DispatchFn>): Dispatcher;
}
