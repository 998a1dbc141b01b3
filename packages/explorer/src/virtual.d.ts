/** The traces bundled at build time (see scripts/vite-plugins.ts). */
declare module 'virtual:mmsim-scenarios' {
  const scenarios: ReadonlyArray<{
    readonly id: string;
    readonly title: string;
    readonly group: string;
    readonly source: string;
    readonly text: string;
  }>;
  export default scenarios;
}
