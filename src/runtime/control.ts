// The local control channel behind `<agent> status`: newline-delimited JSON over a Unix stream socket in
// the Linux ABSTRACT namespace ("\0teredo-agents/<agent>[/<instance>]"). Abstract sockets have no file to
// clean up after a crash, and they are scoped to the network namespace, so `teredo-server status` run
// inside a lab namespace reaches that namespace's server even when several labs share one host.
//
// Protocol: the client writes one request line `{"cmd":"status",...}`, the server answers one line
// `{"ok":true,"result":...}` or `{"ok":false,"error":"..."}`, then the client closes.

import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { AgentError, bindError } from './errors.js';

export const CONTROL_NAMESPACE = 'teredo-agents';
/** Requests longer than this are refused: the channel carries small commands only (replies are not bounded). */
const MAX_LINE_BYTES = 64 * 1024;

/**
 * Any process of the network namespace can connect to an abstract socket (it has no file permissions), so
 * connections are bounded: at most `maxConnections` at once (more are closed by the kernel side at once),
 * and one that has not sent its request line within `idleTimeoutMs` is closed.
 */
export interface ControlLimits {
  maxConnections: number;
  idleTimeoutMs: number;
}

export const CONTROL_LIMITS: ControlLimits = { maxConnections: 16, idleTimeoutMs: 5000 };

export interface ControlRequest {
  cmd: string;
  [key: string]: unknown;
}

export type ControlHandler = (request: ControlRequest) => unknown | Promise<unknown>;

export interface ControlServer {
  /** The abstract socket path (with its leading NUL). */
  readonly path: string;
  close(): Promise<void>;
}

/** "teredo-server" or "teredo-server/lab1": the agent name plus an optional instance name. */
export function controlName(agent: string, instance?: string): string {
  return instance ? `${agent}/${instance}` : agent;
}

export function controlSocketPath(name: string): string {
  return `\0${CONTROL_NAMESPACE}/${name}`;
}

/**
 * Listens on the abstract socket for `name`. Fails with IO_BIND if another process in this network
 * namespace already serves that name (a second instance of the same agent).
 */
export async function serveControl(name: string, handler: ControlHandler, limits: ControlLimits = CONTROL_LIMITS): Promise<ControlServer> {
  const path = controlSocketPath(name);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
    serveConnection(socket, handler);
  });
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(bindError(`control socket for ${describe(name)}`, err)));
    server.listen(path, () => resolve());
  });
  // Control sockets must not keep an agent alive on their own.
  server.unref();
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function serveConnection(socket: Socket, handler: ControlHandler): void {
  let buffered = '';
  let answered = false;
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    if (answered) return;
    buffered += chunk;
    const nl = buffered.indexOf('\n');
    if (nl < 0) {
      if (buffered.length > MAX_LINE_BYTES) reply({ ok: false, error: 'request too long' });
      return;
    }
    answered = true;
    void answer(buffered.slice(0, nl)).then(reply);
  });

  function reply(response: { ok: boolean; result?: unknown; error?: string }): void {
    answered = true;
    if (!socket.writable) return;
    let line: string;
    try {
      line = JSON.stringify(response);
    } catch (err) {
      line = JSON.stringify({ ok: false, error: `response not serializable: ${(err as Error).message}` });
    }
    socket.end(`${line}\n`);
  }

  async function answer(line: string): Promise<{ ok: boolean; result?: unknown; error?: string }> {
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      return { ok: false, error: 'request is not JSON' };
    }
    if (typeof request !== 'object' || request === null || typeof (request as ControlRequest).cmd !== 'string') {
      return { ok: false, error: 'request must be an object with a string "cmd"' };
    }
    try {
      return { ok: true, result: await handler(request as ControlRequest) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }
}

/**
 * Sends one request to the agent serving `name` in this network namespace and returns its result.
 * Throws AgentError CONTROL_NO_LISTENER when nothing listens, CONTROL_FAILED on timeout, a broken reply
 * or an `{ok:false}` answer.
 */
export function queryControl(name: string, request: ControlRequest, timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(controlSocketPath(name));
    let buffered = '';
    let settled = false;
    const finish = (err: AgentError | undefined, result?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(result);
    };
    const timer = setTimeout(
      () => finish(new AgentError('CONTROL_FAILED', `${describe(name)} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') {
        finish(new AgentError('CONTROL_NO_LISTENER', `no ${describe(name)} running in this network namespace`, { cause: err }));
      } else {
        finish(new AgentError('CONTROL_FAILED', `control socket of ${describe(name)}: ${err.message}`, { cause: err }));
      }
    });
    // The reply has no size limit (a status object may be megabytes): read until its newline, scanning each
    // chunk once.
    socket.on('data', (chunk: string) => {
      const at = chunk.indexOf('\n');
      buffered += chunk;
      if (at < 0) return;
      const reply = decodeReply(name, buffered.slice(0, buffered.length - chunk.length + at));
      if (reply instanceof AgentError) finish(reply);
      else finish(undefined, reply.result);
    });
    socket.on('end', () => finish(new AgentError('CONTROL_FAILED', `${describe(name)} closed the control connection without answering`)));
  });
}

/** Decodes one reply line into the result, or the AgentError to throw. */
function decodeReply(name: string, line: string): { result: unknown } | AgentError {
  let reply: unknown;
  try {
    reply = JSON.parse(line);
  } catch {
    return new AgentError('CONTROL_FAILED', `${describe(name)} sent a reply that is not JSON`);
  }
  const r = reply as { ok?: unknown; result?: unknown; error?: unknown } | null;
  if (r?.ok !== true) {
    return new AgentError('CONTROL_FAILED', `${describe(name)}: ${typeof r?.error === 'string' ? r.error : 'request failed'}`);
  }
  return { result: r.result };
}

function describe(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? name : `${name.slice(0, slash)} (instance ${name.slice(slash + 1)})`;
}
