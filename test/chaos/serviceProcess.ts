/**
 * The chaos service (service.mjs) as a child process: forked on the built package, spoken to
 * over IPC. Everything it reports is kept, in order; its stderr is kept for error messages.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceMessage, ServiceStats } from './types.js';

const SERVICE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'service.mjs');

type Message<T extends ServiceMessage['type']> = Extract<ServiceMessage, { type: T }>;

export class ServiceProcess {
  /** Every message the service sent, in order. */
  readonly messages: ServiceMessage[] = [];
  private stderr = '';
  /** Rejects when the process exits before `stop()`. */
  private readonly exited: Promise<never>;
  private stopping = false;

  private constructor(private readonly child: ChildProcess) {
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-20_000);
    });
    child.on('message', (m: ServiceMessage) => this.messages.push(m));
    this.exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => {
        if (!this.stopping) reject(new Error(`the chaos service exited (${code ?? signal}) before it was stopped:\n${this.stderr}`));
      }),
    );
    this.exited.catch(() => undefined);
  }

  /** Forks the service with its settings (CHAOS_SERVICE) and waits until it listens. */
  static async start(settings: object): Promise<{ service: ServiceProcess; ready: Message<'ready'> }> {
    const child = fork(SERVICE, [], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env: { ...process.env, CHAOS_SERVICE: JSON.stringify(settings) },
    });
    const service = new ServiceProcess(child);
    try {
      return { service, ready: await service.next('ready', 30_000) };
    } catch (err) {
      service.kill();
      throw err;
    }
  }

  /** Messages of one type so far. */
  all<T extends ServiceMessage['type']>(type: T): Array<Message<T>> {
    return this.messages.filter((m): m is Message<T> => m.type === type);
  }

  /** Races `work` with the service dying: a crashed service fails the run at once, with its stderr. */
  guard<T>(work: Promise<T>): Promise<T> {
    return Promise.race([this.exited, work]);
  }

  cpuSpike(durationMs: number): void {
    this.child.send({ cmd: 'cpu', durationMs });
  }

  /** Asks the service to close its clients and shut its SDK down; resolves with its counts (undefined if it did not answer). */
  async stop(): Promise<ServiceStats | undefined> {
    this.stopping = true;
    if (this.child.connected) {
      // 'close' comes after the last message: the counts are in `messages` by then, if sent at all.
      const closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
      const stopped = this.next('stopped', 20_000).catch(() => undefined);
      this.child.send({ cmd: 'stop' });
      await Promise.race([stopped, closed]);
    }
    return this.all('stopped')[0]?.stats;
  }

  kill(): void {
    this.stopping = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private next<T extends ServiceMessage['type']>(type: T, timeoutMs: number): Promise<Message<T>> {
    return this.guard(
      new Promise<Message<T>>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.child.off('message', on);
          reject(new Error(`the chaos service sent no "${type}" in ${timeoutMs} ms:\n${this.stderr}`));
        }, timeoutMs);
        timer.unref();
        const on = (m: ServiceMessage): void => {
          if (m.type !== type) return;
          clearTimeout(timer);
          this.child.off('message', on);
          resolve(m as Message<T>);
        };
        this.child.on('message', on);
      }),
    );
  }
}
