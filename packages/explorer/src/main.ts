/**
 * The explorer page: picks a trace, steps through it, and draws the state
 * after the current step. All model work goes through {@link ExplorerSession};
 * this file only touches the DOM.
 */

import scenarios from 'virtual:mmsim-scenarios';
import { formatMapsKey } from '@mmsim/trace';
import type { MapRegion, MapSegment } from './address-map.js';
import { formatSize, hex, hex64, parseAddress } from './format.js';
import { VMA_KIND_LABELS } from './kinds.js';
import { X86_FLAG_MEANINGS, type PageWalk } from './page-walk.js';
import { ExplorerSession, LoadError, type StepEntry, type StepView } from './session.js';

// ---------------------------------------------------------------- DOM helpers

type Child = Node | string | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

const ui = {
  scenario: byId<HTMLSelectElement>('scenario'),
  openFile: byId<HTMLButtonElement>('open-file'),
  fileInput: byId<HTMLInputElement>('file-input'),
  edit: byId<HTMLButtonElement>('edit'),
  first: byId<HTMLButtonElement>('first'),
  prev: byId<HTMLButtonElement>('prev'),
  next: byId<HTMLButtonElement>('next'),
  last: byId<HTMLButtonElement>('last'),
  slider: byId<HTMLInputElement>('slider'),
  position: byId<HTMLOutputElement>('position'),
  help: byId<HTMLButtonElement>('help'),
  helpDialog: byId<HTMLDialogElement>('help-dialog'),
  current: byId<HTMLElement>('current'),
  summary: byId<HTMLElement>('summary'),
  steps: byId<HTMLOListElement>('steps'),
  map: byId<HTMLDivElement>('map'),
  mapFoot: byId<HTMLElement>('map-foot'),
  walkForm: byId<HTMLFormElement>('walk-form'),
  addr: byId<HTMLInputElement>('addr'),
  follow: byId<HTMLInputElement>('follow'),
  walkBody: byId<HTMLDivElement>('walk-body'),
  mapsText: byId<HTMLPreElement>('maps-text'),
  graph: byId<HTMLPreElement>('graph'),
  editor: byId<HTMLDialogElement>('editor'),
  editorForm: byId<HTMLFormElement>('editor-form'),
  editorText: byId<HTMLTextAreaElement>('editor-text'),
  editorError: byId<HTMLParagraphElement>('editor-error'),
  editorSteps: byId<HTMLButtonElement>('editor-steps'),
  editorCancel: byId<HTMLButtonElement>('editor-cancel'),
};

// ---------------------------------------------------------------- state

interface State {
  /** The value of the trace picker: a bundled scenario id, `file:NAME` or `custom`. */
  source: string;
  session: ExplorerSession;
  position: number;
  /** The address the page-table panel walks, if any. */
  address: bigint | undefined;
  view: StepView | undefined;
  /** Pool counters of the previous view, to mark what changed. */
  previousPools: Map<number, Record<string, number>>;
}

const DEFAULT_SCENARIO = 'seed-walkthrough';
let state: State;
let renderQueued = false;

/** `?` results and the like: how a result reads in a sentence. */
function resultWords(entry: StepEntry): string {
  return entry.step.kind === 'maps' ? entry.modelResult : `= ${entry.modelResult}`;
}

// ---------------------------------------------------------------- loading

function loadSession(source: string, session: ExplorerSession, position: number, address?: bigint): void {
  state = {
    source,
    session,
    position: Math.min(position, session.steps.length),
    address,
    view: undefined,
    previousPools: new Map(),
  };
  ui.slider.max = String(session.steps.length);
  renderStepList();
  if (address !== undefined) ui.addr.value = hex(address);
  scheduleRender();
}

function loadBundled(id: string, position = 0, address?: bigint): void {
  const sc = scenarios.find((s) => s.id === id) ?? scenarios[0]!;
  ui.scenario.value = sc.id;
  loadSession(sc.id, ExplorerSession.load(sc.text, sc.source), position, address);
}

function addOption(value: string, label: string): void {
  let opt = [...ui.scenario.options].find((o) => o.value === value);
  if (!opt) {
    opt = h('option', { value }, label);
    ui.scenario.append(opt);
  }
  opt.textContent = label;
  ui.scenario.value = value;
}

function buildPicker(): void {
  const groups = new Map<string, HTMLOptGroupElement>();
  for (const sc of scenarios) {
    let g = groups.get(sc.group);
    if (!g) {
      g = h('optgroup', { label: sc.group });
      groups.set(sc.group, g);
      ui.scenario.append(g);
    }
    g.append(h('option', { value: sc.id }, sc.title));
  }
}

// ---------------------------------------------------------------- navigation

function go(position: number): void {
  const n = state.session.steps.length;
  const p = Math.max(0, Math.min(n, position));
  if (p === state.position && state.view) return;
  state.position = p;
  scheduleRender();
}

function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

/** The address a step is about: what mmap returned, or what peek/poke/munmap/... name. */
function stepAddress(entry: StepEntry | undefined, view: StepView): bigint | undefined {
  if (!entry || entry.step.kind !== 'call') return undefined;
  const step = entry.step;
  const inSpace = (a: bigint): boolean => a > 0n && a < view.taskSize;
  if (step.call === 'mmap' || step.call === 'mmap_pgoff' || step.call === 'mremap') {
    const res = entry.modelResult;
    if (/^0x[0-9a-f]+$/.test(res)) {
      const a = BigInt(res);
      if (inSpace(a)) return a;
    }
    return undefined;
  }
  if (['peek', 'poke', 'rss', 'munmap', 'mprotect', 'madvise', 'mlock', 'munlock'].includes(step.call)) {
    const a = step.args[0];
    if (a && a.kind === 'number' && inSpace(a.value)) return a.value;
  }
  return undefined;
}

// ---------------------------------------------------------------- rendering

function render(): void {
  const { session } = state;
  const t0 = performance.now();
  const view = session.view(state.position);
  state.view = view;
  if (ui.follow.checked) {
    // The address of the latest step that names one (this step, or an earlier one).
    for (let p = view.position; p > 0; p--) {
      const a = stepAddress(session.steps[p - 1], view);
      if (a === undefined) continue;
      state.address = a;
      ui.addr.value = hex(a);
      break;
    }
  }
  renderPosition(view);
  renderCurrent(view);
  markCurrentStep(view);
  renderMap(view);
  renderWalk(view);
  renderMaps(view);
  renderGraph(view);
  updateHash();
  document.body.dataset['ready'] = 'true';
  document.body.dataset['position'] = String(view.position);
  document.body.dataset['renderMs'] = (performance.now() - t0).toFixed(0);
}

function renderPosition(view: StepView): void {
  const n = state.session.steps.length;
  ui.position.textContent = view.position === 0 ? `start · ${n} steps` : `step ${view.position} of ${n}`;
  ui.slider.value = String(view.position);
  ui.slider.setAttribute('aria-valuetext', ui.position.textContent);
  ui.first.disabled = ui.prev.disabled = view.position === 0;
  ui.next.disabled = ui.last.disabled = view.position === n;
}

function verdictBadge(entry: StepEntry): HTMLElement {
  switch (entry.verdict) {
    case 'match':
      return h('span', { class: 'badge ok', title: 'The model gives the recorded result' }, '✓ matches the recording');
    case 'diverge':
      return h('span', { class: 'badge bad', title: 'The model differs from the recorded result' }, '✗ differs from the recording');
    default:
      return h('span', { class: 'badge none', title: 'The trace records no result for this step' }, 'no recorded result');
  }
}

function renderCurrent(view: StepView): void {
  const entry = view.entry;
  const left = h('div', { class: 'now' });
  if (!entry) {
    const comments = state.session.trace.headerComments.filter((c) => c.trim() !== '');
    left.append(
      h('p', { class: 'step-line' }, h('span', { class: 'tag' }, 'start'), ' The state the trace header describes, before the first step.'),
      ...comments.slice(0, 3).map((c) => h('p', { class: 'narration' }, c)),
    );
  } else {
    for (const c of entry.comments.filter((c) => c.trim() !== '')) left.append(h('p', { class: 'narration' }, c));
    left.append(
      h(
        'p',
        { class: 'step-line' },
        h('span', { class: 'tag' }, `step ${entry.index + 1}`),
        h('code', {}, entry.label),
        ' ',
        h('code', { class: `result ${entry.verdict}` }, resultWords(entry)),
        ' ',
        verdictBadge(entry),
      ),
    );
    if (entry.verdict === 'diverge' && entry.divergence) {
      const d = entry.divergence;
      const detail =
        d.kind === 'maps'
          ? h(
              'span',
              {},
              `${countLines(d.actual, '+')} line(s) only in the model (red in /proc/PID/maps), ${countLines(d.expected, '-')} only in the recording (listed under it).`,
            )
          : h('span', {}, 'recorded ', h('code', {}, d.expected), ', model ', h('code', {}, d.actual), '.');
      left.append(
        h('p', { class: 'divergence', role: 'alert' }, h('strong', {}, `Differs from the trace (line ${entry.line}): `), detail),
      );
    }
  }
  const pools = h('table', { class: 'pools', 'aria-label': 'Huge page pools' });
  pools.append(
    h(
      'thead',
      {},
      h('tr', {}, h('th', { scope: 'col' }, 'huge pages'), ...['total', 'free', 'rsvd', 'surp', 'overcommit'].map((c) => h('th', { scope: 'col' }, c))),
    ),
  );
  const body = h('tbody');
  const nextPools = new Map<number, Record<string, number>>();
  for (const p of view.pools) {
    const values: Record<string, number> = { total: p.total, free: p.free, rsvd: p.rsvd, surp: p.surp, overcommit: p.overcommit };
    const before = state.previousPools.get(p.sizeKb);
    nextPools.set(p.sizeKb, values);
    body.append(
      h(
        'tr',
        { 'data-size-kb': p.sizeKb },
        h('th', { scope: 'row' }, p.sizeKb >= 1048576 ? '1 GiB' : p.sizeKb >= 1024 ? `${p.sizeKb / 1024} MiB` : `${p.sizeKb} kB`),
        ...Object.entries(values).map(([k, v]) =>
          h('td', { class: before && before[k] !== v ? 'changed' : undefined, 'data-counter': k }, String(v)),
        ),
      ),
    );
  }
  state.previousPools = nextPools;
  pools.append(body);
  ui.current.replaceChildren(left, pools);
}

/** Lines of a diff side that start with `mark` (`+` or `-`). */
function countLines(text: string, mark: string): number {
  return text.split('\n').filter((l) => l.startsWith(mark)).length;
}

function renderStepList(): void {
  const { session } = state;
  const items: HTMLElement[] = [];
  items.push(
    h('li', { class: 'step start', 'data-position': 0 }, h('span', { class: 'n' }, '0'), h('span', { class: 'text' }, 'start: the header’s state')),
  );
  for (const entry of session.steps) {
    for (const c of entry.comments) if (c.trim() !== '') items.push(h('li', { class: 'comment', 'aria-hidden': 'true' }, `# ${c}`));
    const mark = entry.verdict === 'match' ? '✓' : entry.verdict === 'diverge' ? '✗' : '·';
    const markTitle = entry.verdict === 'match' ? 'matches the recording' : entry.verdict === 'diverge' ? 'differs from the recording' : 'no recorded result';
    items.push(
      h(
        'li',
        { class: `step ${entry.verdict}`, 'data-position': entry.index + 1, title: `line ${entry.line}` },
        h('span', { class: 'n' }, String(entry.index + 1)),
        h('span', { class: 'text' }, h('code', {}, entry.label), ' ', h('code', { class: 'res' }, resultWords(entry))),
        h('span', { class: `mark ${entry.verdict}`, title: markTitle, 'aria-label': markTitle }, mark),
      ),
    );
  }
  ui.steps.replaceChildren(...items);
  const diverging = session.steps.length - session.matched - (session.steps.length - session.recorded);
  ui.summary.textContent =
    session.recorded === 0
      ? `· ${session.steps.length} steps, results from the model`
      : `· matched ${session.matched} of ${session.recorded} recorded steps${diverging ? ` · ${diverging} differ` : ''}`;
  ui.summary.classList.toggle('bad', diverging > 0);
}

function markCurrentStep(view: StepView): void {
  const old = ui.steps.querySelector('li.current');
  old?.classList.remove('current');
  old?.removeAttribute('aria-current');
  const li = ui.steps.querySelector<HTMLElement>(`li.step[data-position="${view.position}"]`);
  if (li) {
    li.classList.add('current');
    li.setAttribute('aria-current', 'step');
    scrollIntoViewIfNeeded(li, ui.steps);
  }
}

function scrollIntoViewIfNeeded(el: HTMLElement, container: HTMLElement): void {
  const c = container.getBoundingClientRect();
  const r = el.getBoundingClientRect();
  if (r.top < c.top + 4 || r.bottom > c.bottom - 4) {
    container.scrollTop += r.top - c.top - c.height / 3;
  }
}

// ---- the map

const GAP_HEIGHT = 18;

function rowHeight(bytes: bigint): number {
  const pages = Number(bytes >> 12n) || 1;
  return Math.round(Math.min(66, 36 + 2 * Math.log2(pages)));
}

function regionTitle(r: MapRegion): string {
  if (r.name) return r.name;
  return r.kind === 'anon' ? '[anon]' : '(no name)';
}

function renderMap(view: StepView): void {
  const rows: HTMLElement[] = [];
  const selected = state.address;
  for (const seg of view.segments) rows.push(segmentRow(seg, selected));
  ui.map.replaceChildren(...rows);
  const sel = ui.map.querySelector<HTMLElement>('.vma.selected');
  const focusable = sel ?? ui.map.querySelector<HTMLElement>('.vma');
  if (focusable) focusable.tabIndex = 0;
  if (sel) scrollIntoViewIfNeeded(sel, ui.map);
  const open = ui.mapFoot.querySelector('details')?.open ?? false;
  ui.mapFoot.replaceChildren(
    h(
      'details',
      { open },
      h('summary', {}, `${view.regions.length} mappings · TASK_SIZE ${hex(view.taskSize)} · mmap_base ${hex(view.mmapBase)}`),
      h('dl', { class: 'counters', 'aria-label': 'mm_struct counters' }, ...view.counters.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    ),
  );
}

function segmentRow(seg: MapSegment, selected: bigint | undefined): HTMLElement {
  if (seg.type === 'limit') {
    return h('div', { class: 'limit', 'aria-hidden': 'true' }, h('span', {}, `${seg.label} ${hex(seg.at)}`), h('span', {}, 'kernel space above'));
  }
  if (seg.type === 'gap') {
    const el = h(
      'div',
      { class: 'gap', 'data-start': hex(seg.start), 'aria-hidden': 'true', title: `${hex(seg.start)}–${hex(seg.end)} unmapped` },
      h('span', {}, `${formatSize(seg.end - seg.start)} unmapped`),
    );
    el.style.height = `${GAP_HEIGHT}px`;
    el.addEventListener('click', () => selectAddress(seg.start));
    return el;
  }
  const r = seg.region;
  const size = r.end - r.start;
  const isSel = selected !== undefined && selected >= r.start && selected < r.end;
  const label = `${regionTitle(r)}, ${VMA_KIND_LABELS[r.kind]}, ${r.perms}, ${hex(r.start)} to ${hex(r.end)}, ${formatSize(size)}`;
  const el = h(
    'div',
    {
      class: `vma ${r.kind}${isSel ? ' selected' : ''}`,
      role: 'option',
      tabindex: -1,
      'aria-selected': isSel ? 'true' : 'false',
      'aria-label': label,
      'data-index': r.index,
      'data-start': hex(r.start),
      'data-end': hex(r.end),
      'data-kind': r.kind,
      title: r.vmFlags ? `VmFlags: ${r.vmFlags}` : undefined,
    },
    h('span', { class: 'bar' }),
    h(
      'span',
      { class: 'label' },
      h('span', { class: 'l1' }, h('span', { class: 'name' }, regionTitle(r)), h('span', { class: 'perms' }, r.perms)),
      h('span', { class: 'l2' }, `${hex(r.start)}–${hex(r.end)} · ${formatSize(size)}${r.rssKb ? ` · Rss ${r.rssKb} kB` : ''}`),
    ),
  );
  el.style.height = `${rowHeight(size)}px`;
  if (isSel) {
    const frac = Number(((selected! - r.start) * 1000n) / size) / 1000;
    const marker = h('span', { class: 'marker', 'aria-hidden': 'true' });
    marker.style.top = `${(frac * 100).toFixed(2)}%`;
    el.append(marker);
  }
  el.addEventListener('click', (ev) => {
    const rect = el.getBoundingClientRect();
    const frac = Math.min(0.999, Math.max(0, (ev.clientY - rect.top) / rect.height));
    const pages = size >> 12n;
    const page = BigInt(Math.floor(frac * Number(pages)));
    selectAddress(r.start + (page << 12n));
  });
  return el;
}

function selectAddress(address: bigint): void {
  state.address = address;
  ui.follow.checked = false;
  ui.addr.value = hex(address);
  if (!state.view) return;
  renderMap(state.view);
  renderWalk(state.view);
  renderMaps(state.view);
  updateHash();
}

// ---- page-table walk

function renderWalk(view: StepView): void {
  const address = state.address;
  if (address === undefined) {
    ui.walkBody.replaceChildren(
      h('p', { class: 'muted hint' }, 'Click a mapping in the address space, or type an address, to see the walk through the page tables.'),
    );
    return;
  }
  const walk = ExplorerSession.walk(view, address);
  ui.walkBody.replaceChildren(addressBits(walk), walkTable(walk), walkOutcome(walk, view));
}

function addressBits(walk: PageWalk): HTMLElement {
  const parts = walk.steps.map((s, i) =>
    h('span', { class: `bits l${i}` }, h('b', {}, s.level), h('span', {}, String(s.index)), h('small', {}, `${s.bits[0]}:${s.bits[1]}`)),
  );
  parts.push(h('span', { class: 'bits off' }, h('b', {}, 'offset'), h('span', {}, hex(walk.address & 0xfffn)), h('small', {}, '11:0')));
  return h('div', { class: 'addr-bits', 'aria-label': `${hex(walk.address)} split into table indexes` }, h('code', { class: 'va' }, hex(walk.address)), ...parts);
}

function walkTable(walk: PageWalk): HTMLElement {
  const rows = walk.steps.map((s, i) =>
    h(
      'tr',
      { class: `lvl ${s.kind}`, 'data-level': s.level, 'data-kind': s.kind, 'data-index': s.index },
      h(
        'th',
        { scope: 'row' },
        h('span', { class: `lvl-tag l${i}` }, s.level),
        s.tablePfn === undefined ? null : h('small', { class: 'tpfn', title: `this ${s.level} table is the page at pfn ${hex(s.tablePfn)}` }, `pfn ${hex(s.tablePfn)}`),
      ),
      h('td', { class: 'num' }, String(s.index)),
      h('td', {}, s.entry === undefined ? h('span', { class: 'muted' }, 'not reached') : h('code', { class: 'entry' }, hex64(s.entry))),
      h(
        'td',
        { class: 'decoded' },
        s.kind === 'unreached'
          ? h('span', { class: 'muted' }, i > 0 && walk.steps[i - 1]!.kind === 'leaf' ? 'the huge leaf above maps this range' : '—')
          : h(
              'span',
              { class: 'flags' },
              ...(s.flags.length ? s.flags.map((f) => h('span', { class: `flag f-${f.replace(/=.*/, '')}`, title: X86_FLAG_MEANINGS[f] ?? f }, f)) : [h('span', { class: 'muted' }, 'no bits set')]),
            ),
        s.target ? h('span', { class: 'target' }, s.target) : null,
      ),
    ),
  );
  return h(
    'table',
    { class: 'walk', 'aria-label': `Page-table walk of ${hex(walk.address)}` },
    h('thead', {}, h('tr', {}, ...['level (table)', 'index', 'entry', 'decoded bits'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows),
  );
}

function walkOutcome(walk: PageWalk, view: StepView): HTMLElement {
  const region = view.regions.find((r) => walk.address >= r.start && walk.address < r.end);
  return h(
    'div',
    { class: 'outcome' },
    h('p', { class: walk.physical !== undefined ? 'ok' : 'muted' }, walk.outcome),
    region
      ? h(
          'p',
          { class: 'vma-info' },
          h('i', { class: `sw ${region.kind}` }),
          h('code', {}, `${region.start.toString(16)}-${region.end.toString(16)} ${region.perms} ${regionTitle(region)}`),
          region.vmFlags ? h('span', { class: 'muted' }, ` · VmFlags: ${region.vmFlags}`) : null,
        )
      : h('p', { class: 'muted' }, 'No VMA holds this address.'),
  );
}

// ---- /proc/PID/maps and the function graph

function renderMaps(view: StepView): void {
  const entry = view.entry;
  let recordedKeys: Set<string> | undefined;
  let missing: string[] = [];
  if (entry && entry.step.kind === 'maps' && entry.verdict === 'diverge') {
    recordedKeys = new Set(entry.step.lines.map(formatMapsKey));
    const shown = new Set(view.maps.map(formatMapsKey));
    missing = entry.step.lines.filter((l) => !shown.has(formatMapsKey(l))).map(formatMapsKey);
  }
  const lines = view.mapsText.split('\n');
  const nodes: Node[] = [];
  lines.forEach((line, i) => {
    if (i) nodes.push(document.createTextNode('\n'));
    const key = view.maps[i] ? formatMapsKey(view.maps[i]!) : '';
    const diff = recordedKeys && !recordedKeys.has(key);
    const region = view.regions[i];
    const sel = state.address !== undefined && region && state.address >= region.start && state.address < region.end;
    nodes.push(h('span', { class: `ml${diff ? ' diff-add' : ''}${sel ? ' sel' : ''}`, title: diff ? 'not in the recorded @maps block' : undefined }, line));
  });
  ui.mapsText.replaceChildren(...nodes);
  if (missing.length) {
    const extra = h('div', { class: 'diff-missing' }, h('strong', {}, 'Recorded, but not in the model:'), ...missing.map((m) => h('div', {}, `- ${m}`)));
    ui.mapsText.after(extra);
  }
  ui.mapsText.parentElement?.querySelectorAll('.diff-missing').forEach((el, i, all) => {
    if (!missing.length || i < all.length - 1) el.remove();
  });
}

const GRAPH_LINE = /^(#   )( *)([^\s(]+)(\(.*\))( \{| = [^=]*)$/;

function renderGraph(view: StepView): void {
  const nodes: (Node | string)[] = [];
  if (view.entry?.step.kind === 'maps') {
    const n = view.maps.length;
    ui.graph.replaceChildren(
      h('span', { class: 'g-step' }, '@maps'),
      '\n',
      h('span', { class: 'muted wrap' }, `A snapshot of /proc/PID/maps (${n} lines, in its panel): no kernel function runs.`),
    );
    return;
  }
  if (view.explain.length === 0) {
    ui.graph.replaceChildren(h('span', { class: 'muted' }, 'Step forward (→) to see the kernel functions each call goes through.'));
    return;
  }
  view.explain.forEach((line, i) => {
    if (i) nodes.push(document.createTextNode('\n'));
    if (i === 0) {
      nodes.push(h('span', { class: 'g-step' }, line));
      return;
    }
    const m = GRAPH_LINE.exec(line);
    if (m) {
      const [, hash, pad, fn, args, tail] = m as unknown as [string, string, string, string, string, string];
      nodes.push(hash, pad, h('span', { class: 'g-fn' }, fn), h('span', { class: 'g-args' }, args), resultSpan(tail));
      return;
    }
    const close = /^(#   )( *)(\} = )(.*)$/.exec(line);
    if (close) {
      nodes.push(close[1]!, close[2]!, '} ', resultSpan(`= ${close[4]!}`, true));
      return;
    }
    nodes.push(line);
  });
  if (view.explain.length === 1) {
    nodes.push('\n', h('span', { class: 'muted wrap' }, 'No modelled kernel function ran for this step: a load or store to a present page does not fault, and the file calls are not traced.'));
  }
  ui.graph.replaceChildren(...nodes);
  ui.graph.scrollTop = 0;
}

function resultSpan(tail: string, afterBrace = false): Node {
  if (tail === ' {') return document.createTextNode(tail);
  const value = tail.replace(/^ ?= /, '');
  const cls = value.startsWith('-E') ? 'g-err' : value === 'void' ? 'g-void' : 'g-val';
  const frag = document.createDocumentFragment();
  frag.append(afterBrace ? '= ' : ' = ', h('span', { class: cls }, value));
  return frag;
}

// ---------------------------------------------------------------- URL state

function updateHash(): void {
  const params = new URLSearchParams();
  if (scenarios.some((s) => s.id === state.source)) params.set('trace', state.source);
  params.set('step', String(state.position));
  if (state.address !== undefined && !ui.follow.checked) params.set('addr', hex(state.address));
  const hash = '#' + params.toString();
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

function readHash(): { trace: string; step: number; addr: bigint | undefined } {
  const params = new URLSearchParams(location.hash.slice(1));
  const step = Number(params.get('step') ?? '0');
  return {
    trace: params.get('trace') ?? DEFAULT_SCENARIO,
    step: Number.isFinite(step) ? step : 0,
    addr: parseAddress(params.get('addr') ?? ''),
  };
}

// ---------------------------------------------------------------- editor

function openEditor(): void {
  ui.editorText.value = state.session.text;
  ui.editorError.hidden = true;
  ui.editor.showModal();
  ui.editorText.focus();
}

function runEditor(): boolean {
  const text = ui.editorText.value;
  try {
    const session = ExplorerSession.load(text, 'typed', state.session.trace);
    addOption('custom', 'Custom (edited)');
    loadSession('custom', session, session.steps.length);
    return true;
  } catch (e) {
    ui.editorError.hidden = false;
    ui.editorError.textContent = e instanceof Error ? e.message : String(e);
    if (e instanceof LoadError && e.line > 0) selectLine(ui.editorText, e.line);
    return false;
  }
}

function selectLine(area: HTMLTextAreaElement, line: number): void {
  const lines = area.value.split('\n');
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  area.focus();
  area.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
}

// ---------------------------------------------------------------- events

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

function moveMapSelection(delta: number): void {
  const rows = [...ui.map.querySelectorAll<HTMLElement>('.vma')];
  if (!rows.length) return;
  const active = document.activeElement instanceof HTMLElement ? rows.indexOf(document.activeElement) : -1;
  const cur = active >= 0 ? active : rows.findIndex((r) => r.classList.contains('selected'));
  const next = Math.max(0, Math.min(rows.length - 1, cur < 0 ? 0 : cur + delta));
  const start = parseAddress(rows[next]!.dataset['start'] ?? '');
  if (start !== undefined) selectAddress(start);
  const row = ui.map.querySelectorAll<HTMLElement>('.vma')[next];
  row?.focus();
}

function wire(): void {
  ui.scenario.addEventListener('change', () => {
    const v = ui.scenario.value;
    if (scenarios.some((s) => s.id === v)) loadBundled(v, 0);
  });
  ui.first.addEventListener('click', () => go(0));
  ui.prev.addEventListener('click', () => go(state.position - 1));
  ui.next.addEventListener('click', () => go(state.position + 1));
  ui.last.addEventListener('click', () => go(state.session.steps.length));
  ui.slider.addEventListener('input', () => go(Number(ui.slider.value)));
  ui.steps.addEventListener('click', (ev) => {
    const li = (ev.target as HTMLElement).closest<HTMLElement>('li.step');
    if (li) go(Number(li.dataset['position']));
  });
  ui.steps.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      go(state.position + (ev.key === 'ArrowDown' ? 1 : -1));
    }
  });
  ui.map.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      moveMapSelection(ev.key === 'ArrowDown' ? 1 : -1);
    } else if (ev.key === 'Enter' || ev.key === ' ') {
      const row = (ev.target as HTMLElement).closest<HTMLElement>('.vma');
      const start = row && parseAddress(row.dataset['start'] ?? '');
      if (start !== undefined && start !== null) {
        ev.preventDefault();
        selectAddress(start);
        ui.map.querySelector<HTMLElement>(`.vma[data-start="${hex(start)}"]`)?.focus();
      }
    }
  });
  ui.walkForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const a = parseAddress(ui.addr.value);
    ui.addr.setCustomValidity(a === undefined ? 'a hex address, e.g. 0x7ffff7ff5000' : '');
    if (a === undefined) {
      ui.addr.reportValidity();
      return;
    }
    selectAddress(a);
  });
  ui.addr.addEventListener('input', () => ui.addr.setCustomValidity(''));
  ui.follow.addEventListener('change', () => {
    if (ui.follow.checked) {
      state.view = undefined;
      scheduleRender();
    }
  });
  ui.openFile.addEventListener('click', () => ui.fileInput.click());
  ui.fileInput.addEventListener('change', async () => {
    const file = ui.fileInput.files?.[0];
    if (!file) return;
    const text = await file.text();
    try {
      const session = ExplorerSession.load(text, file.name, text.startsWith('# mmsim-trace') ? undefined : state.session.trace);
      addOption(`file:${file.name}`, `File: ${file.name}`);
      loadSession(`file:${file.name}`, session, 0);
    } catch (e) {
      ui.current.prepend(h('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e)));
    }
    ui.fileInput.value = '';
  });
  ui.edit.addEventListener('click', openEditor);
  ui.editorCancel.addEventListener('click', () => ui.editor.close());
  ui.editorSteps.addEventListener('click', () => {
    ui.editorText.value =
      '# Steps run from the header of the trace shown; "?" lets the model answer.\n' +
      'mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ?\n' +
      'poke(0x7ffff7ff5000, 0x41) = ?\n' +
      'peek(0x7ffff7ff6000) = ?\n' +
      '@maps\n@end\n';
    ui.editorText.focus();
  });
  ui.editorForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (runEditor()) ui.editor.close();
  });
  ui.help.addEventListener('click', () => ui.helpDialog.showModal());
  document.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ui.editor.open || ui.helpDialog.open || isTyping(ev.target)) return;
    const n = state.session.steps.length;
    const keys: Record<string, () => void> = {
      ArrowRight: () => go(state.position + 1),
      ArrowLeft: () => go(state.position - 1),
      Home: () => go(0),
      End: () => go(n),
      PageDown: () => go(state.position + 10),
      PageUp: () => go(state.position - 10),
      a: () => ui.addr.focus(),
      e: openEditor,
      '?': () => ui.helpDialog.showModal(),
    };
    const action = keys[ev.key];
    if (!action) return;
    ev.preventDefault();
    action();
  });
}

// ---------------------------------------------------------------- start

function start(): void {
  // The API reference is beside the page only where `npm run docs` put it (docs/explorer/).
  const apiLink = document.getElementById('api-link');
  if (apiLink && !/\/explorer\/(index\.html)?$/.test(location.pathname)) apiLink.hidden = true;
  buildPicker();
  wire();
  const { trace, step, addr } = readHash();
  if (addr !== undefined) ui.follow.checked = false;
  try {
    loadBundled(trace, step, addr);
  } catch (e) {
    ui.current.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Cannot load ${trace}: ${(e as Error).message}`));
  }
}

start();
