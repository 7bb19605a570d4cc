// Deployed functions, the deploy form's state, the event being edited and the last run of each function.

import { createStore } from 'zustand/vanilla';
import { errorCode, errorMessage } from '../bridge/errors';
import type { DeploySource, FunctionInfo, Published, RunOutcome, SockpitBridge } from '../bridge/types';
import { tarOfFiles, type UploadFile } from '../lib/upload';

export interface RunView {
  running: boolean;
  /** what the service answered (status 200 or an error body) */
  outcome: RunOutcome | null;
  /** the call itself failed (service unreachable...) */
  failure: string | null;
  /** ms the call took as the panel saw it */
  clientMs: number | null;
  at: number;
}

export interface FunctionsStore {
  functions: FunctionInfo[];
  loaded: boolean;
  loadError: string | null;
  selected: string | null;
  /** the JSON event text per function */
  events: Record<string, string>;
  runs: Record<string, RunView>;
  deploying: boolean;
  deployError: string | null;
  deployMessage: string | null;
  refresh(): Promise<void>;
  select(name: string | null): void;
  setEvent(name: string, text: string): void;
  /** a folder path (Electron: its main process reads it as the desktop user) or files picked in the page */
  deploy(source: PickedSource, name: string): Promise<boolean>;
  remove(name: string): Promise<void>;
  invoke(name: string): Promise<void>;
  /** an event of the stream: fills in the Zygote of a run the answer did not name */
  onEvent(event: Published): void;
}

export const DEFAULT_EVENT = '{}';

/** What the deploy form has: a path (Electron), or files the page read from a folder or zip input (web). */
export type PickedSource = { folder: string } | { files: UploadFile[]; label: string };

/** The run the invocation event describes, with its Zygote filled in when the run's answer lacked it. */
export function withZygoteFromEvent(runs: Record<string, RunView>, event: Published): Record<string, RunView> {
  if (event.type !== 'invocation' || !event.zygote) return runs;
  const run = runs[event.function];
  const outcome = run?.outcome;
  if (!outcome || outcome.tier !== 'zygote' || outcome.sandbox !== event.sandbox || outcome.zygote) return runs;
  return { ...runs, [event.function]: { ...run, outcome: { ...outcome, zygote: event.zygote } } };
}

/** Keeps the selection valid for a new list: the same name when still there, else the first, else none. */
export function keepSelection(selected: string | null, functions: readonly FunctionInfo[]): string | null {
  if (selected && functions.some((f) => f.name === selected)) return selected;
  return functions[0]?.name ?? null;
}

export function createFunctionsStore(bridge: Pick<SockpitBridge, 'listFunctions' | 'deploy' | 'remove' | 'run'>, now: () => number = () => performance.now()) {
  /** sandbox → Zygote of recent invocation events: the event can arrive before the run's answer */
  const recentZygotes = new Map<string, string>();
  return createStore<FunctionsStore>()((set, get) => ({
    functions: [],
    loaded: false,
    loadError: null,
    selected: null,
    events: {},
    runs: {},
    deploying: false,
    deployError: null,
    deployMessage: null,

    async refresh() {
      try {
        const functions = [...(await bridge.listFunctions())].sort((a, b) => a.name.localeCompare(b.name));
        set({ functions, loaded: true, loadError: null, selected: keepSelection(get().selected, functions) });
      } catch (err) {
        set({ loadError: errorMessage(err) });
      }
    },

    select(name) {
      set({ selected: name });
    },

    setEvent(name, text) {
      set({ events: { ...get().events, [name]: text } });
    },

    async deploy(picked, name) {
      const problem = 'folder' in picked ? (picked.folder.trim() ? null : 'Choose the folder that holds f.py.') : picked.files.length ? null : 'Choose a folder or a zip that holds f.py.';
      if (problem) {
        set({ deployError: problem });
        return false;
      }
      set({ deploying: true, deployError: null, deployMessage: null });
      try {
        const source: DeploySource = 'folder' in picked ? { folder: picked.folder.trim() } : { archive: tarOfFiles(picked.files), label: picked.label };
        const fn = await bridge.deploy(name, source);
        set({ deploying: false, deployMessage: `Deployed ${fn.name} v${fn.version}`, selected: fn.name });
        await get().refresh();
        set({ selected: fn.name });
        return true;
      } catch (err) {
        const code = errorCode(err);
        set({ deploying: false, deployError: code ? `${errorMessage(err)} (${code})` : errorMessage(err) });
        return false;
      }
    },

    async remove(name) {
      try {
        await bridge.remove(name);
      } catch (err) {
        set({ loadError: errorMessage(err) });
      }
      await get().refresh();
    },

    async invoke(name) {
      const text = get().events[name] ?? DEFAULT_EVENT;
      const started = now();
      set({ runs: { ...get().runs, [name]: { running: true, outcome: get().runs[name]?.outcome ?? null, failure: null, clientMs: null, at: Date.now() } } });
      try {
        let outcome = (await bridge.run(name, text)) as RunOutcome;
        if (outcome.tier === 'zygote' && !outcome.zygote && outcome.sandbox && recentZygotes.has(outcome.sandbox)) outcome = { ...outcome, zygote: recentZygotes.get(outcome.sandbox) };
        set({ runs: { ...get().runs, [name]: { running: false, outcome, failure: null, clientMs: now() - started, at: Date.now() } } });
      } catch (err) {
        set({ runs: { ...get().runs, [name]: { running: false, outcome: null, failure: errorMessage(err), clientMs: null, at: Date.now() } } });
      }
    },

    onEvent(event) {
      if (event.type === 'invocation' && event.zygote) {
        recentZygotes.set(event.sandbox, event.zygote);
        if (recentZygotes.size > 64) recentZygotes.delete(recentZygotes.keys().next().value as string);
      }
      const runs = withZygoteFromEvent(get().runs, event);
      if (runs !== get().runs) set({ runs });
    },
  }));
}
