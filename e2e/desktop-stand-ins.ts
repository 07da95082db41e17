/**
 * The page side of the desktop shell (desktop-shell.ts): stand-ins for the three Electron
 * modules the compiled preload requires, and the codec that carries structured-cloned values
 * across the Playwright binding (which speaks JSON). The codec functions run on both sides:
 * in Node as they are, in the page as their own source text.
 */

/** Replaces `Uint8Array`s (at any depth) by `{ __ivU8: [...] }` so JSON can carry them. */
export function encodeClone(value: unknown): unknown {
  if (value instanceof Uint8Array) return { __ivU8: Array.from(value) };
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => encodeClone(v));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = encodeClone(v);
  return out;
}

/** The inverse of `encodeClone`. */
export function decodeClone(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => decodeClone(v));
  const obj = value as Record<string, unknown>;
  if (Array.isArray(obj.__ivU8)) return Uint8Array.from(obj.__ivU8 as number[]);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = decodeClone(v);
  return out;
}

/**
 * The init script: defines the stand-ins, then runs `preloadSource` (the built CommonJS
 * preload) with a `require` that answers `electron` only, as a sandboxed preload's does.
 */
export function pageScript(preloadSource: string): string {
  return `(() => {
  const encodeClone = ${encodeClone.toString()};
  const decodeClone = ${decodeClone.toString()};
  const listeners = new Map();
  const droppedPaths = new Map();
  const electron = {
    contextBridge: {
      exposeInMainWorld(key, api) {
        Object.defineProperty(window, key, { value: Object.freeze({ ...api }) });
      },
    },
    ipcRenderer: {
      async invoke(channel, args) {
        const sent = encodeClone(structuredClone(args));
        return decodeClone(await window.__ivIpcInvoke(channel, sent));
      },
      on(channel, listener) {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel).add(listener);
      },
      removeListener(channel, listener) {
        listeners.get(channel)?.delete(listener);
      },
    },
    webUtils: { getPathForFile: (file) => droppedPaths.get(file.name) ?? '' },
  };
  Object.defineProperty(window, '__ivIpcEmit', {
    value(channel, payload) {
      for (const l of listeners.get(channel) ?? []) l({ sender: null }, decodeClone(payload));
    },
  });
  Object.defineProperty(window, '__ivDrop', {
    value(path, target) {
      const file = new File([new Uint8Array(1)], path.slice(path.lastIndexOf('/') + 1));
      droppedPaths.set(file.name, path);
      const dt = new DataTransfer();
      dt.items.add(file);
      for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
      }
    },
  });
  const module = { exports: {} };
  const require = (name) => {
    if (name !== 'electron') throw new Error('a sandboxed preload cannot require ' + name);
    return electron;
  };
  (function (require, module, exports) {
${preloadSource}
  })(require, module, module.exports);
})();`;
}
