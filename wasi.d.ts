// Types of `cranewasm/wasi`: node:wasi's WASI class, for cranewasm instances.
export interface WASIOptions {
  /** Required, as in Node 20: 'preview1' (wasi_snapshot_preview1) or 'unstable' (wasi_unstable). */
  version: 'preview1' | 'unstable';
  args?: string[] | undefined;
  env?: object | undefined;
  /** Guest path → host directory: the program reaches files only beneath these. */
  preopens?: Record<string, string> | undefined;
  /** Default true: start() returns proc_exit's code; false: proc_exit exits the process. */
  returnOnExit?: boolean | undefined;
  stdin?: number | undefined;
  stdout?: number | undefined;
  stderr?: number | undefined;
}

export class WASI {
  constructor(options: WASIOptions);
  readonly wasiImport: Record<string, (...args: any[]) => any>;
  getImportObject(): Record<string, Record<string, (...args: any[]) => any>>;
  start(instance: object): number;
  initialize(instance: object): void;
}
